"""Files derived from the spec table are committed; they must be current."""

import json
import os

import fixtures
import jsonschema
import testtools
from glanceclient.v2 import namespace_schema
from oslo_config import generator

from nova_wrs_lm import docs_table
from nova_wrs_lm import metadefs
from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _read(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return f.read()


class ConfigSampleTest(testtools.TestCase):

    def test_sample_is_current(self):
        out = self.useFixture(fixtures.TempDir()).join('sample')
        generator.main([
            '--config-file',
            os.path.join(ROOT, 'etc', 'oslo-config-generator',
                         'nova-wrs-lm.conf'),
            '--output-file', out])
        with open(out) as f:
            fresh = f.read()
        self.assertEqual(
            fresh, _read('etc', 'nova', 'nova-wrs-lm.conf.sample'),
            'etc/nova/nova-wrs-lm.conf.sample is stale: run tox -e genconfig')


class MetadefsTest(testtools.TestCase):

    def test_committed_files_are_current(self):
        committed = sorted(os.listdir(os.path.join(ROOT, 'etc',
                                                   'metadefs')))
        self.assertEqual(sorted(metadefs.namespaces()), committed)
        for filename, doc in metadefs.namespaces().items():
            self.assertEqual(
                metadefs.render(doc), _read('etc', 'metadefs', filename),
                'etc/metadefs/%s is stale: run tox -e genmetadefs'
                % filename)

    def test_valid_against_glance_namespace_schema(self):
        schema = namespace_schema.BASE_SCHEMA
        for filename in metadefs.namespaces():
            doc = json.loads(_read('etc', 'metadefs', filename))
            jsonschema.validate(doc, schema)

    def test_every_key_is_offered_where_it_is_read(self):
        offered = {}
        for doc in metadefs.namespaces().values():
            for assoc in doc['resource_type_associations']:
                for prop in doc['properties']:
                    offered.setdefault(assoc['name'], set()).add(
                        assoc.get('prefix', '') + prop)
        self.assertEqual(
            {s.canonical(FLAVOR) for s in spec_table.SETTINGS
             if FLAVOR in s.keys},
            offered['OS::Nova::Flavor'])
        self.assertEqual(
            {s.canonical(INSTANCE) for s in spec_table.SETTINGS},
            offered['OS::Nova::Server'])
        # Only what is read from images is offered on images.
        self.assertEqual(
            {s.canonical(IMAGE) for s in spec_table.SETTINGS
             if IMAGE in s.keys},
            offered['OS::Glance::Image'])

    def test_ranges_and_defaults(self):
        props = {}
        for doc in metadefs.namespaces().values():
            props.update(doc['properties'])
        timeout = props['live_migration_timeout']
        self.assertEqual((0, 800, 180, 'integer'),
                         (timeout['minimum'], timeout['maximum'],
                          timeout['default'], timeout['type']))
        self.assertIn('0 or in the range 120 to 800', timeout['description'])
        self.assertIn('Default: [wrs_lm] default_timeout (180).',
                      timeout['description'])
        self.assertIn('Has an effect only where the compute nodes set '
                      '[libvirt] live_migration_permit_auto_converge = true',
                      props['live_migration_auto_converge']['description'])
        downtime = props['live_migration_max_downtime']
        self.assertEqual((100, 500), (downtime['minimum'],
                                      downtime['default']))
        self.assertEqual(2000000, downtime['maximum'])
        self.assertEqual(
            ('boolean', True),
            (props['live_migration_auto_converge']['type'],
             props['live_migration_auto_converge']['default']))


class DocsTableTest(testtools.TestCase):

    def test_committed_table_is_current(self):
        self.assertEqual(docs_table.render(),
                         _read('doc', docs_table.FILENAME),
                         'doc/spec-table.md is stale: run tox -e gendocs')

    def test_readme_table_is_current(self):
        readme = _read('README.md')
        self.assertEqual(docs_table.render_readme(readme), readme,
                         'README.md spec table is stale: run tox -e gendocs')
        self.assertIn('hw:wrs:live_migration_timeout', readme)
