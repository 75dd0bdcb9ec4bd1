"""The Markdown reference of every live-migration key, from the spec table.

Committed as ``doc/spec-table.md``; a test fails when it is stale.
"""

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE

FILENAME = 'spec-table.md'

_HEADER = (
    '# Live-migration keys\n\n'
    'Generated from `nova_wrs_lm/spec_table.py` by '
    '`nova-wrs-lm generate docs`; do not edit by hand.\n\n')


def _keys(setting, source):
    keys = setting.keys.get(source)
    if not keys:
        ignored = setting.ignored.get(source)
        return ('not read (%s reported as ignored)' % ', '.join(
            '`%s`' % k for k in ignored)) if ignored else 'not read'
    text = '`%s`' % keys[0]
    if keys[1:]:
        text += ' (alias %s)' % ', '.join('`%s`' % k for k in keys[1:])
    return text


def _default(setting):
    default = setting.default
    return '%s (%s)' % (default.describe(),
                        setting.value.format(default.registered()))


def render():
    rows = ['| setting | flavor extra spec | image property | instance '
            'metadata | valid | precedence | default | gates |',
            '|---|---|---|---|---|---|---|---|']
    for s in spec_table.SETTINGS:
        gates = '; '.join(
            'applied only if `[%s] %s` is %s' % (
                g.group, g.option, str(g.required).lower())
            for g in s.gates) or '-'
        rows.append('| %s (%s) | %s | %s | %s | %s | %s | %s | %s |' % (
            s.name, s.unit, _keys(s, FLAVOR), _keys(s, IMAGE),
            _keys(s, INSTANCE), s.value.rule(), s.precedence.describe(),
            _default(s), gates))
    notes = (
        '\nWithin one source a canonical key wins over its alias. Booleans '
        'accept what `oslo_utils.strutils.bool_from_string(strict=True)` '
        'accepts. A gate that stops a value from being applied is reported '
        'with source `config` and its reason.\n')
    return _HEADER + '\n'.join(rows) + '\n' + notes
