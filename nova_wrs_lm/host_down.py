"""Database work of a host-down report (``host_down_reported``).

One report is, per cell that holds the host's compute services, one
transaction that:

1. sets ``forced_down`` on every ``nova-compute`` service of the host (this
   UPDATE comes first so that it also serialises concurrent reports for the
   same host: the service rows are the lock);
2. when the host is reported down, moves every instance on the host to the
   configured state in bulk (``vm_state`` stopped or error, ``power_state``
   shutdown, ``task_state`` None), leaving soft-deleted, deleted, resized
   and error instances and instances already in that state alone;
3. records, for each instance changed, an instance action and a fault
   saying that the host was reported down.

After the commit Nova's versioned ``service.update`` notification is
emitted for each service, as ``Service.save()`` does.  Nothing here knows
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
* ``instances``: ``id``, ``uuid`` read (locked ``FOR UPDATE``) by
  ``host``, ``deleted``, ``vm_state``, ``power_state``, ``task_state``;
  ``vm_state``, ``power_state``, ``task_state`` and ``updated_at``
  written;
* ``instance_actions``: rows inserted (``action``, ``instance_uuid``,
  ``request_id``, ``user_id``, ``project_id``, ``start_time``,
  ``finish_time``, ``created_at``, ``updated_at``, ``deleted``), as
  ``InstanceAction.action_start`` would with the finish time set;
* ``instance_faults``: rows inserted (``instance_uuid``, ``code``,
  ``message``, ``details``, ``host``, ``created_at``, ``deleted``), as
  ``InstanceFault.create`` would.
"""

import dataclasses

import sqlalchemy as sa
from nova import context as nova_context
from nova import exception
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

LOG = logging.getLogger(__name__)

#: Instance action recorded for every instance a report changes.
ACTION = 'host_down_reported'

_COMPUTE = 'nova-compute'
_UNTOUCHED = (vm_states.SOFT_DELETED, vm_states.DELETED, vm_states.RESIZED,
              vm_states.ERROR)
_TARGET_VM_STATES = {'stopped': vm_states.STOPPED, 'error': vm_states.ERROR}
_FAULT_CODE = 500
_FAULT_MESSAGE = 'Compute host reported down'
_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Report:
    """What a host-down report did."""

    host: str
    host_down_reported: bool
    #: ``enabled`` or ``disabled``; a report never changes it.
    status: str
    instances_marked_down: int


def report(context, host, down, instance_state='stopped', now=None):
    """Force the compute services of ``host`` down (``down=True``) or clear
    that (``down=False``); see the module docstring.

    :param context: the caller's RequestContext (recorded in the actions)
    :param instance_state: ``stopped`` or ``error``
        (``[wrs_lm] host_down_instance_state``)
    :param now: the time recorded (defaults to the current UTC time)
    :raises nova.exception.ComputeHostNotFound: no compute service has
        that host name
    """
    vm_state = _TARGET_VM_STATES[instance_state]
    now = now or timeutils.utcnow()
    services = []
    marked = 0
    for cell in _cells_of(context, host):
        with nova_context.target_cell(context, cell) as cctxt:
            found, changed = _report_in_cell(
                cctxt, host, down, vm_state, now)
            if found:
                services.extend(
                    s for s in objects.ServiceList.get_by_host(cctxt, host)
                    if s.binary == _COMPUTE)
            marked += changed
    if not services:
        raise exception.ComputeHostNotFound(host=host)
    for service in services:
        _notify_service_update(context, service)
    LOG.info('Host %(host)s reported %(state)s by user %(user)s: '
             '%(count)d instance(s) set to %(vm_state)s.',
             {'host': host, 'state': 'down' if down else 'up',
              'user': context.user_id, 'count': marked,
              'vm_state': vm_state})
    disabled = all(s.disabled for s in services)
    return Report(host=host, host_down_reported=down,
                  status='disabled' if disabled else 'enabled',
                  instances_marked_down=marked)


def _cells_of(context, host):
    """The host's cell from its host mapping; every cell but cell0 when the
    host has not been discovered yet."""
    try:
        mapping = objects.HostMapping.get_by_host(context, host)
    except exception.HostMappingNotFound:
        return [cell for cell in objects.CellMappingList.get_all(context)
                if not cell.is_cell0()]
    return [mapping.cell_mapping]


def _report_in_cell(context, host, down, vm_state, now):
    """One transaction in the cell ``context`` targets.  Returns (whether
    the cell has a compute service on ``host``, instances changed)."""
    with db_api.get_context_manager(context).writer.using(context) as sess:
        found = sess.execute(
            sa.update(models.Service)
            .where(models.Service.host == host,
                   models.Service.binary == _COMPUTE,
                   models.Service.deleted == 0)
            .values(forced_down=down, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not found or not down:
            return bool(found), 0
        rows = sess.execute(
            _eligible(sa.select(models.Instance.id, models.Instance.uuid),
                      host, vm_state)
            .with_for_update()).all()
        ids = [row.id for row in rows]
        for start in range(0, len(ids), _CHUNK):
            sess.execute(
                sa.update(models.Instance)
                .where(models.Instance.id.in_(ids[start:start + _CHUNK]))
                .values(vm_state=vm_state,
                        power_state=power_state.SHUTDOWN,
                        task_state=None,
                        updated_at=now)
                .execution_options(synchronize_session=False))
        if rows:
            uuids = [row.uuid for row in rows]
            sess.execute(sa.insert(models.InstanceAction),
                         [_action(context, uuid, now) for uuid in uuids])
            sess.execute(sa.insert(models.InstanceFault),
                         [_fault(host, uuid, vm_state, now)
                          for uuid in uuids])
        return True, len(rows)


def _eligible(query, host, vm_state):
    instance = models.Instance
    already = sa.and_(instance.vm_state == vm_state,
                      instance.power_state == power_state.SHUTDOWN,
                      instance.task_state.is_(None))
    return query.where(
        instance.host == host,
        instance.deleted == 0,
        sa.or_(instance.vm_state.is_(None),
               instance.vm_state.notin_(_UNTOUCHED)),
        sa.not_(already))


def _action(context, uuid, now):
    return {'action': ACTION, 'instance_uuid': uuid,
            'request_id': context.request_id, 'user_id': context.user_id,
            'project_id': context.project_id, 'start_time': now,
            'finish_time': now, 'created_at': now, 'updated_at': now,
            'deleted': 0}


def _fault(host, uuid, vm_state, now):
    return {'instance_uuid': uuid, 'code': _FAULT_CODE,
            'message': _FAULT_MESSAGE, 'host': host, 'created_at': now,
            'deleted': 0,
            'details': ('Compute host %s was reported down through '
                        'PUT /os-hosts/%s (host_down_reported); the '
                        'instance was set to %s.' % (host, host, vm_state))}


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
