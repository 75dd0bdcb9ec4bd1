"""Glance metadata definitions (metadefs) generated from the spec table.

Horizon builds its flavor extra-spec, image property and server metadata
forms from Glance's metadefs catalogue.  Settings are grouped by the
sources they are read from, one namespace per group, so that a form never
offers a key that is ignored where it is set (auto-converge and tunnelling
are not read from images).  Load the files with
``glance-manage db_load_metadefs <dir>``.
"""

import json

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.spec_types import SOURCES

#: Where the generated files are committed (relative to the repository
#: root; installed under ``share/nova-wrs-lm/etc/metadefs``).
DIRECTORY = 'etc/metadefs'

_RESOURCE_TYPES = {
    FLAVOR: {'name': 'OS::Nova::Flavor', 'prefix': 'hw:wrs:'},
    IMAGE: {'name': 'OS::Glance::Image', 'prefix': 'hw_wrs_'},
    INSTANCE: {'name': 'OS::Nova::Server', 'prefix': 'hw:wrs:',
               'properties_target': 'metadata'},
}

#: One namespace per set of sources; the key is the sorted source tuple.
_NAMESPACES = {
    (FLAVOR, IMAGE, INSTANCE): (
        'OS::Compute::WRSLiveMigration',
        'compute-wrs-live-migration.json',
        'Live migration limits (nova-wrs-lm)',
        'Timeout and maximum downtime of live migrations. Set on a flavor, '
        'an image or a server; see each property for how the values '
        'combine.'),
    (FLAVOR, INSTANCE): (
        'OS::Compute::WRSLiveMigrationPolicy',
        'compute-wrs-live-migration-policy.json',
        'Live migration policy (nova-wrs-lm)',
        'Auto-converge and tunnelling of live migrations. Set on a flavor '
        'or a server (server metadata overrides the flavor); image '
        'properties are not read.'),
    (INSTANCE,): (
        'OS::Compute::WRSInstanceHA',
        'compute-wrs-instance-ha.json',
        'Instance HA (nova-wrs-lm)',
        'Restart of a guest that ended without Nova asking, on its own '
        'host, by the wrs_lm libvirt driver. Set on a server (server '
        'metadata); the key is the one Masakari\'s instance monitor reads.'),
}

#: Resource-type prefixes that differ for one namespace (its keys are not
#: ``hw:wrs:`` ones): ``{namespace file: {source: prefix}}``.
_PREFIXES = {
    'compute-wrs-instance-ha.json': {INSTANCE: ''},
}


def _resource_type(source, filename):
    found = dict(_RESOURCE_TYPES[source])
    prefix = _PREFIXES.get(filename, {}).get(source)
    if prefix is not None:
        found['prefix'] = prefix
    if not found['prefix']:
        del found['prefix']
    return found


def _suffix(setting, source, filename):
    key = setting.canonical(source)
    prefix = _resource_type(source, filename).get('prefix', '')
    if not key.startswith(prefix):
        raise ValueError('%s does not start with %s' % (key, prefix))
    return key[len(prefix):]


def _property(setting):
    rule = setting.value
    default = setting.default.registered()
    description = '%s Valid values: %s. Precedence: %s.' % (
        setting.help, rule.rule(), setting.precedence.describe())
    description += ' Default: %s.' % setting.default_text()
    description += ''.join(
        ' Has an effect only where the compute nodes set [%s] %s = %s.' % (
            gate.group, gate.option, str(gate.required).lower())
        for gate in setting.gates)
    prop = {'title': setting.title, 'description': description,
            'type': rule.type_name, 'default': default}
    prop.update(rule.bounds())
    return prop


def namespaces():
    """Return ``{file name: namespace document}``."""
    docs = {}
    for setting in spec_table.SETTINGS:
        sources = tuple(s for s in SOURCES
                        if s in setting.keys)
        name, filename, display, description = _NAMESPACES[sources]
        suffixes = {_suffix(setting, s, filename) for s in sources}
        if len(suffixes) != 1:
            raise ValueError('%s has different names per source: %s' % (
                setting.name, sorted(suffixes)))
        doc = docs.setdefault(filename, {
            'namespace': name,
            'display_name': display,
            'description': description,
            'visibility': 'public',
            'protected': True,
            'resource_type_associations': [
                _resource_type(s, filename) for s in sources],
            'properties': {},
        })
        doc['properties'][suffixes.pop()] = _property(setting)
    return docs


def render(doc):
    return json.dumps(doc, indent=4, sort_keys=True) + '\n'

