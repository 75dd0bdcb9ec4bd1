"""``nova-wrs-lm demo`` end to end, and ``explain --server`` against the
in-process cloud's API through openstacksdk."""

import argparse
import io
import json
import os
import subprocess
import sys
import types
import unittest
from unittest import mock

from nova_wrs_lm import spec_table
from nova_wrs_lm.cmd import demo
from nova_wrs_lm.cmd import explain
from nova_wrs_lm.demo import report
from nova_wrs_lm.harness import embedded
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _demo(*args):
    """Run the command as a user does, in its own process."""
    env = dict(os.environ, PYTHONPATH=_ROOT)
    return subprocess.run(
        [sys.executable, '-m', 'nova_wrs_lm.cmd.main', 'demo'] + list(args),
        cwd=_ROOT, env=env, capture_output=True, text=True, timeout=300)


class DemoTest(unittest.TestCase):

    def test_every_step_meets_its_expectations(self):
        done = _demo('--format', 'json')
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        doc = json.loads(done.stdout)
        self.assertTrue(doc['ok'])
        self.assertEqual([1, 2, 3, 4, 5],
                         [s['step'] for s in doc['steps']])
        for step in doc['steps']:
            self.assertTrue(step['ok'], step)
            self.assertTrue(step['records'], step)
        self.assertTrue(doc['cloud']['wrs_lm_api_filter'])
        self.assertEqual('wrs_lm.LibvirtDriver',
                         doc['cloud']['compute_driver'])
        # Progress while services start, on stderr; Nova's log hidden.
        self.assertIn('cloud ready: 6 computes', done.stderr)
        self.assertNotIn(' INFO nova.', done.stderr)

        step1, step2, step3, step4, step5 = doc['steps']
        rejected = [r['answer'] for r in step1['records']
                    if r['answer'].startswith('400')]
        timeout = spec_table.TIMEOUT.canonical(FLAVOR)
        self.assertIn('400 "%s"' % spec_table.TIMEOUT.message(timeout),
                      rejected)
        explained = step2['records'][-1]['data']['policy']
        self.assertEqual(
            {'value': 150, 'source': 'image',
             'key': spec_table.TIMEOUT.canonical(IMAGE)},
            explained['live_migration_timeout'])
        self.assertEqual('instance',
                         explained['live_migration_tunnel']['source'])
        self.assertIn('simulated', ' '.join(step3['notes']))
        self.assertIn('VIR_MIGRATE_TUNNELLED',
                      step3['records'][0]['data']['flags'])
        self.assertIn('rolled back to source host compute-3',
                      step4['records'][1]['answer'])
        self.assertEqual('ACTIVE on compute-6',
                         step5['records'][-1]['answer'])

    def test_one_step_as_a_table_with_a_summary(self):
        done = _demo('--step', '1')
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        self.assertIn('== Step 1: flavor keys', done.stdout)
        self.assertNotIn('== Step 2', done.stdout)
        summary = done.stdout[done.stdout.index('\nSummary\n'):]
        self.assertRegex(summary, r'\n1 +flavor keys.* pass +20/20 ')
        self.assertIn('steps: 1 passed, 0 failed in', summary)


class DemoExitStatusTest(unittest.TestCase):
    """A step whose expectation does not hold fails the command."""

    def test_a_failed_record_fails_the_run(self):
        def broken(cloud, step):
            step.records.append(report.Record('ask', 'no', 'yes', False))

        with mock.patch('nova_wrs_lm.demo.steps.STEPS',
                        ((1, 'broken', broken),)), \
                mock.patch.object(embedded, 'EmbeddedCloud', _NoCloud):
            out, err = io.StringIO(), io.StringIO()
            args = types.SimpleNamespace(step=None, format='table',
                                         verbose=False)
            self.assertEqual(demo.EXIT_FAILED, demo.run(args, out, err))
        self.assertIn('steps: 0 passed, 1 failed', out.getvalue())
        self.assertIn('expected: yes', out.getvalue())

    def test_a_step_that_raises_is_failed(self):
        result = demo._run_step(None, 1, 'raises', lambda c, s: 1 / 0)
        self.assertFalse(result.ok)
        self.assertIn('ZeroDivisionError', result.error)


