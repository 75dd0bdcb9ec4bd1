"""Database work of a host-down report (``host_down_reported``).

One report is, per cell that holds the host's compute services, one
transaction that:

1. sets ``forced_down`` on every ``nova-compute`` service of the host (this
   UPDATE comes first so that it also serialises concurrent reports for the
   same host: the service rows are the lock);
2. when the host is reported down, decides per instance on the host what
   to do from its vm_state, task_state and migration records
   (:mod:`nova_wrs_lm.host_down_rules`): records it down in bulk
   (``vm_state`` stopped or error, ``power_state`` shutdown, ``task_state``
   None), also finalising a live migration off the host that had not
   switched over (its record set to ``error``), or leaves it as it is and
   lists it as skipped with the reason;
3. records, for each instance changed, an instance action and a fault
   saying that the host was reported down; the action carries an event
   (:data:`nova_wrs_lm.recovery_state.EVENT`) whose ``details`` keep the
   instance's ``vm_state`` and ``power_state`` from before the report, for
   the recovery (``nova-wrs-lm host recover``,
   :mod:`nova_wrs_lm.recovery_state`).

When clearing a report, it first refuses (changing nothing) while
``done`` evacuations from the host remain, as Nova's os-services does.
After the commit: the allocations of each finalised live migration go
back to the instance (placement), Nova's ``instance.update`` notification
is sent for each instance changed (when ``[notifications]
notify_on_state_change`` is set), and Nova's versioned ``service.update``
for each service with the values the transaction committed, as
``Service.save()`` sends it.  Nothing here knows
about HTTP (the ``PUT /os-hosts`` handler is
:mod:`nova_wrs_lm.api.handlers.os_hosts`).

Nova's tables used, read from Nova 34.0.0 (``nova.db.main.models``,
``nova.db.api.models``), written with SQL of this module's own rather
than through Nova's objects:

* API database, read only: ``host_mappings`` (by ``host``, through
  ``HostMapping.get_by_host``) and ``cell_mappings`` (its cell, or all
  cells through ``CellMappingList.get_all``);
* ``services``: ``forced_down`` and ``updated_at`` written where ``host``,
  ``binary`` = ``nova-compute`` and ``deleted`` = 0; then read through
  ``ServiceList.get_by_host`` (``disabled`` for the answer, every field for
  the notification);
* ``instances``: locked (``FOR UPDATE``) by ``host`` and ``deleted``;
  ``id``, ``uuid``, ``vm_state``, ``task_state`` read of those in a task
  or in a state a report never changes; ``vm_state``, ``power_state``,
  ``task_state`` and ``updated_at`` written (one ``UPDATE`` by condition);
* ``migrations``: ``instance_uuid``, ``uuid``, ``status``,
  ``migration_type``, ``source_compute``, ``dest_compute`` read (also
  through ``MigrationList.get_by_filters`` for the clear guard);
  ``status`` and ``updated_at`` written (``error``) for a live migration
  finalised;
* ``instance_actions``: rows inserted by ``INSERT ... SELECT``
  (``action``, ``instance_uuid``, ``request_id``, ``user_id``,
  ``project_id``, ``start_time``, ``finish_time``, ``created_at``,
  ``updated_at``, ``deleted``), as
  ``InstanceAction.action_start`` would with the finish time set;
* ``instance_actions_events``: one row inserted per action by ``INSERT
  ... SELECT`` (``event``, ``action_id``, ``start_time``, ``finish_time``,
  ``result``, ``host``, ``details``, ``created_at``, ``updated_at``,
  ``deleted``), as ``InstanceActionEvent.event_finish`` would, joining
  the actions just inserted (by ``request_id``, ``action`` and
  ``start_time``) to their instances;
* ``instance_faults``: rows inserted by ``INSERT ... SELECT``
  (``instance_uuid``, ``code``, ``message``, ``details``, ``host``,
  ``created_at``, ``deleted``), as
  ``InstanceFault.create`` would.
"""

import dataclasses

