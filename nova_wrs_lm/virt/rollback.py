"""After a rolled-back live migration: ERROR the instance when its source
host has failed.

The source counts as failed when its compute service is **forced down**,
or **disabled with a reason that marks a failure**: one that starts with
one of ``[wrs_lm] failure_disabled_reason_prefixes`` (default
``failure:``; case and leading spaces ignored), as ``nova-wrs-lm host drain
--for failure`` sets it.  An instance whose migration off such a host
rolled back would otherwise sit ACTIVE on a host nothing will schedule to
or recover from; in ERROR, with a fault saying why, it can be recovered by
evacuation, or rebooted once the host is enabled again (``nova-wrs-lm host
enable``).

A host disabled for any other reason (none, ``maintenance: ...``, anything
an operator typed) is being emptied on purpose: the instance stays ACTIVE
with the migration ``failed``, as in stock Nova (seed 000: on a lock, the
instance does not fail).  A cancelled migration (``nova
live-migration-abort``) never errors its instance: it is an operator's
decision, not a failure.

The rule, by the source's compute service (``_failure``):

==========================================  ==========================
source compute service                      instance after a rollback
==========================================  ==========================
up and enabled                              ACTIVE (Nova's)
disabled, no reason or any other reason     ACTIVE (Nova's)
disabled, reason ``failure: ...``           ERROR, fault names reason
forced down (enabled or disabled)           ERROR, fault says so
any, migration cancelled                    ACTIVE (Nova's)
==========================================  ==========================
"""

import copy

from nova import exception
from nova import objects
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from oslo_log import log as logging
from oslo_utils import timeutils

from nova_wrs_lm import instance_actions

LOG = logging.getLogger(__name__)


class LiveMigrationRolledBack(exception.NovaException):
    msg_fmt = ('Live migration to %(dest)s rolled back to source host '
               '%(host)s, whose compute service is %(state)s: %(why)s. '
               'Recover by evacuation, or rebuild or reboot once the host '
               'is enabled.')


def marks_failure(disabled_reason, prefixes):
    """Whether ``disabled_reason`` starts with one of ``prefixes`` (case
    and leading spaces ignored)."""
    text = (disabled_reason or '').lstrip().lower()
    return any(prefix and text.startswith(prefix.strip().lower())
               for prefix in prefixes)


def _failure(context, host, prefixes):
    """Why the compute service of ``host`` counts as failed (``'forced
    down'``, ``"disabled ('failure: ...')"`` or both), or None (also when
    it cannot be found)."""
    try:
        service = objects.Service.get_by_compute_host(context, host)
    except exception.NotFound:
        return None
    states = []
    if service.disabled and marks_failure(service.disabled_reason,
                                          prefixes):
        states.append('disabled (%r)' % service.disabled_reason.strip())
    if service.forced_down:
        states.append('forced down')
    return ' and '.join(states) or None


def error_if_source_failed(context, instance, dest, why, prefixes):
    """Set ``instance`` (rolled back to ``instance.host``) to ERROR with a
    fault when that host counts as failed (see the module docstring).

    :param prefixes: ``[wrs_lm] failure_disabled_reason_prefixes``
    :returns: True when the instance was set to ERROR.
    """
    state = _failure(context, instance.host, prefixes)
    if state is None:
        return False
    fault = LiveMigrationRolledBack(dest=dest, host=instance.host,
                                    state=state, why=why)
    LOG.error('%s', fault.format_message(), instance=instance)
    instance.vm_state = vm_states.ERROR
    instance.task_state = None
    instance.save()
    compute_utils.add_instance_fault_from_exc(context, instance, fault)
    _record(context, instance)
    return True


def _record(context, instance):
    """An ``error-after-rollback`` instance action with one event, after
    the fault (so that the history reads the fault as its reason): Nova
    records the live migration's action and its events, not that the
    driver set the instance to ERROR."""
    # Nova 34's InstanceAction.pack_action_start records the context's
    # timestamp as the start: the migration's request context was made
    # when the migration was asked, so a copy timed now.
    context = copy.copy(context)
    context.timestamp = timeutils.utcnow()
    try:
        objects.InstanceAction.action_start(
            context, instance.uuid, instance_actions.ERROR_AFTER_ROLLBACK,
            want_result=False)
        with compute_utils.EventReporter(
                context, instance_actions.ERROR_AFTER_ROLLBACK_EVENT,
                instance.host, instance.uuid):
            pass
    except Exception:
        # The instance is in ERROR with its fault: a record that cannot be
        # written does not change that.
        LOG.exception('Could not record the error-after-rollback action.',
                      instance=instance)
