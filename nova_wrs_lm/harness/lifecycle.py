"""libvirt lifecycle events in Nova's in-process cloud.

Nova's libvirt functional harness (Nova 34.0.0) mocks ``Host.get_connection``
and ``Host._init_events``: no lifecycle callback is registered on the fake
connection, there is no delayed executor and no dispatch, so no event ever
reaches the driver (see /work/shared/notes/lifecycle-events.md).
:class:`LifecycleEvents` does for one compute what
``Host._get_new_connection`` and ``Host._init_events`` do in a running
nova-compute: registers the host's ``_event_lifecycle_callback`` on the
fake connection, gives the host a native-threading event handler (events
are dispatched in the thread that emits them) and Nova's delaying executor
for STOPPED events.

Differences from a real nova-compute, on purpose:

- Nova's STOPPED delay is ``delay`` seconds (default 1, Nova's is 15): the
  delay only decides when Nova's power-state sync runs, never whether it
  does;
- fake libvirt reports every end Nova makes (``Domain.destroy()``,
  ``shutdown()``) with STOPPED detail 0 (libvirt's SHUTDOWN); Nova's
  power-off, delete and hard reboot end in a virDomainDestroy, which real
  libvirt reports as DESTROYED, so the fixture reports that
  (``destroy_detail``): an end the rule must refuse by the instance's
  state, not by libvirt's reason;
- :meth:`end` ends a domain the way something outside Nova does (QEMU
  killed: detail FAILED), without going through ``destroy()``.
"""

import fixtures
from nova import thread_pool_factory
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt import event as virtevent
from nova.virt.libvirt import host as libvirt_host

#: libvirt's STOPPED details (fake libvirt lacks some constants).
SHUTDOWN, DESTROYED, CRASHED, MIGRATED, SAVED, FAILED = range(6)


class LifecycleEvents(fixtures.Fixture):
    """Deliver the lifecycle events of one compute's fake libvirt to its
    driver; ``forwarded`` lists the events that went on to Nova's delayed
    path (``Host._event_emit_delayed``)."""

    def __init__(self, compute, delay=1.0, destroy_detail=DESTROYED):
        super().__init__()
        self.compute = compute
        self.delay = delay
        self.destroy_detail = destroy_detail
        self.forwarded = []

    def _setUp(self):
        host = self.compute.driver._host
        self.connection = host.get_connection()
        host._event_handler = libvirt_host._ThreadingLibvirtEventHandler(
            host._connection_closed, host._event_emit_delayed)
        host._delayed_executor = (
            thread_pool_factory.StaticallyDelayingCancellableTaskExecutorWrapper(
                delay=self.delay, executor=thread_pool_factory.get_executor(
                    thread_pool_factory.ExecutorType.DEFAULT)))
        self.addCleanup(self._stop, host)
        gate = getattr(host, 'gate', None)
        if gate is not None:
            forward = gate._forward

            def recording(event):
                self.forwarded.append(event)
                return forward(event)
            gate._forward = recording

        callback = host._event_lifecycle_callback

        def lifecycle(conn, dom, event, detail, opaque):
            if (event == fakelibvirt.VIR_DOMAIN_EVENT_STOPPED and
                    detail == 0 and self._from_destroy):
                detail = self.destroy_detail
            return callback(conn, dom, event, detail, opaque)

        self._from_destroy = True
        self.connection.domainEventRegisterAny(
            None, fakelibvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, host)
        self.addCleanup(self.connection._event_callbacks.pop,
                        fakelibvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, None)

    @staticmethod
    def _stop(host):
        # As Host.cleanup (which a compute's stop has maybe run already).
        for future in list(host._events_delayed.values()):
            future.cancel()
        try:
            host._delayed_executor.shutdown(wait=True)
        except Exception:  # noqa: S110 (already shut down)
            pass

    def domain(self, instance_uuid):
        return self.connection.lookupByUUIDString(instance_uuid)

    def running(self, instance_uuid):
        return bool(self.domain(instance_uuid).isActive())

    def end(self, instance_uuid, detail=FAILED, emit=True):
        """End the instance's domain from outside Nova (``kill -9`` of its
        QEMU: STOPPED with detail FAILED); ``emit=False``: no event, as
        when nova-compute is not running."""
        dom = end_silently(self.connection, instance_uuid)
        if emit:
            self._from_destroy = False
            try:
                self.connection._emit_lifecycle(
                    dom, fakelibvirt.VIR_DOMAIN_EVENT_STOPPED, detail)
            finally:
                self._from_destroy = True

    def stopped_forwarded(self, instance_uuid):
        """The STOPPED events of the instance that went on to Nova's
        delayed path."""
        stopped = virtevent.EVENT_LIFECYCLE_STOPPED
        return [e for e in self.forwarded
                if e.uuid == instance_uuid and e.transition == stopped]


def end_silently(connection, instance_uuid):
    """Set the instance's fake domain shut off without any event (what
    ``Domain.destroy()`` does, minus its STOPPED event)."""
    dom = connection.lookupByUUIDString(instance_uuid)
    dom._state = fakelibvirt.VIR_DOMAIN_SHUTOFF
    dom._id = -1
    for key, running in list(connection._running_vms.items()):
        if running is dom:
            del connection._running_vms[key]
    return dom
