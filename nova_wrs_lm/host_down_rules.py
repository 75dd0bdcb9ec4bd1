"""What a host-down report does to each instance on the host, by its task.

The rule table of :mod:`nova_wrs_lm.host_down`, declared once; the docs
table (``doc/api-extension.md``) says the same.  A report comes from a
monitor that has fenced the host: nothing on it runs any more, so a task
the host itself was doing will never finish.  What the report must never
do is make a second copy of an instance possible (an evacuation accepted
while the guest may still run elsewhere) or cut short work that another
host is doing.

The outcomes:

* ``RECORD_DOWN``: the instance is recorded down (``vm_state`` per
  ``[wrs_lm] host_down_instance_state``, ``power_state`` shutdown,
  ``task_state`` cleared, an instance action and a fault), so that exactly
  one recovery (an evacuation) can run;
* ``FINALISE_MOVE``: a live migration off the host that had not switched
  over: its migration record is set to ``error``, its allocations go back
  to the instance (as Nova's rollback does), and the instance is recorded
  down;
* ``SKIP``: left as it is, listed in the answer's ``instances_skipped``
  with the reason; Nova's own answer to an evacuation then stands (409 for
  an instance in a task).

Read from Nova 34.0.0 (``nova.compute.task_states``, the live-migration
statuses of ``ComputeManager``).
"""

from nova.compute import task_states as ts
from nova.compute import vm_states

RECORD_DOWN = 'record_down'
FINALISE_MOVE = 'finalise_move'
SKIP = 'skip'

#: vm_states a report never changes (gone, or already needing recovery).
UNTOUCHED_VM_STATES = {
    vm_states.SOFT_DELETED: 'soft-deleted',
    vm_states.DELETED: 'deleted',
    vm_states.RESIZED: 'resized, waiting for confirm or revert',
    vm_states.ERROR: 'already in error',
}

#: Live-migration statuses before the guest switches to the destination:
#: its only running copy was on the failed host.
LIVE_MIGRATION_BEFORE_SWITCH = ('accepted', 'queued', 'preparing',
                                'running')
#: Evacuation statuses of an evacuation still in progress.
EVACUATION_IN_PROGRESS = ('accepted', 'pre-migrating')

_RESIZE = ('resize or cold migration in progress: left in its task state '
           'for Nova to finish or revert')

#: task_state -> (outcome, reason).  A task_state not listed here is a task
#: the failed host itself was doing on the instance in place: RECORD_DOWN.
TASK_RULES = {
    ts.DELETING: (SKIP, 'being deleted'),
    ts.SOFT_DELETING: (SKIP, 'being deleted'),
    ts.RESTORING: (SKIP, 'being restored from soft delete'),
    ts.MIGRATING: (FINALISE_MOVE, None),  # refined by the migration
    ts.RESIZE_PREP: (SKIP, _RESIZE),
    ts.RESIZE_MIGRATING: (SKIP, _RESIZE),
    ts.RESIZE_MIGRATED: (SKIP, _RESIZE),
    ts.RESIZE_FINISH: (SKIP, _RESIZE),
    ts.RESIZE_REVERTING: (SKIP, _RESIZE),
    ts.RESIZE_CONFIRMING: (SKIP, _RESIZE),
}


def decide(vm_state, task_state, live_migration=None, evacuation_to=None):
    """``(outcome, reason)`` for one instance on the reported host.

    :param live_migration: ``(status, dest_compute)`` of the instance's
        live migration off the host, if there is one in progress
    :param evacuation_to: the status of an evacuation of the instance *to*
        the host in progress, if any
    """
    if vm_state in UNTOUCHED_VM_STATES:
        return SKIP, UNTOUCHED_VM_STATES[vm_state]
    if task_state is None:
        return RECORD_DOWN, None
    if evacuation_to is not None:
        return SKIP, ('evacuation to this host in progress (%s): left for '
                      'Nova' % evacuation_to)
    outcome, reason = TASK_RULES.get(task_state, (RECORD_DOWN, None))
    if outcome == FINALISE_MOVE:
        if live_migration is None:
            return SKIP, 'migrating with no live migration record found'
        status, dest = live_migration
        if status not in LIVE_MIGRATION_BEFORE_SWITCH:
            return SKIP, ('live migration %s: the guest may be running on '
                          '%s' % (status, dest))
    return outcome, reason
