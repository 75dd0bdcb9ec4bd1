"""``nova-wrs-lm explain``: the installed console script and its output."""

import io
import json
import subprocess
import sys

import fixtures
import testtools

from nova_wrs_lm.cmd import main


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with fixtures.MonkeyPatch('sys.stdout', out), \
            fixtures.MonkeyPatch('sys.stderr', err):
        try:
            status = main.main(list(argv))
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


class ExplainJsonTest(testtools.TestCase):

    def test_json_shape_and_sources(self):
        status, out, _ = _run(
            'explain', '--format', 'json',
            '--flavor-spec', 'hw:wrs:live_migration_timeout=300',
            '--image-prop', 'hw_wrs_live_migration_timeout=150',
            '--instance-meta', 'hw:wrs:live_migration_tunnel=true')
        self.assertEqual(0, status)
        doc = json.loads(out)
        self.assertEqual({'value': 150, 'source': 'image',
                          'key': 'hw_wrs_live_migration_timeout'},
                         doc['live_migration_timeout'])
        self.assertEqual({'value': 500, 'source': 'default'},
                         doc['live_migration_max_downtime'])
        self.assertEqual('config',
                         doc['live_migration_auto_converge']['source'])
        self.assertIn('reason', doc['live_migration_auto_converge'])
        self.assertEqual({'value': True, 'source': 'instance',
                          'key': 'hw:wrs:live_migration_tunnel'},
                         doc['live_migration_tunnel'])
        self.assertEqual(['VIR_MIGRATE_TUNNELLED', 'VIR_MIGRATE_PEER2PEER'],
                         doc['libvirt']['flags_set'])

    def test_json_carries_what_the_table_shows(self):
        status, out, _ = _run('explain', '--format', 'json', '--example')
        self.assertEqual(0, status)
        doc = json.loads(out)
        self.assertIn({'source': 'image',
                       'key': 'hw_wrs_live_migration_timeout',
                       'value': '150'}, doc['inputs'])
        self.assertEqual(
            [{'source': 'image', 'key': 'hw_wrs_live_migration_auto_converge',
              'value': 'false', 'why': 'not read from this source',
              'message': 'not read from this source'}], doc['ignored'])
        self.assertNotIn('server', doc)

    def test_config_file_is_read(self):
        conf = self.useFixture(fixtures.TempDir()).join('nova.conf')
        with open(conf, 'w') as f:
            f.write('[libvirt]\nlive_migration_permit_auto_converge = true\n'
                    'live_migration_downtime = 700\n'
                    '[wrs_lm]\ndefault_timeout = 0\n')
        status, out, _ = _run('explain', '--format', 'json',
                              '--config-file', conf)
        self.assertEqual(0, status)
        doc = json.loads(out)
        self.assertEqual(
            [(0, 'default'), (700, 'default'), (True, 'default')],
            [(doc[k]['value'], doc[k]['source']) for k in (
                'live_migration_timeout', 'live_migration_max_downtime',
                'live_migration_auto_converge')])
        self.assertIn('VIR_MIGRATE_AUTO_CONVERGE', doc['libvirt']['flags_set'])
        self.assertIsNone(doc['libvirt']['timeout_action'])


class ExplainErrorsTest(testtools.TestCase):

    def test_invalid_value_exit_2_with_validator_message(self):
        status, out, err = _run(
            'explain', '--instance-meta',
            'hw:wrs:live_migration_max_downtime=99')
        self.assertEqual(2, status)
        self.assertEqual('', out)
        self.assertIn('hw:wrs:live_migration_max_downtime must be in the '
                      'range 100 to 2000000', err)

    def test_misspelled_key_names_the_known_keys(self):
        status, _, err = _run('explain', '--image-prop',
                              'hw_wrs_live_migration_timout=200')
        self.assertEqual(2, status)
        self.assertIn('hw_wrs_live_migration_timout is not a live-migration '
                      'key of the image', err)
        self.assertIn('hw_wrs_live_migration_timeout', err)

    def test_image_keys_that_are_not_read_are_reported_as_ignored(self):
        # Seed 001's volume image metadata carries such keys.
        for key in ('hw_wrs_live_migration_auto_converge',
                    'hw_wrs_live_migration_permit_auto_converge',
                    'hw_wrs_live_migration_tunnel'):
            status, out, err = _run('explain', '--format', 'json',
                                    '--image-prop', '%s=false' % key)
            self.assertEqual(0, status, err)
            self.assertEqual(
                [('image', key, 'not read from this source')],
                [(i['source'], i['key'], i['why'])
                 for i in json.loads(out)['ignored']])

    def test_missing_equals(self):
        status, _, err = _run('explain', '--flavor-spec', 'oops')
        self.assertEqual(2, status)
        self.assertIn("expected KEY=VALUE, got 'oops'", err)


class ExplainTableTest(testtools.TestCase):

    def test_example_table(self):
        status, out, _ = _run('explain', '--example')
        self.assertEqual(0, status)
        for text in ('Effective live-migration policy',
                     'live_migration_timeout        150 seconds       image',
                     'not read from this source',
                     'VIR_MIGRATE_AUTO_CONVERGE  cleared',
                     'timeout                    150 s, then abort'):
            self.assertIn(text, out)

    def test_installed_console_script(self):
        script = __import__('os').path.join(
            __import__('os').path.dirname(sys.executable), 'nova-wrs-lm')
        proc = subprocess.run(
            [script, 'explain', '--flavor-spec',
             'hw:wrs:live_migration_timeout=801'],
            capture_output=True, text=True, check=False)
        self.assertEqual(2, proc.returncode)
        self.assertEqual(
            'nova-wrs-lm explain: error: hw:wrs:live_migration_timeout must '
            'be 0 or in the range 120 to 800\n', proc.stderr)


class ServerHostTextTest(testtools.TestCase):
    """What ``explain --server`` says where a server shows no host."""

    def _inputs(self, host, visible):
        from nova_wrs_lm.cloud import server_inputs
        return server_inputs.ServerInputs('id', 'name', host, {},
                                          host_visible=visible)

    def test_host_none_and_hidden(self):
        self.assertEqual('compute-1',
                         self._inputs('compute-1', True).host_text())
        self.assertEqual('no host', self._inputs(None, True).host_text())
        self.assertEqual('host not visible',
                         self._inputs(None, False).host_text())

    def test_visibility_read_from_the_answer(self):
        from openstack.compute.v2 import server as sdk_server

        from nova_wrs_lm.cloud import server_inputs
        hidden = sdk_server.Server(id='x', name='n')
        shown = sdk_server.Server(**{'id': 'x', 'name': 'n',
                                     'OS-EXT-SRV-ATTR:host': None})
        self.assertFalse(server_inputs._host_visible(hidden))
        self.assertTrue(server_inputs._host_visible(shown))
