"""What the records Nova keeps mean, as history events: the rules of
``nova-wrs-lm history`` (``GET /os-wrs-lm-history``), on the plain
:class:`~nova_wrs_lm.history_db.Records` the database work read.  No
database, no HTTP, no Nova import: tested on its own.

One event per instance action (Nova's ``instance_actions``: what the API
was asked, what the product recorded itself,
:mod:`nova_wrs_lm.instance_actions`), and, for a host, one per host-down
report and one for the state of its compute service now.  Each event:

``time``, ``host``, ``server_id``, ``server_name``, ``project_id``,
``user_id``, ``action``, ``from_host``, ``to_host``, ``result``,
``reason``, ``request_id``.

The rules (:data:`MOVES` are ``live-migration``, ``migrate``, ``resize``
and ``evacuate``, each paired with its migration record):

=====================  ==================================================
field                  rule
=====================  ==================================================
``time``               the action's start (UTC, ISO 8601); the service's
                       state: when the history was read (Nova keeps no
                       time for a change of a service)
``host``               a move: its source; another action: where its
                       compute events ran, else where the instance was
                       then (by its moves), else its host now
``from_host``          a move: the migration's source and destination
``to_host``            (``to_host`` None when none was chosen); otherwise
                       None
``result``             ``failed``: an event failed (Nova's ``Error``), or
                       the move's migration is ``failed``, ``error``,
                       ``cancelled`` or ``reverted``; a move with its
                       migration: ``done`` once that is ``completed``,
                       ``done``, ``finished`` or ``confirmed``, else
                       ``in progress``; without: ``in progress`` while an
                       event has not finished (a move with no event: until
                       its action has); otherwise ``done``
``reason``             failed: the failed event's details, else the fault
                       recorded during the action, else the migration's
                       status; ``evacuate``: the host-down report of the
                       instance before it, else the source's service
                       (forced down, or disabled with its reason);
                       ``live-migration`` and ``migrate``: the reason the
                       source's service is disabled with now (the drain's
                       ``failure: data port down``), if it is; an
                       ``error-after-rollback``: its fault; an
                       ``ha-restart``: libvirt's reason and the attempt;
                       ``host_down_reported``: the state kept; otherwise
                       None
=====================  ==================================================

A reason read from a service is its state now: a move made before the
host was disabled, on a host disabled now, reads that reason too.
"""

import datetime
import re

from nova_wrs_lm import instance_actions
from nova_wrs_lm import recovery_state

DONE, FAILED, IN_PROGRESS = 'done', 'failed', 'in progress'
RESULTS = (DONE, FAILED, IN_PROGRESS)

#: Instance action -> the ``migration_type`` of its migration record.
MOVES = {'live-migration': 'live-migration', 'migrate': 'migration',
         'resize': 'resize', 'evacuate': 'evacuation'}
#: Final statuses of a migration record, by result.
MIGRATION_DONE = ('completed', 'done', 'finished', 'confirmed')
MIGRATION_FAILED = ('failed', 'error', 'cancelled', 'reverted')

#: Host events.
REPORTED_DOWN = 'host reported down'
SERVICE_DISABLED = 'service disabled'
SERVICE_ENABLED = 'service enabled'
SERVICE_FORCED_DOWN = 'service forced down'

FIELDS = ('time', 'host', 'server_id', 'server_name', 'project_id',
          'user_id', 'action', 'from_host', 'to_host', 'result', 'reason',
          'request_id')

#: A migration record is created just before its action (evacuate) or
#: just after (the conductor's): paired within this much before.
_PAIRING_SLACK = datetime.timedelta(seconds=5)
_HA_CAUSE = re.compile(r'\((?P<cause>.*)\)\s*$')


def isotime(value):
    """A naive UTC datetime as ISO 8601 with ``Z``."""
    return value.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def build(records, now, host=None):
    """Every event of ``records``, oldest first (see the module
    docstring); with ``host``, its host events too.

    :param now: the naive UTC datetime the records were read at
    """
    events = []
    by_instance = {}
    for action in records.actions:
        by_instance.setdefault(action['instance_uuid'], []).append(action)
    for uuid, actions in by_instance.items():
        events.extend(_instance_events(
            records, records.instances.get(uuid) or {'uuid': uuid},
            actions))
    if host is not None:
        events.extend(_host_events(records, host, now))
    events.sort(key=lambda e: (e['time'], e['server_id'] or ''))
    for event in events:
        event['time'] = isotime(event['time'])
    return events


def _event(time, **values):
    found = dict.fromkeys(FIELDS)
    found.update(values, time=time)
    return found


def _instance_events(records, instance, actions):
    uuid = instance['uuid']
    migrations = sorted(
        (m for m in records.migrations if m['instance_uuid'] == uuid),
        key=lambda m: (m['created_at'], m['id']))
    faults = sorted((f for f in records.faults if f['instance_uuid'] == uuid),
                    key=lambda f: f['created_at'])
    paired = _pair(actions, migrations)
    found = []
    for index, action in enumerate(actions):
        following = actions[index + 1]['start_time'] \
            if index + 1 < len(actions) else None
        migration = paired.get(action['id'])
        earlier = actions[:index]
        from_host = to_host = None
        if action['action'] in MOVES:
            if migration is not None:
                from_host = migration['source_compute']
                to_host = migration['dest_compute']
            where = from_host or _where(action, earlier, paired, instance)
        else:
            where = _where(action, earlier, paired, instance)
        result = _result(action, migration)
        reason = _reason(records, action, result, migration, faults,
                         following, earlier, from_host)
        found.append(_event(
            action['start_time'], host=where, server_id=uuid,
            server_name=instance.get('display_name'),
            project_id=action['project_id'], user_id=action['user_id'],
            action=action['action'], from_host=from_host, to_host=to_host,
            result=result, reason=reason, request_id=action['request_id']))
    return found


