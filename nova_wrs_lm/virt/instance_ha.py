"""Instance HA inside the libvirt driver: restart, on its own host, a guest
that ended without Nova asking (issue 17; Masakari's "Instance Restart").

The rule (doc/instance-ha.md), checked by :func:`why_not`: a guest is
restarted when all of these hold:

- the instance is tagged: its metadata sets ``[wrs_lm]
  ha_enabled_metadata_key`` (default ``HA_Enabled``) to true, or does not
  set it and ``[wrs_lm] restart_all_instances`` is true (the spec table's
  ``instance_ha`` setting);
- the guest ended without Nova asking: libvirt's STOPPED reason is
  ``failed`` (QEMU died: ``kill -9``), ``crashed``, ``destroyed`` (a virsh
  destroy from outside) or, with ``[wrs_lm] restart_on_guest_shutdown``,
  ``shutdown``; ``migrated``, ``saved`` and ``from_snapshot`` are always
  Nova's.  Whether Nova asked is known from the instance itself, re-read
  under the per-instance lock Nova's compute manager holds for its own
  operations: every end Nova asks for (stop, reboot, delete, shelve,
  suspend, rescue, migrate, resize, evacuate, live migration, a power-state
  sync's stop) has a task state set (by the API, before the compute is
  asked), or leaves the instance in another vm_state or on another host;
- the instance is ACTIVE with no task state, on this host, and its compute
  service is not disabled with a ``maintenance:`` reason;
- it has had fewer than ``[wrs_lm] restart_max_attempts`` restarts in the
  last ``[wrs_lm] restart_window`` seconds (counted from its
  :data:`ACTION` instance actions); otherwise it goes to ERROR with a fault
  (:class:`RestartLimitReached`) and is left alone.

Otherwise Nova's behaviour stands: the STOPPED event goes on to Nova's own
path (:class:`EventGate`), 15 s later the power-state sync makes an ACTIVE
instance SHUTOFF.  A restarted guest's STOPPED event never reaches that
path, so neither Nova's delayed event nor its sync can stop it afterwards.
"""

import dataclasses
import datetime
import threading

from nova import context as nova_context
from nova import exception
from nova import objects
from nova import thread_pool_factory
from nova import utils
from nova.compute import power_state
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova.virt import event as virtevent
from oslo_log import log as logging
from oslo_utils import timeutils

from nova_wrs_lm import instance_actions
from nova_wrs_lm import resolver
from nova_wrs_lm import spec_table
from nova_wrs_lm.virt import rollback

LOG = logging.getLogger(__name__)

#: The instance action of a restart (``openstack server event list``).
ACTION = instance_actions.HA_RESTART

#: ``disabled_reason`` prefix of a host in maintenance (``nova-wrs-lm host
#: drain --for maintenance`` sets it): no HA there (seed 003).
MAINTENANCE_PREFIX = 'maintenance:'

#: libvirt's VIR_DOMAIN_EVENT_STOPPED details, by number (libvirt's
#: numbering; Nova's fake libvirt defines only some of the constants).
SHUTDOWN, DESTROYED, CRASHED, MIGRATED, SAVED, FAILED, FROM_SNAPSHOT = (
    range(7))
REASONS = {SHUTDOWN: 'shutdown', DESTROYED: 'destroyed',
           CRASHED: 'crashed', MIGRATED: 'migrated', SAVED: 'saved',
           FAILED: 'failed', FROM_SNAPSHOT: 'from_snapshot'}
#: Ends that may be a death (the rest are always Nova's own).
_DEATHS = (DESTROYED, CRASHED, FAILED)

#: virDomainShutoffReason (a domain found shut off) -> the STOPPED detail
#: it corresponds to; DAEMON (libvirtd restarted and found QEMU gone) is a
#: death.
_SHUTOFF_REASONS = {1: SHUTDOWN, 2: DESTROYED, 3: CRASHED, 4: MIGRATED,
                    5: SAVED, 6: FAILED, 7: FROM_SNAPSHOT, 8: FAILED}

#: What Nova's instance records are read with.
_ATTRS = ['metadata', 'info_cache', 'system_metadata', 'flavor']


class RestartLimitReached(exception.NovaException):
    msg_fmt = ('Instance HA: %(count)d restart(s) within %(window)d s '
               'failed to keep the guest running ([wrs_lm] '
               'restart_max_attempts = %(max)d); it ended again (%(cause)s) '
               'and is left stopped. Fix the guest, then hard-reboot the '
               'instance.')


class StoppedEvent(virtevent.LifecycleEvent):
    """Nova's STOPPED lifecycle event with libvirt's detail (Nova's own
    event drops it)."""

    def __init__(self, uuid, detail, timestamp=None):
        super().__init__(uuid, virtevent.EVENT_LIFECYCLE_STOPPED, timestamp)
        self.detail = detail


def cause(detail):
    """libvirt's reason as the record names it."""
    if detail is None:
        return 'found shut off when nova-compute started'
    return 'libvirt: stopped, %s' % REASONS.get(detail, detail)


