"""``nova-wrs-lm explain``: the effective live-migration policy, where each
value came from, and what is applied to libvirt.

Parses and prints only: the explanation is
:func:`nova_wrs_lm.explanation.explain`, a server's inputs are read by
:mod:`nova_wrs_lm.cloud.server_inputs`."""

import json
import sys

from nova_wrs_lm import config_loader
from nova_wrs_lm import explanation
from nova_wrs_lm import spec_table
from nova_wrs_lm import text_table
from nova_wrs_lm.cloud import connection
from nova_wrs_lm.cloud import server_inputs
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.spec_types import InvalidValue

#: Exit status for invalid input (as argparse uses for usage errors).
EXIT_INVALID = 2

#: ``--example``: a flavor, an image and a server that exercise every rule.
EXAMPLE = {
    FLAVOR: {'hw:wrs:live_migration_timeout': '300',
             'hw:wrs:live_migration_max_downtime': '800',
             'hw:wrs:live_migration_auto_converge': 'true'},
    IMAGE: {'hw_wrs_live_migration_timeout': '150',
            'hw_wrs_live_migration_max_downtime': '300',
            'hw_wrs_live_migration_auto_converge': 'false'},
    INSTANCE: {'hw:wrs:live_migration_auto_converge': 'false',
               'hw:wrs:live_migration_tunnel': 'true'},
}

_OPTIONS = (
    ('--flavor-spec', FLAVOR, 'a flavor extra spec'),
    ('--image-prop', IMAGE, 'an image property'),
    ('--instance-meta', INSTANCE, 'an instance metadata item'),
)


def add_parser(commands):
    parser = commands.add_parser(
        'explain',
        help='show the effective live-migration policy and its sources',
        description=__doc__)
    for flag, source, what in _OPTIONS:
        known = sorted(spec_table.keys_for(source))
        parser.add_argument(
            flag, dest=source, action='append', default=[],
            metavar='K=V',
            help='%s (repeatable); keys: %s' % (what, ', '.join(known)))
    parser.add_argument(
        '--config-file', action='append', default=[], metavar='PATH',
        help='nova.conf to read [libvirt] and [wrs_lm] from (repeatable)')
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table')
    parser.add_argument(
        '--example', action='store_true',
        help='explain a built-in example flavor, image and server')
    parser.add_argument(
        '--server', metavar='NAME_OR_ID',
        help='read the flavor extra specs, image properties (of a '
             'volume-backed server: its boot volume\'s image metadata) and '
             'metadata of this server through openstacksdk (clouds.yaml or '
             'OS_* variables); --flavor-spec & co. then override what was '
             'read')
    parser.add_argument(
        '--os-cloud', metavar='NAME', default=None,
        help='the clouds.yaml entry to use with --server (default: '
             'OS_CLOUD, else the OS_* variables)')
    parser.set_defaults(run=run)
    return parser


class _UsageError(Exception):
    pass


def _pairs(source, items):
    # Keys recognised in a source that does not read them (image
    # auto-converge and tunnel keys, as seed 001's volume image metadata
    # carries) are accepted here and reported as not read.
    known = spec_table.recognised_keys(source)
    found = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise _UsageError('expected KEY=VALUE, got %r' % item)
        if key not in known and 'live_migration' in key:
            raise _UsageError(
                '%s is not a live-migration key of the %s; known keys: %s' %
                (key, source, ', '.join(sorted(known))))
        found[key] = value
    return found


def _write_table(explanation, out):
    server = explanation.server
    if server is not None:
        out.write('Server %s (%s) on %s\n' % (
            server.server_id, server.name, server.host_text()))
        for note in server.notes:
            out.write('  note: %s\n' % note)
        out.write('\n')
    given = explanation.input_rows()
    if given:
        out.write('Input\n')
        out.write(text_table.render(given, ('source', 'key', 'value')) +
                  '\n\n')
    out.write('Effective live-migration policy\n')
    out.write(text_table.render(explanation.rows(),
                                ('setting', 'value', 'source', 'from')) +
              '\n')
    ignored = explanation.ignored_rows()
    if ignored:
        out.write('\nNot used\n')
        out.write(text_table.render(
            ignored, ('source', 'key', 'value', 'why')) + '\n')
    plan = explanation.libvirt
    out.write('\nApplied to libvirt\n')
    rows = [(name, 'set') for name in plan['flags_set']]
    rows += [(name, 'cleared') for name in plan['flags_cleared']]
    rows.append(('max downtime', 'at most %d ms (migrateSetMaxDowntime)' %
                 plan['max_downtime_ms']))
    if plan['timeout_s']:
        rows.append(('timeout', '%d s, then %s' % (
            plan['timeout_s'], plan['timeout_action'])))
    else:
        rows.append(('timeout', 'none'))
    out.write(text_table.render(rows, ('libvirt', 'applied')) + '\n')
    rule = explanation.on_rollback
    out.write('\nIf the migration rolls back\n')
    out.write(text_table.render(
        [('ERROR, with a fault', 'if ' + rule['error_if']),
         ('otherwise', rule['otherwise']),
         ('cancelled', rule['cancelled'])],
        ('instance', 'when')) + '\n')


def write(explanation, fmt, out):
    """Print ``explanation`` (:class:`nova_wrs_lm.explanation.Explanation`)
    as ``fmt`` (``table`` or ``json``)."""
    if fmt == 'json':
        out.write(json.dumps(explanation.as_dict(), indent=2,
                             sort_keys=True) + '\n')
    else:
        _write_table(explanation, out)


def _server_inputs(args, conn=None):
    """``--server``: the server's inputs read through openstacksdk, or None
    without it."""
    if not args.server:
        return None
    return server_inputs.read(conn or connection.connect(args.os_cloud),
                              args.server)


def run(args, out=None, err=None, conn=None):
    """Run ``explain`` as parsed from ``args``; ``conn`` is the
    openstacksdk connection for ``--server`` (default: from
    ``--os-cloud``/``OS_*``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        stores = ({s: dict(v) for s, v in EXAMPLE.items()} if args.example
                  else {})
        # --server: values stored in a cloud are reported, not refused.
        server = _server_inputs(args, conn)
        if server is not None:
            stores = {s: dict(v) for s, v in server.stores.items()}
        for _flag, source, _what in _OPTIONS:
            stores.setdefault(source, {}).update(
                _pairs(source, getattr(args, source)))
        conf = config_loader.load(args.config_file)
        result = explanation.explain(stores, conf, strict=server is None,
                                     server=server)
    except (InvalidValue, _UsageError, connection.CloudError) as exc:
        err.write('nova-wrs-lm explain: error: %s\n' % exc)
        return EXIT_INVALID
    write(result, args.format, out)
    return 0