def _pair(actions, migrations):
    """action id -> its migration record: for each move, the first record
    of its type not yet paired, created from just before it and before
    the next move of that kind."""
    paired, used = {}, set()
    for index, action in enumerate(actions):
        kind = MOVES.get(action['action'])
        if kind is None:
            continue
        later = [a['start_time'] for a in actions[index + 1:]
                 if a['action'] == action['action']]
        low = action['start_time'] - _PAIRING_SLACK
        high = later[0] - _PAIRING_SLACK if later else None
        for migration in migrations:
            if (migration['id'] in used or
                    migration['migration_type'] != kind or
                    migration['created_at'] < low or
                    (high is not None and migration['created_at'] >= high)):
                continue
            paired[action['id']] = migration
            used.add(migration['id'])
            break
    return paired


def _where(action, earlier, paired, instance):
    """The host of a non-move action (see the module docstring)."""
    hosts = [e['host'] for e in action['events']
             if e['host'] and e['event'].startswith('compute_')]
    if hosts:
        return hosts[-1]
    hosts = [e['host'] for e in action['events'] if e['host'] and
             not e['event'].startswith('conductor_')]
    if hosts:
        return hosts[-1]
    for before in reversed(earlier):
        migration = paired.get(before['id'])
        if migration is not None and _result(before, migration) == DONE:
            return migration['dest_compute']
    return instance.get('host')


def _result(action, migration):
    events = action['events']
    if any(e['result'] not in (None, 'Success') for e in events):
        return FAILED
    if migration is not None:
        if migration['status'] in MIGRATION_FAILED:
            return FAILED
        return DONE if migration['status'] in MIGRATION_DONE else \
            IN_PROGRESS
    if any(e['finish_time'] is None for e in events):
        return IN_PROGRESS
    if not events and action['finish_time'] is None and \
            action['action'] in MOVES:
        return IN_PROGRESS
    return DONE


def _fault_during(faults, start, following):
    """The first fault from ``start`` to ``following`` (the next
    action's start), both included: MySQL and MariaDB keep Nova's times in
    whole seconds, so a fault and the action after it may share one."""
    for fault in faults:
        if fault['created_at'] >= start and (
                following is None or fault['created_at'] <= following):
            return fault['message']
    return None


def _reason(records, action, result, migration, faults, following,
            earlier, from_host):
    name = action['action']
    if name == instance_actions.ERROR_AFTER_ROLLBACK:
        before = [f for f in faults if f['created_at'] <=
                  action['start_time']]
        return before[-1]['message'] if before else None
    if result == FAILED:
        for event in action['events']:
            if event['result'] not in (None, 'Success') and event['details']:
                return event['details']
        fault = _fault_during(faults, action['start_time'], following)
        if fault:
            return fault
        if migration is not None:
            return 'migration %s' % migration['status']
        return None
    if name == instance_actions.HA_RESTART:
        for event in action['events']:
            match = _HA_CAUSE.search(event['event'] or '')
            if match:
                return match.group('cause')
        return None
    if name == instance_actions.HOST_DOWN_REPORTED:
        for event in action['events']:
            kept = recovery_state.parse(event['details'])
            if kept is not None:
                return ('host %s reported down; before: vm_state %s, '
                        'power state %d' % ((event['host'] or '?',) + kept))
        return 'host reported down'
    service = records.services.get(from_host) if from_host else None
    if name == 'evacuate':
        if any(a['action'] == instance_actions.HOST_DOWN_REPORTED
               for a in earlier):
            return 'host %s reported down' % from_host
        return _service_state(service)
    if name in ('live-migration', 'migrate') and service and \
            service['disabled']:
        return service['disabled_reason'] or 'host %s disabled' % from_host
    return None


def _service_state(service):
    if service is None:
        return None
    if service['forced_down']:
        return 'host %s forced down' % service['host']
    if service['disabled']:
        return service['disabled_reason'] or \
            'host %s disabled' % service['host']
    return 'host %s down' % service['host']


def _host_events(records, host, now):
    events = []
    reports = {}
    for action in records.actions:
        if action['action'] != instance_actions.HOST_DOWN_REPORTED:
            continue
        if not any(e['host'] == host for e in action['events']):
            continue
        reports.setdefault(action['request_id'], []).append(action)
    for request_id, actions in reports.items():
        first = min(actions, key=lambda a: a['start_time'])
        events.append(_event(
            first['start_time'], host=host, project_id=first['project_id'],
            user_id=first['user_id'], action=REPORTED_DOWN, result=DONE,
            reason='%d instance(s) marked down' % len(actions),
            request_id=request_id))
    service = records.services.get(host)
    if service is not None:
        if service['forced_down']:
            events.append(_event(
                now, host=host, action=SERVICE_FORCED_DOWN, result=DONE,
                reason='host reported down' if reports else None))
        if service['disabled']:
            events.append(_event(
                now, host=host, action=SERVICE_DISABLED, result=DONE,
                reason=service['disabled_reason']))
        else:
            events.append(_event(now, host=host, action=SERVICE_ENABLED,
                                 result=DONE))
    return events