import nova.conf
import sqlalchemy as sa
from nova import context as nova_context
from nova import exception
from nova import notifications
from nova import objects
from nova.compute import power_state
from nova.compute import vm_states
from nova.db.main import api as db_api
from nova.db.main import models
from nova.notifications.objects import base as notification
from nova.notifications.objects import service as service_notification
from nova.objects import fields
from oslo_log import log as logging
from oslo_utils import timeutils

from nova_wrs_lm import host_down_rules as rules
from nova_wrs_lm import recovery_state

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

#: Instance action recorded for every instance a report changes.
ACTION = recovery_state.ACTION

_COMPUTE = 'nova-compute'
_TARGET_VM_STATES = {'stopped': vm_states.STOPPED, 'error': vm_states.ERROR}
_FAULT_CODE = 500
_FAULT_MESSAGE = 'Compute host reported down'
_CHUNK = 500


class EvacuationsNotCompleted(exception.Invalid):
    """Clearing a report while ``done`` evacuations from the host remain:
    Nova 34's os-services refuses to force such a host up (bug 1922053,
    ``ServiceController._check_for_evacuations``); same text here."""

    msg_fmt = ('Unable to force up host %(host)s as `done` evacuation '
               'migration records remain associated with the host. Ensure '
               'the compute service has been restarted, allowing these '
               'records to move to `completed` before retrying this '
               'request.')


@dataclasses.dataclass(frozen=True)
class CellResult:
    """What a report did in one cell."""

    name: str
    uuid: str
    #: ``done`` (committed) or ``failed`` (nothing changed in that cell).
    result: str
    instances_marked_down: int = 0
    #: Why it failed (``failed`` only).
    reason: str | None = None

    def as_dict(self):
        out = {'name': self.name, 'uuid': self.uuid, 'result': self.result,
               'instances_marked_down': self.instances_marked_down}
        if self.reason is not None:
            out['reason'] = self.reason
        return out


@dataclasses.dataclass(frozen=True)
class Report:
    """What a host-down report did."""

    host: str
    host_down_reported: bool
    #: ``enabled`` or ``disabled``; a report never changes it.
    status: str
    instances_marked_down: int
    #: ``{'id': uuid, 'reason': text}`` of each instance on the host that
    #: the report left as it was (see :mod:`nova_wrs_lm.host_down_rules`).
    instances_skipped: tuple = ()
    #: A :class:`CellResult` per cell that holds the host's services.
    cells: tuple = ()

    @property
    def complete(self):
        """Whether every cell committed the report."""
        return all(cell.result == DONE for cell in self.cells)


DONE = 'done'
FAILED = 'failed'


class ReportIncomplete(Exception):
    """The report failed in some cell (its database unreachable, ...)
    after others committed it: each cell is one transaction, so the cells
    listed done are changed and the others are not.  A repeated report
    changes only what is left (the instances it already recorded down are
    not changed again), so repeating it completes it."""

    def __init__(self, report):
        self.report = report
        done = [c for c in report.cells if c.result == DONE]
        failed = [c for c in report.cells if c.result == FAILED]
        what = 'down' if report.host_down_reported else 'up'
        if done:
            applied = 'The report of host %s as %s was applied in %s' % (
                report.host, what, ', '.join(
                    '%s (%d instance(s) marked down)' % (
                        c.name, c.instances_marked_down) for c in done))
        else:
            applied = ('The report of host %s as %s changed nothing'
                       % (report.host, what))
        super().__init__(
            '%s and failed in %s. Repeat the request: a repeated report '
            'changes only what is left, and completes it.' % (
                applied, ', '.join('%s (%s)' % (c.name, c.reason)
                                   for c in failed)))


