"""After a rolled-back live migration: ERROR the instance when its source
host's compute service is disabled or forced down.

A host is disabled (or forced down) when it is being evacuated because it
failed or degraded.  An instance whose live migration off that host rolled
back would otherwise sit ACTIVE on a host nothing will schedule to or
recover from; in ERROR, with a fault saying why, it can be recovered by
evacuation, or rebuilt or rebooted once the host is enabled again.
"""

from nova import exception
from nova import objects
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class LiveMigrationRolledBack(exception.NovaException):
    msg_fmt = ('Live migration to %(dest)s rolled back to source host '
               '%(host)s, whose compute service is %(state)s: %(why)s. '
               'Recover by evacuation, or rebuild or reboot once the host '
               'is enabled.')


def _service_state(context, host):
    """``'disabled'``, ``'forced down'``, both, or None when the compute
    service of ``host`` is up and enabled (or cannot be found)."""
    try:
        service = objects.Service.get_by_compute_host(context, host)
    except exception.NotFound:
        return None
    states = []
    if service.disabled:
        states.append('disabled')
    if service.forced_down:
        states.append('forced down')
    return ' and '.join(states) or None


def error_if_source_down(context, instance, dest, why):
    """Set ``instance`` (rolled back to ``instance.host``) to ERROR with a
    fault when that host's compute service is disabled or forced down.

    :returns: True when the instance was set to ERROR.
    """
    state = _service_state(context, instance.host)
    if state is None:
        return False
    fault = LiveMigrationRolledBack(dest=dest, host=instance.host,
                                    state=state, why=why)
    LOG.error('%s', fault.format_message(), instance=instance)
    instance.vm_state = vm_states.ERROR
    instance.task_state = None
    instance.save()
    compute_utils.add_instance_fault_from_exc(context, instance, fault)
    return True