class _NoCloud:
    """Stands in for the cloud where only the report is under test."""

    api_filter = True
    hosts = ()
    compute_driver = api_paste = None

    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class ExplainServerTest(unittest.TestCase):
    """``explain --server`` reads a server of the in-process cloud through
    its API with openstacksdk."""

    @classmethod
    def setUpClass(cls):
        cls.cloud = embedded.EmbeddedCloud(hosts=('compute-1',))
        cls.cloud.start()

    @classmethod
    def tearDownClass(cls):
        cls.cloud.stop()

    def _server(self, specs, properties, metadata, name='explained'):
        flavor_id = self.cloud.flavor('explained-%s' % self.id()[-20:],
                                      specs)
        image_id = self.cloud.image('explained', properties)
        return self.cloud.boot(name, flavor_id, image_id=image_id,
                               metadata=metadata)

    def _explain(self, *argv):
        parser = explain.add_parser(
            argparse.ArgumentParser().add_subparsers())
        args = parser.parse_args(list(argv))
        out, err = io.StringIO(), io.StringIO()
        conn = self.cloud.sdk_connection()
        with conn.real_endpoints() as sdk:
            status = explain.run(args, out, err, conn=sdk)
        return status, out.getvalue(), err.getvalue()

    def test_policy_of_a_server_from_its_flavor_image_and_metadata(self):
        timeout = spec_table.TIMEOUT
        downtime = spec_table.MAX_DOWNTIME
        server = self._server(
            {timeout.canonical(FLAVOR): '300', 'hw:cpu_policy': 'shared'},
            {timeout.canonical(IMAGE): '200',
             downtime.canonical(IMAGE): '50', 'os_distro': 'cirros'},
            {spec_table.TUNNEL.canonical(INSTANCE): 'true', 'owner': 'x'})
        status, out, err = self._explain('--server', server['id'],
                                         '--format', 'json')
        self.assertEqual(0, status, err)
        doc = json.loads(out)
        self.assertEqual({'value': 200, 'source': 'image',
                          'key': timeout.canonical(IMAGE)},
                         doc['live_migration_timeout'])
        self.assertEqual('instance', doc['live_migration_tunnel']['source'])
        # A stored invalid value is reported, not refused.
        self.assertEqual(
            [{'source': 'image', 'key': downtime.canonical(IMAGE),
              'value': '50', 'why': 'invalid',
              'message': downtime.message(downtime.canonical(IMAGE))}],
            doc['ignored'])
        # The JSON carries what the table shows.
        self.assertEqual(server['id'], doc['server']['id'])
        self.assertEqual(server['OS-EXT-SRV-ATTR:host'],
                         doc['server']['host'])
        self.assertIn({'source': 'flavor', 'key': timeout.canonical(FLAVOR),
                       'value': '300'}, doc['inputs'])

        status, out, err = self._explain('--server', server['id'])
        self.assertEqual(0, status, err)
        self.assertIn('Server %s (' % server['id'], out)
        self.assertIn('flavor    %s' % timeout.canonical(FLAVOR), out)
        self.assertNotIn('hw:cpu_policy', out)
        self.assertNotIn('os_distro', out)

    def test_server_found_by_name(self):
        # The class's cloud is shared: a name no other test boots.
        server = self._server({}, {}, {spec_table.TUNNEL.canonical(INSTANCE):
                                       'true'}, name='found-by-name')
        status, out, err = self._explain('--server', 'found-by-name',
                                         '--format', 'json')
        self.assertEqual(0, status, err)
        doc = json.loads(out)
        self.assertEqual(server['id'], doc['server']['id'])
        self.assertTrue(doc['server']['host_visible'])
        self.assertEqual('instance', doc['live_migration_tunnel']['source'])

    def test_unknown_server_is_a_clear_error(self):
        status, out, err = self._explain(
            '--server', '00000000-0000-0000-0000-000000000000')
        self.assertEqual(explain.EXIT_INVALID, status)
        self.assertEqual(
            'nova-wrs-lm explain: error: server '
            '00000000-0000-0000-0000-000000000000 not found\n', err)


class ExplainServerWithoutCloudTest(unittest.TestCase):

    def test_no_cloud_configured_is_a_clear_error(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = os.devnull
        with mock.patch.dict(os.environ, env, clear=True):
            args = explain.add_parser(
                argparse.ArgumentParser().add_subparsers()).parse_args(
                ['--server', 'abc'])
            out, err = io.StringIO(), io.StringIO()
            status = explain.run(args, out, err)
        self.assertEqual(explain.EXIT_INVALID, status)
        self.assertIn('nova-wrs-lm explain: error: no cloud to read from',
                      err.getvalue())
        self.assertIn('auth_url', err.getvalue())
