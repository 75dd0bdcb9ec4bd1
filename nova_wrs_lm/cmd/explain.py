"""``nova-wrs-lm explain``: the effective live-migration policy, where each
value came from, and what is applied to libvirt."""

import json
import sys

from nova_wrs_lm import config_loader
from nova_wrs_lm import resolver
from nova_wrs_lm import spec_table
from nova_wrs_lm import text_table
from nova_wrs_lm.cmd import server_source
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.spec_types import SOURCES
from nova_wrs_lm.spec_types import InvalidValue
from nova_wrs_lm.virt import migration_flags

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
    # --server UUID: the stores come from a cloud (server_source).
    server_source.add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


class _UsageError(Exception):
    pass


def _pairs(source, items):
    known = spec_table.keys_for(source)
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


def _rows(policy):
    rows = []
    for setting in spec_table.SETTINGS:
        choice = policy[setting.name]
        where = choice.key or ''
        if choice.source == 'default':
            where = setting.default.describe()
        if choice.reason:
            where = '%s; wanted %s from %s' % (
                choice.reason, setting.value.format(choice.requested),
                choice.requested_source)
        value = setting.value.display(choice.value, setting.unit)
        rows.append((setting.name, value, choice.source, where))
    return rows


def _libvirt(policy, conf):
    to_set, to_clear = migration_flags.changes(policy)
    action = conf.libvirt.live_migration_timeout_action
    return {
        'flags_set': list(to_set),
        'flags_cleared': list(to_clear),
        'max_downtime_ms': policy.max_downtime,
        'timeout_s': policy.timeout,
        'timeout_action': action if policy.timeout else None,
    }


def _print_table(stores, policy, plan, out):
    given = [(source, k, v) for source in SOURCES
             for k, v in sorted((stores[source] or {}).items())]
    if given:
        out.write('Input\n')
        out.write(text_table.render(given, ('source', 'key', 'value')) +
                  '\n\n')
    out.write('Effective live-migration policy\n')
    out.write(text_table.render(_rows(policy),
                     ('setting', 'value', 'source', 'from')) + '\n')
    if policy.ignored:
        out.write('\nNot used\n')
        out.write(text_table.render(
            [(i.source, i.key, str(i.value), i.message or i.why)
             for i in policy.ignored],
            ('source', 'key', 'value', 'why')) + '\n')
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


def explain(stores, conf, fmt, out, strict=True):
    """Resolve ``stores`` (strictly: user input) and write the explanation
    to ``out``."""
    policy = resolver.resolve(conf, strict=strict, **stores)
    plan = _libvirt(policy, conf)
    if fmt == 'json':
        doc = policy.as_dict()
        doc['ignored'] = [
            {'source': i.source, 'key': i.key, 'value': i.value,
             'why': i.why} for i in policy.ignored]
        doc['libvirt'] = plan
        out.write(json.dumps(doc, indent=2, sort_keys=True) + '\n')
    else:
        _print_table(stores, policy, plan, out)
    return policy


def run(args, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.example:
            stores = {s: dict(v) for s, v in EXAMPLE.items()}
        else:
            stores = {}
        # --server: values stored in a cloud are reported, not refused.
        from_server = server_source.stores_from_args(args, out)
        if from_server is not None:
            stores = from_server
        for _flag, source, _what in _OPTIONS:
            stores.setdefault(source, {}).update(
                _pairs(source, getattr(args, source)))
        conf = config_loader.load(args.config_file)
        explain(stores, conf, args.format, out,
                strict=from_server is None)
    except (InvalidValue, _UsageError, server_source.SourceError) as exc:
        err.write('nova-wrs-lm explain: error: %s\n' % exc)
        return EXIT_INVALID
    return 0