def report(context, host, down, instance_state='stopped', now=None):
    """Force the compute services of ``host`` down (``down=True``) or clear
    that (``down=False``); see the module docstring.  Each cell is one
    transaction; a cell that fails does not stop the others.

    :param context: the caller's RequestContext (recorded in the actions)
    :param instance_state: ``stopped`` or ``error``
        (``[wrs_lm] host_down_instance_state``)
    :param now: the time recorded (defaults to the current UTC time),
        in whole seconds
    :raises nova.exception.ComputeHostNotFound: no compute service has
        that host name
    :raises EvacuationsNotCompleted: ``down=False`` while ``done``
        evacuations from the host remain (nothing is changed)
    :raises ReportIncomplete: the report failed in a cell (its
        ``report`` says what was done where)
    """
    vm_state = _TARGET_VM_STATES[instance_state]
    # Whole seconds: Nova's DateTime columns are DATETIME without
    # fractional seconds on MySQL/MariaDB (which truncates or rounds what
    # it stores), so that _keep_states' join on the action's start_time
    # finds the actions this report inserted there as on SQLite.
    now = (now or timeutils.utcnow()).replace(microsecond=0)
    cells = _cells_of(context, host)
    failed = {}
    if not down:
        # Checked in every cell before any cell is changed.
        for cell in cells:
            try:
                with nova_context.target_cell(context, cell) as cctxt:
                    _check_for_evacuations(cctxt, host)
            except EvacuationsNotCompleted:
                raise
            except Exception as exc:
                failed[cell.uuid] = _failure(host, cell, exc)
    services = []
    skipped = []
    results = []
    for cell in cells:
        if cell.uuid in failed:
            results.append(failed[cell.uuid])
            continue
        try:
            with nova_context.target_cell(context, cell) as cctxt:
                found, count, changed, cell_skipped, moves = (
                    _report_in_cell(cctxt, host, down, vm_state, now))
        except Exception as exc:
            results.append(_failure(host, cell, exc))
            continue
        results.append(CellResult(cell.name, cell.uuid, DONE, count))
        services.extend(found)
        skipped.extend(cell_skipped)
        with nova_context.target_cell(context, cell) as cctxt:
            _after_commit(cctxt, host, changed, moves, vm_state)
    results = tuple(results)
    if not services and all(r.result == DONE for r in results):
        raise exception.ComputeHostNotFound(host=host)
    for service in services:
        _notify_service_update(context, service)
    marked = sum(r.instances_marked_down for r in results)
    LOG.info('Host %(host)s reported %(state)s by user %(user)s: '
             '%(count)d instance(s) set to %(vm_state)s (%(cells)s).',
             {'host': host, 'state': 'down' if down else 'up',
              'user': context.user_id, 'count': marked,
              'vm_state': vm_state,
              'cells': ', '.join('%s %s' % (r.name, r.result)
                                 for r in results)})
    disabled = bool(services) and all(s.disabled for s in services)
    done = Report(host=host, host_down_reported=down,
                  status='disabled' if disabled else 'enabled',
                  instances_marked_down=marked,
                  instances_skipped=tuple(skipped), cells=results)
    if not done.complete:
        raise ReportIncomplete(done)
    return done


def _failure(host, cell, exc):
    LOG.exception('Host-down report of host %(host)s failed in cell '
                  '%(cell)s; nothing was changed in that cell.',
                  {'host': host, 'cell': cell.name})
    text = ('%s: %s' % (type(exc).__name__, exc))[:200]
    return CellResult(cell.name, cell.uuid, FAILED, reason=text)


def _after_commit(context, host, changed, moves, vm_state):
    """What follows a cell's commit; a failure here is logged, never
    reported as the cell's (its change is committed)."""
    _revert_allocations(context, moves)
    try:
        _notify_instance_updates(context, host, changed, vm_state)
    except Exception:
        LOG.exception('Could not send the instance.update notifications '
                      'of the host-down report of host %s.', host)


def _cells_of(context, host):
    """The host's cell from its host mapping; every cell but cell0 when the
    host has not been discovered yet."""
    try:
        mapping = objects.HostMapping.get_by_host(context, host)
    except exception.HostMappingNotFound:
        return [cell for cell in objects.CellMappingList.get_all(context)
                if not cell.is_cell0()]
    return [mapping.cell_mapping]


