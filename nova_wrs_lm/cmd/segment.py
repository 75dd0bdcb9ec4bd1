"""``nova-wrs-lm segment``: the failover segments (host aggregates with
``failover_segment`` metadata) host by host, through openstacksdk
(``clouds.yaml`` with ``--os-cloud``, or the ``OS_*`` variables; admin
credentials).  Declare segments with ``openstack aggregate ...``
(doc/scheduler.md); look at them with:

* ``segment list``: every segment, its recovery method, its hosts;
* ``segment show NAME``: one segment.

For each host: ``reserved``, ``on_maintenance`` (its compute service
disabled with a ``maintenance:`` reason), the service's ``status`` and
``state``, and the number of instances on it; then the warnings: what the
scheduler plugins ignore, what would defeat a recovery
(:mod:`nova_wrs_lm.host_ops.segments_view`).

Parses and prints only; reads only.  The result (a table, or ``--format
json``) goes to stdout.  Exit status: 0, also with warnings; 1 for an
unknown segment; 2 for bad usage or a cloud that cannot be reached.
"""

import json
import sys

from nova_wrs_lm import text_table
from nova_wrs_lm.cloud import connection
from nova_wrs_lm.cmd import cloud_args
from nova_wrs_lm.host_ops import segments_view
from nova_wrs_lm.scheduler import segments

EXIT_UNKNOWN = 1
EXIT_INVALID = cloud_args.EXIT_INVALID

COLUMNS = ('name', 'reserved', 'on_maintenance', 'status', 'state',
           'instances')


def add_parser(commands):
    parser = commands.add_parser(
        'segment', help='show the failover segments host by host',
        description=__doc__)
    found = parser.add_subparsers(dest='segment_command', metavar='COMMAND')
    found.required = True

    cmd = found.add_parser(
        'list', help='every failover segment, its recovery method, its '
                     'hosts')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run, segment=None)

    cmd = found.add_parser('show', help='one failover segment')
    cmd.add_argument('segment', metavar='NAME')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run)
    return parser


def run(args, out=None, err=None, conn=None):
    out, err = out or sys.stdout, err or sys.stderr
    command = 'show' if args.segment is not None else 'list'
    try:
        view = segments_view.read(cloud_args.compute(args, conn),
                                  args.segment)
    except segments_view.UnknownSegment as exc:
        err.write('nova-wrs-lm segment %s: error: %s\n' % (command, exc))
        return EXIT_UNKNOWN
    except connection.CloudError as exc:
        err.write('nova-wrs-lm segment %s: error: %s\n' % (command, exc))
        return EXIT_INVALID
    if args.format == 'json':
        out.write(json.dumps(view.as_dict(), indent=2, sort_keys=True) +
                  '\n')
        return 0
    if not view.segments:
        out.write('No failover segment: no aggregate has %s.\n'
                  % segments.SEGMENT.name)
    blocks = []
    for segment in view.segments:
        text = 'Segment %s, recovery method %s\n\n' % (
            segment.name, segment.recovery_method)
        if segment.hosts:
            text += text_table.render(
                [(h.name, h.reserved, h.on_maintenance, h.status or '-',
                  h.state or '-', h.instances) for h in segment.hosts],
                COLUMNS) + '\n'
        text += ''.join('warning: %s\n' % w for w in segment.warnings)
        blocks.append(text)
    out.write('\n'.join(blocks))
    if view.warnings:
        out.write('\n' + ''.join('warning: %s\n' % w for w in view.warnings))
    return 0
