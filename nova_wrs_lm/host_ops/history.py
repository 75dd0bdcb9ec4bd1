"""What happened, and when (``nova-wrs-lm history``): the history of the
instances of a host, or of one server, from what Nova already keeps
(instance actions and their events, migration records, instance faults,
the compute service's state), so that it survives restarts and needs no
database of the product's own.

The records are read and interpreted inside ``nova-api`` by this
package's API extension, ``GET /os-wrs-lm-history``
(:mod:`nova_wrs_lm.history_events` has the rules, one table), in one call
per host whatever the number of instances; here, on the client side:
the time asked (:func:`parse_since`), a server's name resolved to its id
(:func:`resolve_server`), and the lines an operator reads
(:func:`line`), in seed 000's words.
"""

import dataclasses
import datetime
import re

from oslo_utils import timeutils
from oslo_utils import uuidutils

#: The window when ``--since`` is not given.
DEFAULT_SINCE = datetime.timedelta(hours=24)
_RELATIVE = re.compile(r'^\s*(?P<count>\d+)\s*(?P<unit>[smhdw])\s*$')
_UNITS = {'s': 'seconds', 'm': 'minutes', 'h': 'hours', 'd': 'days',
          'w': 'weeks'}

#: What an operator reads for Nova's action names.
_SAID = {'live-migration': 'Live-Migrate', 'migrate': 'Cold-Migrate',
         'resize': 'Resize', 'confirmResize': 'Confirm-Migrate',
         'revertResize': 'Revert-Migrate', 'evacuate': 'Evacuate',
         'reboot': 'Reboot', 'start': 'Start', 'stop': 'Stop',
         'resetState': 'Reset-State', 'create': 'Create',
         'delete': 'Delete', 'ha-restart': 'Restart (instance HA)',
         'error-after-rollback': 'Set-Error (after a rolled-back '
                                 'migration)',
         'host_down_reported': 'Mark-Down (host reported down)'}


class BadSince(ValueError):
    """``--since`` is neither ISO 8601 nor a relative time."""


class UnknownServer(Exception):
    """No server, or more than one, has the name."""


@dataclasses.dataclass
class History:
    host: str | None
    server: str | None
    #: The start of the window, ISO 8601 UTC.
    since: str
    events: list

    def as_dict(self):
        return {'events': list(self.events)}


def parse_since(text, now=None):
    """``--since``: ISO 8601 (UTC when it has no offset) or a time ago
    (``90m``, ``2h``, ``7d``, ``1w``); None gives 24 hours ago.  Returns
    ISO 8601 UTC text.

    :raises BadSince: naming the forms it takes
    """
    now = now or timeutils.utcnow()
    if text is None:
        return _iso(now - DEFAULT_SINCE)
    match = _RELATIVE.match(text)
    if match:
        delta = datetime.timedelta(**{
            _UNITS[match.group('unit')]: int(match.group('count'))})
        return _iso(now - delta)
    try:
        return _iso(timeutils.normalize_time(timeutils.parse_isotime(
            text.strip())))
    except ValueError:
        raise BadSince(
            '--since %r: give a time in ISO 8601 (2026-12-01T08:00:00Z; '
            'UTC when no offset is given) or a time ago (90m, 2h, 7d, 1w)'
            % text) from None


def _iso(value):
    return value.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def resolve_server(compute, text):
    """The id of the server ``text`` names: an id as it is, else the one
    server (all projects, deleted ones too) with that name.

    :raises UnknownServer: none, or several (their ids listed)
    """
    if uuidutils.is_uuid_like(text):
        return text
    found = compute.servers_named(text)
    ids = sorted({s['id'] for s in found})
    if not ids:
        raise UnknownServer('no server named %r (give its id, or the name '
                            'of one server)' % text)
    if len(ids) > 1:
        raise UnknownServer('%d servers are named %r: give one of their '
                            'ids: %s' % (len(ids), text, ', '.join(ids)))
    return ids[0]


def read(compute, host=None, server=None, since=None):
    """The :class:`History` of ``host``'s instances, or of ``server`` (id
    or name), since ``since`` (as :func:`parse_since` takes it).

    :raises BadSince, UnknownServer, CloudError:
    """
    start = parse_since(since)
    server_id = resolve_server(compute, server) if server else None
    events = compute.history(host=host, server=server_id, since=start)
    return History(host, server_id, start, events)


def line(event):
    """One event as seed 000's system logs read, e.g. ``2026-12-01
    10:00:01  Live-Migrate issued by admin against instance vm-1 (<id>)
    owned by <project> from host compute-0 to host compute-1: done,
    reason = failure: data port down``."""
    when = (event['time'] or '')[:19].replace('T', ' ')
    if event['server_id'] is None:
        text = 'Host %s: %s' % (event['host'], event['action'])
        if event['user_id']:
            text += ' by %s' % event['user_id']
    else:
        text = '%s issued by %s against instance %s (%s) owned by %s' % (
            _SAID.get(event['action'], event['action']),
            event['user_id'] or 'the system', event['server_name'] or '-',
            event['server_id'], event['project_id'] or '-')
        if event['from_host'] or event['to_host']:
            text += ' from host %s to host %s' % (
                event['from_host'] or '-', event['to_host'] or '-')
        elif event['host']:
            text += ' on host %s' % event['host']
    text += ': %s' % event['result']
    if event['reason']:
        text += ', reason = %s' % event['reason']
    return '%s  %s' % (when, text)
