"""Nova's libvirt ``Host`` with libvirt's STOPPED reason kept and a gate in
front of its delayed event path (instance HA, :mod:`.instance_ha`)."""

from nova.virt.libvirt import host as libvirt_host

from nova_wrs_lm.virt import instance_ha


class Host(libvirt_host.Host):
    """Nova's Host; ``gate`` (an :class:`instance_ha.EventGate`, set by the
    driver) sees every lifecycle event before Nova's delayed path."""

    #: The instance-HA gate, or None (Nova's behaviour).
    gate = None

    # Wraps Host._event_lifecycle_callback (Nova 34.0.0), registered by
    # Host._get_new_connection for VIR_DOMAIN_EVENT_ID_LIFECYCLE: a STOPPED
    # event is queued as an instance_ha.StoppedEvent that keeps libvirt's
    # detail (Nova's LifecycleEvent drops it); other events are Nova's.
    # Runs in libvirt's native event thread: no logging, only libvirt calls
    # and _event_handler._queue_event, as Nova's.
    @staticmethod
    def _event_lifecycle_callback(conn, dom, event, detail, opaque):
        if event == libvirt_host.libvirt.VIR_DOMAIN_EVENT_STOPPED:
            opaque._event_handler._queue_event(
                instance_ha.StoppedEvent(dom.UUIDString(), detail))
            return
        libvirt_host.Host._event_lifecycle_callback(conn, dom, event, detail,
                                                    opaque)

    # Wraps Host._event_emit_delayed (Nova 34.0.0), where Nova holds a
    # STOPPED event back 15 s: the gate sees the event first and passes it
    # on here (nova_wrs_lm.virt.instance_ha.EventGate), except the STOPPED
    # event of a guest it restarted.
    def _event_emit_delayed(self, event):
        if self.gate is None:
            return self._nova_emit_delayed(event)
        return self.gate.emit(event)

    def _nova_emit_delayed(self, event):
        return super()._event_emit_delayed(event)