def may_be_ours(detail, conf):
    """Whether an end with this libvirt detail can be restarted at all
    (known without reading the instance)."""
    if detail is None or detail in _DEATHS:
        return True
    return detail == SHUTDOWN and conf.wrs_lm.restart_on_guest_shutdown


def shutoff_detail(reason):
    """The STOPPED detail of a domain found shut off with ``reason``
    (virDomainShutoffReason), None when unknown."""
    return _SHUTOFF_REASONS.get(reason)


def tagged(instance, conf):
    """Whether the instance is HA-enabled (the spec table's
    ``instance_ha`` setting; an invalid stored value is ignored)."""
    choice, ignored = resolver.resolve_one(
        spec_table.INSTANCE_HA, conf, instance=dict(instance.metadata or {}))
    for value in ignored:
        LOG.warning('Instance HA: ignoring %(key)s=%(value)r: %(why)s',
                    {'key': value.key, 'value': value.value,
                     'why': value.message or value.why}, instance=instance)
    return bool(choice.value)


def in_maintenance(service):
    return bool(service is not None and service.disabled and
                rollback.marks_failure(service.disabled_reason,
                                       [MAINTENANCE_PREFIX]))


def why_not(instance, host, detail, conf, service=None):
    """Why the guest of ``instance`` must not be restarted, or None.

    :param host: this compute's host name.
    :param detail: libvirt's STOPPED detail (None: found shut off at
        start-up, reason unknown).
    :param service: this host's compute service (None: not checked).
    """
    if not may_be_ours(detail, conf):
        return 'ended by %s' % cause(detail)
    if instance.host != host:
        return 'on host %s' % instance.host
    if instance.vm_state != vm_states.ACTIVE:
        return 'vm_state %s' % instance.vm_state
    if instance.task_state is not None:
        return 'task_state %s' % instance.task_state
    if not tagged(instance, conf):
        return 'not HA-enabled'
    if in_maintenance(service):
        return 'compute service disabled for maintenance (%r)' % (
            service.disabled_reason)
    return None


def recent_restarts(context, instance_uuid, window, now=None):
    """How many :data:`ACTION` actions the instance has had in the last
    ``window`` seconds."""
    now = now or timeutils.utcnow()
    since = now - datetime.timedelta(seconds=window)
    # (Nova's changes-since filter looks at updated_at, which an action
    # may not have: the start time is what counts.)
    actions = objects.InstanceActionList.get_by_instance_uuid(
        context, instance_uuid)
    return sum(1 for a in actions
               if a.action == ACTION and a.start_time is not None and
               timeutils.normalize_time(a.start_time) >= since)


@dataclasses.dataclass
class Decision:
    restarted: bool
    why: str = ''


