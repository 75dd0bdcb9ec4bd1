"""Database work of the history (``GET /os-wrs-lm-history``): reads, in
the cell of the host or the server, what Nova already keeps about what
happened to instances, a few set-based queries whatever the number of
instances.  Nothing here knows about HTTP
(:mod:`nova_wrs_lm.api.handlers.history`) or about what the records mean
(:mod:`nova_wrs_lm.history_events`).

Nova's tables read, from Nova 34.0.0 (``nova.db.main.models``; API
database: ``host_mappings``, ``instance_mappings``, ``cell_mappings``
through Nova's objects), with this module's own SQL, read only:

* which instances: for a host, those whose ``instances.host`` it is and
  those with a ``migrations`` row from or to it since the time asked (the
  records of deleted instances included: Nova keeps them until
  ``nova-manage db archive_deleted_rows``); for a server, that one.  Not
  by ``instance_actions_events.host``, which has no index: a scan of that
  table on every call would grow with the cloud's whole history (so a
  build rescheduled away from the host is listed under the host it ended
  on);
* of those: ``instances`` (name, project, user, host, deleted),
  ``instance_actions`` joined to their ``instance_actions_events``,
  ``migrations`` and ``instance_faults``, since the time asked;
* ``services``: the ``nova-compute`` service of the host, and of every
  host a migration read names (its ``disabled``, ``disabled_reason``,
  ``forced_down`` now: Nova keeps no history of a service).

One cell per call (a host's, or an instance's: Nova keeps the records of
an instance in the cell of the instance).  The answer is
:class:`Records`, plain dicts, so that the rules can be tested without a
database.
"""

import dataclasses

import sqlalchemy as sa
from nova import context as nova_context
from nova import exception
from nova import objects
from nova.db.main import api as db_api
from nova.db.main import models

_COMPUTE = 'nova-compute'
#: Rows per ``IN (...)`` list.
_CHUNK = 500


@dataclasses.dataclass
class Records:
    """What :func:`read` found, as plain dicts (column name -> value)."""

    #: uuid -> ``{uuid, display_name, project_id, user_id, host, deleted}``
    instances: dict
    #: Each action with ``events``, a list of its events (start order).
    actions: list
    migrations: list
    faults: list
    #: host -> its ``nova-compute`` service
    #: (``{host, disabled, disabled_reason, forced_down}``).
    services: dict


class NotFound(Exception):
    """Neither a compute service nor any record names the host, or no
    instance has the uuid; ``str()`` says which."""


def cell_of_host(context, host):
    """The cell mapping of ``host``; None when it is not mapped (not
    discovered yet, or never was a compute host)."""
    try:
        return objects.HostMapping.get_by_host(context, host).cell_mapping
    except exception.HostMappingNotFound:
        return None


def cell_of_instance(context, uuid):
    try:
        return objects.InstanceMapping.get_by_instance_uuid(
            context, uuid).cell_mapping
    except exception.InstanceMappingNotFound:
        raise NotFound('No server with id %s.' % uuid) from None


def read(context, since, host=None, server=None):
    """The :class:`Records` of ``host``'s instances, or of the instance
    ``server`` (both: that instance's, with ``host``'s service), since the
    naive UTC datetime ``since``.

    :raises NotFound: an unknown host or server
    """
    if server is not None:
        cell = cell_of_instance(context, server)
    else:
        cell = cell_of_host(context, host)
        if cell is None:
            raise NotFound('Compute host %s could not be found.' % host)
    with nova_context.target_cell(context, cell) as cctxt:
        with db_api.get_context_manager(cctxt).reader.using(cctxt) as sess:
            return _read_in_cell(sess, since, host, server)


def _read_in_cell(sess, since, host, server):
    uuids = [server] if server is not None else _uuids_of_host(
        sess, since, host)
    instances = _rows(sess, models.Instance, models.Instance.uuid, uuids,
                      _INSTANCE_COLUMNS)
    if server is not None and not instances:
        raise NotFound('No server with id %s.' % server)
    migrations = _since(_rows(
        sess, models.Migration, models.Migration.instance_uuid, uuids,
        _MIGRATION_COLUMNS, models.Migration.deleted == 0), since,
        'created_at', 'updated_at')
    faults = _since(_rows(
        sess, models.InstanceFault, models.InstanceFault.instance_uuid,
        uuids, _FAULT_COLUMNS, models.InstanceFault.deleted == 0), since,
        'created_at')
    actions = _actions(sess, uuids, since)
    hosts = {host} | {m[k] for m in migrations
                      for k in ('source_compute', 'dest_compute')}
    services = _services(sess, sorted(h for h in hosts if h))
    return Records({i['uuid']: i for i in instances}, actions, migrations,
                   faults, services)