def _check_for_evacuations(context, host):
    # The same query as Nova 34.0.0's
    # ServiceController._check_for_evacuations (os-services force up).
    filters = {'source_compute': host, 'status': 'done',
               'migration_type': fields.MigrationType.EVACUATION}
    if any(objects.MigrationList.get_by_filters(context, filters)):
        raise EvacuationsNotCompleted(host=host)


def _services(context, sess, host):
    """The host's compute services as the transaction sees them (after its
    UPDATE), as Service objects: the values the notifications carry are
    the ones this transaction commits, whatever a concurrent report does
    after it."""
    rows = sess.execute(
        sa.select(models.Service)
        .where(models.Service.host == host,
               models.Service.binary == _COMPUTE,
               models.Service.deleted == 0)).scalars().all()
    return [objects.Service._from_db_object(context, objects.Service(), row)
            for row in rows]


def _report_in_cell(context, host, down, vm_state, now):
    """One transaction in the cell ``context`` targets.  Returns (the
    cell's compute services on ``host`` as committed, the number of
    instances changed, those instances as ``(uuid, vm_state, task_state)``
    before the change -- read only when notifications want them, else
    empty --, the instances skipped, the ``(migration uuid, instance
    uuid)`` of each live migration finalised).

    The instances are changed with set-based statements (each runs once
    in the database, whatever the number of instances): the instances of
    the host are locked first, then only those in a task or in a state
    the report never changes are read and decided one by one
    (:func:`nova_wrs_lm.host_down_rules.decide`); every other instance is
    recorded down by the same condition in each statement, which sees the
    same rows in each, since the transaction holds their locks."""
    with db_api.get_context_manager(context).writer.using(context) as sess:
        found = sess.execute(
            sa.update(models.Service)
            .where(models.Service.host == host,
                   models.Service.binary == _COMPUTE,
                   models.Service.deleted == 0)
            .values(forced_down=down, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        services = _services(context, sess, host) if found else []
        if not found or not down:
            return services, 0, [], [], []
        instance = models.Instance
        # Lock every instance of the host (and the range, against an
        # instance arriving) without reading them into Python.
        sess.execute(sa.select(sa.func.count())
                     .select_from(instance)
                     .where(instance.host == host, instance.deleted == 0)
                     .with_for_update()).scalar()
        plain = sa.and_(instance.task_state.is_(None),
                        instance.vm_state.not_in(
                            list(rules.UNTOUCHED_VM_STATES)))
        special = sess.execute(
            _on_host(sa.select(instance.id, instance.uuid,
                               instance.vm_state, instance.task_state),
                     host, vm_state)
            .where(sa.not_(plain))
            .order_by(instance.id)).all()
        live, evacuations_to = _moves(sess, host, [
            row.uuid for row in special if row.task_state is not None])
        decided, skipped, finalised = [], [], []
        for row in special:
            outcome, reason = rules.decide(
                row.vm_state, row.task_state,
                live_migration=(live[row.uuid][:2] if row.uuid in live
                                else None),
                evacuation_to=evacuations_to.get(row.uuid))
            if outcome == rules.SKIP:
                skipped.append({'id': row.uuid, 'reason': reason})
                continue
            decided.append(row.id)
            if outcome == rules.FINALISE_MOVE:
                finalised.append((live[row.uuid][2], row.uuid))
        change = _on_host(sa.select(instance.uuid), host, vm_state).where(
            sa.or_(plain, instance.id.in_(decided)) if decided else plain)
        changed = []
        if CONF.notifications.notify_on_state_change:
            changed = [tuple(row) for row in sess.execute(
                change.with_only_columns(instance.uuid, instance.vm_state,
                                         instance.task_state)).all()]
        count = sess.execute(
            sa.insert(models.InstanceAction).from_select(
                _ACTION_COLUMNS,
                change.with_only_columns(*_action_values(context, now))),
        ).rowcount
        if count:
            _keep_states(context, sess, host, change, now)
            sess.execute(sa.insert(models.InstanceFault).from_select(
                _FAULT_COLUMNS,
                change.with_only_columns(*_fault_values(host, vm_state,
                                                        now))))
            # Last: the condition no longer matches what it changed.
            sess.execute(
                sa.update(instance)
                .where(change.whereclause)
                .values(vm_state=vm_state,
                        power_state=power_state.SHUTDOWN,
                        task_state=None,
                        updated_at=now)
                .execution_options(synchronize_session=False))
        if finalised:
            sess.execute(
                sa.update(models.Migration)
                .where(models.Migration.uuid.in_(
                    [migration for migration, _ in finalised]))
                .values(status='error', updated_at=now)
                .execution_options(synchronize_session=False))
        return services, count, changed, skipped, finalised


def _keep_states(context, sess, host, change, now):
    """One event per action just inserted, keeping the instance's
    ``vm_state`` and ``power_state`` from before the report
    (:mod:`nova_wrs_lm.recovery_state`), in the report's transaction: one
    ``INSERT ... SELECT`` joining those actions to the instances
    ``change`` selects (run before their ``UPDATE``)."""
    action, instance = models.InstanceAction, models.Instance
    event = models.InstanceActionEvent
    details = (_value(recovery_state.details_prefix(), event.details) +
               sa.func.coalesce(instance.vm_state, '') +
               _value(recovery_state.POWER_STATE_SEPARATOR, event.details) +
               sa.cast(sa.func.coalesce(instance.power_state, 0),
                       sa.String(16)))
    select = (change.with_only_columns(
        _value(recovery_state.EVENT, event.event), action.id,
        _value(now, event.start_time), _value(now, event.finish_time),
        _value('Success', event.result), _value(host, event.host),
        details, _value(now, event.created_at),
        _value(now, event.updated_at), _value(0, event.deleted))
        .join_from(instance, action, action.instance_uuid == instance.uuid)
        .where(action.request_id == context.request_id,
               action.action == ACTION, action.start_time == now,
               action.deleted == 0))
    sess.execute(sa.insert(event).from_select(
        ('event', 'action_id', 'start_time', 'finish_time', 'result',
         'host', 'details', 'created_at', 'updated_at', 'deleted'), select))


def _on_host(query, host, vm_state):
    """The instances on ``host``, but those a report already recorded
    down (a repeated report changes and lists nothing)."""
    instance = models.Instance
    already = sa.and_(instance.vm_state == vm_state,
                      instance.power_state == power_state.SHUTDOWN,
                      instance.task_state.is_(None))
    return query.where(
        instance.host == host,
        instance.deleted == 0,
        sa.not_(already))


def _moves(sess, host, uuids):
    """For the instances ``uuids`` (those in a task): ``{uuid: (status,
    dest_compute, migration uuid)}`` of a live migration off ``host`` in
    progress, and ``{uuid: status}`` of an evacuation to ``host`` in
    progress."""
    live, evacuations_to = {}, {}
    migration = models.Migration
    for start in range(0, len(uuids), _CHUNK):
        for row in sess.execute(
                sa.select(migration.instance_uuid, migration.uuid,
                          migration.status, migration.migration_type,
                          migration.source_compute, migration.dest_compute)
                .where(migration.instance_uuid.in_(
                    uuids[start:start + _CHUNK]),
                       migration.deleted == 0)
                .order_by(migration.id)).all():
            if (row.migration_type == 'live-migration' and
                    row.source_compute == host and row.status not in (
                        'completed', 'failed', 'error', 'cancelled',
                        'done')):
                live[row.instance_uuid] = (row.status, row.dest_compute,
                                           row.uuid)
            elif (row.migration_type == 'evacuation' and
                    row.dest_compute == host and
                    row.status in rules.EVACUATION_IN_PROGRESS):
                evacuations_to[row.instance_uuid] = row.status
    return live, evacuations_to


def _revert_allocations(context, finalised):
    """For each live migration finalised: the allocations its migration
    record holds on the failed host go back to the instance, as Nova's
    rollback does (``ComputeManager._revert_allocation``, Nova 34.0.0), so
    that the evacuation that follows claims from a consistent state."""
    if not finalised:
        return
    from nova.scheduler.client import report as placement
    client = placement.report_client_singleton()
    for migration_uuid, instance_uuid in finalised:
        try:
            client.move_allocations(context, migration_uuid, instance_uuid)
        except Exception:
            LOG.exception('Could not move the allocations of migration '
                          '%(migration)s back to instance %(instance)s; '
                          'heal them with nova-manage placement '
                          'heal_allocations.',
                          {'migration': migration_uuid,
                           'instance': instance_uuid})


def _notify_instance_updates(context, host, changed, vm_state):
    """Nova's ``instance.update`` notification (versioned, legacy
    ``compute.instance.update`` or both, as ``[notifications]
    notification_format`` says) for each instance changed, after the
    commit, as Nova's own state changes send it
    (``notifications.send_update_with_states``, Nova 34.0.0); nothing is
    read when ``[notifications] notify_on_state_change`` is unset."""
    if not changed or not CONF.notifications.notify_on_state_change:
        return
    before = {uuid: (old_vm, old_task) for uuid, old_vm, old_task in changed}
    uuids = list(before)
    for start in range(0, len(uuids), _CHUNK):
        instances = objects.InstanceList.get_by_filters(
            context, {'uuid': uuids[start:start + _CHUNK], 'deleted': False},
            expected_attrs=['metadata', 'system_metadata', 'flavor',
                            'info_cache', 'tags'])
        for instance in instances:
            old_vm, old_task = before[instance.uuid]
            notifications.send_update_with_states(
                context, instance, old_vm, vm_state, old_task, None,
                service='api', verify_states=True)


_ACTION_COLUMNS = ('action', 'instance_uuid', 'request_id', 'user_id',
                   'project_id', 'start_time', 'finish_time', 'created_at',
                   'updated_at', 'deleted')
_FAULT_COLUMNS = ('instance_uuid', 'code', 'message', 'host', 'created_at',
                  'deleted', 'details')


def _value(value, column):
    """``value`` as a bound parameter of ``column``'s type (NULL-safe)."""
    return sa.bindparam(None, value, type_=column.type)


def _action_values(context, now):
    """The columns of an instance action row (``_ACTION_COLUMNS``), as
    ``InstanceAction.action_start`` would write it, with the finish time
    set, for each instance selected."""
    action = models.InstanceAction
    return (_value(ACTION, action.action), models.Instance.uuid,
            _value(context.request_id, action.request_id),
            _value(context.user_id, action.user_id),
            _value(context.project_id, action.project_id),
            _value(now, action.start_time), _value(now, action.finish_time),
            _value(now, action.created_at), _value(now, action.updated_at),
            _value(0, action.deleted))


def _fault_values(host, vm_state, now):
    """The columns of an instance fault row (``_FAULT_COLUMNS``), as
    ``InstanceFault.create`` would write it, for each instance selected."""
    fault = models.InstanceFault
    details = ('Compute host %s was reported down through PUT /os-hosts/%s '
               '(host_down_reported); the instance was set to %s.'
               % (host, host, vm_state))
    return (models.Instance.uuid, _value(_FAULT_CODE, fault.code),
            _value(_FAULT_MESSAGE, fault.message), _value(host, fault.host),
            _value(now, fault.created_at), _value(0, fault.deleted),
            _value(details, fault.details))


def _notify_service_update(context, service):
    # Same notification as nova.objects.service.Service._send_notification
    # (Nova 34.0.0) sends from Service.save() when forced_down changes; the
    # services were updated in bulk, so it is sent here.
    payload = service_notification.ServiceStatusPayload(service)
    service_notification.ServiceStatusNotification(
        publisher=notification.NotificationPublisher.from_service_obj(
            service),
        event_type=notification.EventType(
            object='service', action=fields.NotificationAction.UPDATE),
        priority=fields.NotificationPriority.INFO,
        payload=payload).emit(context)
