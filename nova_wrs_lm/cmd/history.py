"""``nova-wrs-lm history``: what happened, when, where and how, through
openstacksdk (``clouds.yaml`` with ``--os-cloud``, or the ``OS_*``
variables; admin credentials): every action on the instances of a host
(``--host``) or on one server (``--server``) since a time (default: 24
hours ago), oldest first: the moves, restarts, state changes and
rollbacks, with their result (done, failed, in progress) and reason, and
what was done to the host (reported down; its service's state now).

Read from what Nova keeps, by this package's API extension
(``GET /os-wrs-lm-history``, :mod:`nova_wrs_lm.host_ops.history`).
Parses and prints only; reads only.  The result (lines, or ``--format
json``) goes to stdout.  Exit status: 0; 1 for an unknown host or
server; 2 for bad usage or a cloud that cannot be reached.
"""

import json
import sys

from nova_wrs_lm.cloud import connection
from nova_wrs_lm.cmd import cloud_args
from nova_wrs_lm.host_ops import history

EXIT_UNKNOWN = 1
EXIT_INVALID = cloud_args.EXIT_INVALID


def add_parser(commands):
    parser = commands.add_parser(
        'history', help='what happened to the instances of a host, or to '
                        'a server', description=__doc__)
    parser.add_argument('--host', metavar='HOST',
                        help='the instances of this compute host, and the '
                             'host itself')
    parser.add_argument('--server', metavar='ID|NAME',
                        help='one server, by id or by name')
    parser.add_argument('--since', metavar='TIME',
                        help='ISO 8601 (UTC when no offset is given) or a '
                             'time ago: 90m, 2h, 7d, 1w (default: 24h)')
    cloud_args.add(parser)
    parser.set_defaults(run=run)
    return parser


def run(args, out=None, err=None, conn=None):
    out, err = out or sys.stdout, err or sys.stderr
    if not args.host and not args.server:
        err.write('nova-wrs-lm history: error: give --host HOST or '
                  '--server ID|NAME (or both)\n')
        return EXIT_INVALID
    try:
        found = history.read(cloud_args.compute(args, conn), host=args.host,
                             server=args.server, since=args.since)
    except history.BadSince as exc:
        err.write('nova-wrs-lm history: error: %s\n' % exc)
        return EXIT_INVALID
    except history.UnknownServer as exc:
        err.write('nova-wrs-lm history: error: %s\n' % exc)
        return EXIT_UNKNOWN
    except connection.CloudError as exc:
        err.write('nova-wrs-lm history: error: %s\n' % exc)
        return EXIT_UNKNOWN if exc.status_code == 404 else EXIT_INVALID
    if args.format == 'json':
        out.write(json.dumps(found.as_dict(), indent=2, sort_keys=True) +
                  '\n')
        return 0
    what = ' and '.join(
        w for w in ('host %s' % found.host if found.host else None,
                    'server %s' % found.server if found.server else None)
        if w)
    out.write('History of %s since %s (oldest first)\n\n' % (
        what, found.since))
    if not found.events:
        out.write('Nothing recorded.\n')
    out.write(''.join(history.line(e) + '\n' for e in found.events))
    return 0