def _uuids_of_host(sess, since, host):
    """Every instance the host's records name since ``since``: one
    ``UNION`` query, on indexed columns only (``instances.host``,
    ``migrations.source_compute``/``dest_compute``)."""
    instance, migration = models.Instance, models.Migration
    on_host = sa.select(instance.uuid).where(
        instance.host == host,
        sa.or_(instance.deleted == 0, instance.deleted_at >= since))
    moved = sa.select(migration.instance_uuid).where(
        sa.or_(migration.source_compute == host,
               migration.dest_compute == host),
        sa.or_(migration.created_at >= since, migration.updated_at >= since),
        migration.deleted == 0)
    rows = sess.execute(sa.union(on_host, moved)).all()
    found = {row[0] for row in rows}
    if not found:
        exists = sess.execute(sa.select(models.Service.id).where(
            models.Service.host == host,
            models.Service.deleted == 0).limit(1)).first()
        if exists is None:
            raise NotFound('Compute host %s could not be found.' % host)
    return sorted(found)


_INSTANCE_COLUMNS = ('uuid', 'display_name', 'project_id', 'user_id',
                     'host', 'deleted')
_MIGRATION_COLUMNS = ('id', 'instance_uuid', 'migration_type', 'status',
                      'source_compute', 'dest_compute', 'created_at',
                      'updated_at')
_FAULT_COLUMNS = ('instance_uuid', 'message', 'host', 'created_at')
_ACTION_COLUMNS = ('id', 'instance_uuid', 'action', 'request_id',
                   'user_id', 'project_id', 'start_time', 'finish_time',
                   'message')
_EVENT_COLUMNS = ('event', 'start_time', 'finish_time', 'result', 'host',
                  'details')


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _rows(sess, model, key, values, columns, *where):
    found = []
    for chunk in _chunks(values):
        query = sa.select(*[getattr(model, c) for c in columns]).where(
            key.in_(chunk), *where)
        found.extend(dict(zip(columns, row, strict=True))
                     for row in sess.execute(query).all())
    return found


def _since(rows, since, *columns):
    """The rows one of whose ``columns`` is at or after ``since``."""
    return [r for r in rows
            if any(r[c] is not None and r[c] >= since for c in columns)]


def _actions(sess, uuids, since):
    """The actions started since ``since``, each with its events: one
    outer join per chunk of instances."""
    action, event = models.InstanceAction, models.InstanceActionEvent
    by_id = {}
    for chunk in _chunks(uuids):
        query = (
            sa.select(*[getattr(action, c) for c in _ACTION_COLUMNS],
                      *[getattr(event, c) for c in _EVENT_COLUMNS])
            .outerjoin(event, sa.and_(event.action_id == action.id,
                                      event.deleted == 0))
            .where(action.instance_uuid.in_(chunk),
                   action.start_time >= since, action.deleted == 0)
            .order_by(action.start_time, action.id, event.start_time,
                      event.id))
        for row in sess.execute(query).all():
            values = dict(zip(_ACTION_COLUMNS, row[:len(_ACTION_COLUMNS)],
                              strict=True))
            found = by_id.setdefault(values['id'], dict(values, events=[]))
            values = dict(zip(_EVENT_COLUMNS, row[len(_ACTION_COLUMNS):],
                              strict=True))
            if values['event'] is not None:
                found['events'].append(values)
    return sorted(by_id.values(), key=lambda a: (a['start_time'], a['id']))


def _services(sess, hosts):
    service = models.Service
    found = {}
    for chunk in _chunks(hosts):
        rows = sess.execute(sa.select(
            service.host, service.disabled, service.disabled_reason,
            service.forced_down).where(
            service.host.in_(chunk), service.binary == _COMPUTE,
            service.deleted == 0)).all()
        for row in rows:
            found.setdefault(row[0], dict(zip(
                ('host', 'disabled', 'disabled_reason', 'forced_down'),
                row, strict=True)))
    return found