class InstanceHA:
    """The restart of one driver's guests.

    :param driver: the libvirt driver (its ``_host`` and ``plug_vifs``).
    :param conf: Nova's CONF.
    """

    def __init__(self, driver, conf):
        self._driver = driver
        self._conf = conf
        #: This compute's host name (set by the driver's init_host).
        self.host = None

    def handle(self, instance_uuid, detail):
        """Restart the guest of ``instance_uuid`` if the rule says so;
        never raises."""
        try:
            return self._handle(instance_uuid, detail)
        except Exception as exc:
            LOG.exception('Instance HA: could not handle the end of the '
                          'guest', instance_uuid=instance_uuid)
            return Decision(False, 'error: %s' % exc)

    def _read(self, context, instance_uuid):
        return objects.Instance.get_by_uuid(context, instance_uuid,
                                            expected_attrs=_ATTRS)

    def _service(self, context):
        try:
            return objects.Service.get_by_compute_host(context, self.host)
        except exception.NotFound:
            return None

    def _handle(self, instance_uuid, detail):
        context = nova_context.get_admin_context()
        try:
            instance = self._read(context, instance_uuid)
        except exception.InstanceNotFound:
            return Decision(False, 'no such instance')
        # A first look without the lock: Nova's own operations (a delete,
        # a stop) are never kept waiting for an instance that is not ours.
        why = why_not(instance, self.host, detail, self._conf)
        if why:
            LOG.debug('Instance HA: not restarting: %s', why,
                      instance=instance)
            return Decision(False, why)

        # The lock Nova's ComputeManager holds for its operations
        # (utils.synchronized(instance.uuid)): an operation Nova started
        # finishes first, and a stop or delete that comes during the
        # restart runs after it (the guest is then stopped or deleted).
        @utils.synchronized(instance_uuid)
        def locked():
            return self._restart_locked(context, instance_uuid, detail)
        return locked()

    def _restart_locked(self, context, instance_uuid, detail):
        try:
            instance = self._read(context, instance_uuid)
        except exception.InstanceNotFound:
            return Decision(False, 'deleted')
        why = why_not(instance, self.host, detail, self._conf,
                      self._service(context))
        if why:
            LOG.debug('Instance HA: not restarting: %s', why,
                      instance=instance)
            return Decision(False, why)
        host = self._driver._host
        try:
            guest = host.get_guest(instance)
        except exception.InstanceNotFound:
            LOG.warning('Instance HA: the guest has no libvirt domain; '
                        'Nova\'s behaviour stands.', instance=instance)
            return Decision(False, 'no domain')
        if guest.get_power_state(host) != power_state.SHUTDOWN:
            # Started again already (by Nova: a reboot's second half).
            return Decision(False, 'domain not shut off')

        conf = self._conf.wrs_lm
        count = recent_restarts(context, instance.uuid, conf.restart_window)
        if count >= conf.restart_max_attempts:
            self._give_up(context, instance, detail, count)
            return Decision(False, 'restart limit reached')

        attempt = count + 1
        objects.InstanceAction.action_start(context, instance.uuid, ACTION,
                                            want_result=False)
        event = '%s (%s; attempt %d of %d)' % (
            'ha_restart', cause(detail), attempt, conf.restart_max_attempts)
        with compute_utils.EventReporter(context, event, self.host,
                                         instance.uuid):
            self._driver.plug_vifs(instance, instance.get_network_info())
            guest.launch()
        LOG.info('Instance HA: restarted the guest on %(host)s after it '
                 'ended without Nova asking (%(cause)s); attempt '
                 '%(attempt)d of %(max)d within %(window)d s.',
                 {'host': self.host, 'cause': cause(detail),
                  'attempt': attempt, 'max': conf.restart_max_attempts,
                  'window': conf.restart_window}, instance=instance)
        instance.power_state = power_state.RUNNING
        try:
            instance.save(expected_vm_state=[vm_states.ACTIVE],
                          expected_task_state=[None])
        except exception.InstanceUpdateConflict as exc:
            # (Nova 34's _instance_update raises InstanceUpdateConflict or
            # a subclass: UnexpectedTaskStateError,
            # UnexpectedDeletingTaskStateError for a delete.)
            # A user's operation was accepted during the restart: it runs
            # once the lock is released, and its own save sets the state.
            LOG.info('Instance HA: %s arrived during the restart; it '
                     'applies next.', exc, instance=instance)
        return Decision(True)

    def _give_up(self, context, instance, detail, count):
        conf = self._conf.wrs_lm
        fault = RestartLimitReached(count=count, window=conf.restart_window,
                                    max=conf.restart_max_attempts,
                                    cause=cause(detail))
        LOG.error('%s', fault.format_message(), instance=instance)
        instance.vm_state = vm_states.ERROR
        instance.power_state = power_state.SHUTDOWN
        instance.save(expected_task_state=[None])
        compute_utils.add_instance_fault_from_exc(context, instance, fault)

    def at_startup(self, context, instances):
        """nova-compute starts: restart the tagged ACTIVE guests found not
        running (they died while nova-compute was not running)."""
        host = self._driver._host
        for instance in instances:
            if why_not(instance, self.host, None, self._conf):
                continue
            try:
                guest = host.get_guest(instance)
                if guest.get_power_state(host) != power_state.SHUTDOWN:
                    continue
                detail = shutoff_detail(_shutoff_reason(guest))
            except exception.InstanceNotFound:
                continue
            if detail is not None and not may_be_ours(detail, self._conf):
                continue
            self.handle(instance.uuid, detail)


def _shutoff_reason(guest):
    """virDomainShutoffReason of a shut-off guest, None if unknown."""
    try:
        state, reason = guest._domain.state()
    except Exception:
        return None
    return reason


class EventGate:
    """Between libvirt's lifecycle events and Nova's delayed path.

    A STOPPED event that may be a death is held back from Nova's path
    (``forward``: ``Host._event_emit_delayed``) while a worker applies the
    rule; it goes on to Nova's path only if the guest is not restarted and
    no newer event of the domain went on meanwhile (Nova's path drops a
    pending STOPPED event when any other event of the domain arrives).
    Every other event goes on at once.
    """

    def __init__(self, forward, handle, conf, spawn=None):
        self._forward = forward
        self._handle = handle
        self._conf = conf
        self._spawn = spawn or thread_pool_factory.spawn
        self._lock = threading.Lock()
        self._held = {}

    def emit(self, event):
        if (isinstance(event, StoppedEvent) and
                may_be_ours(event.detail, self._conf)):
            token = object()
            with self._lock:
                self._held[event.uuid] = token
            self._spawn(self._decide, event, token)
            return
        if isinstance(event, virtevent.LifecycleEvent):
            with self._lock:
                self._held.pop(event.uuid, None)
        self._forward(event)

    def _decide(self, event, token):
        decision = self._handle(event.uuid, event.detail)
        with self._lock:
            current = self._held.get(event.uuid) is token
            if current:
                del self._held[event.uuid]
        if current and not decision.restarted:
            self._forward(event)
