"""``nova-wrs-lm host drain`` and ``host enable`` against Nova's in-process
cloud (two computes, src and dest, running our driver on Nova's fake
libvirt), through openstacksdk as a deployer runs them (seed 000)."""

import argparse
import io
import json
import threading

import fixtures

from nova_wrs_lm.cmd import host as host_cmd
from nova_wrs_lm.harness import sdk
from nova_wrs_lm.harness import waits
from tests.functional import test_live_migration_policy as base

TIMEOUT = base.TIMEOUT


class _HostCommandTest(base.LiveMigrationTestBase):

    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 256, 'disk': 1}

    def setUp(self):
        super().setUp()
        # Nova's fake libvirt cannot copy disks for a cold migration; as
        # Nova's own libvirt functional tests of resize do.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'migrate_disk_and_power_off', return_value='{}'))
        self.conn = sdk.connection(self.api_fixture)

    def _command(self, *argv, **kwargs):
        parser = host_cmd.add_parser(
            argparse.ArgumentParser().add_subparsers())
        args = parser.parse_args(list(argv) + ['--format', 'json'])
        out, err = io.StringIO(), io.StringIO()
        with self.conn.real_endpoints() as conn:
            status = args.run(args, out, err, conn=conn, poll_interval=0.05,
                              **kwargs)
        doc = json.loads(out.getvalue()) if out.getvalue() else None
        return status, doc, err.getvalue()

    def _drain(self, purpose, **kwargs):
        return self._command('drain', 'src', '--for', purpose, '--reason',
                             'data port down', **kwargs)

    def _by_name(self, doc):
        names = {s['id']: s['name'] for s in self.api.get_servers()}
        return {names[i['id']]: i for i in doc['instances']}

    def _named(self, name, **kwargs):
        server = self._server(**kwargs)
        self.api.put_server(server['id'], {'server': {'name': name}})
        return server

    def _service_status(self):
        service = self._service('src')
        return service['status'], service['disabled_reason']


class MaintenanceDrainTest(_HostCommandTest):

    def test_first_failure_stops_the_drain_and_nothing_errors(self):
        first = self._named('m1')
        failing = self._named('m2')
        self._named('m3')
        fourth = self._named('m4')
        self.jobs.fails(failing['id'])
        status, doc, err = self._drain('maintenance')
        self.assertEqual(1, status, err)
        results = self._by_name(doc)
        self.assertEqual('failed', results['m2']['result'])
        self.assertIn('migration failed', results['m2']['reason'])
        self.assertEqual('moved', results['m1']['result'])
        self.assertEqual('dest', results['m1']['to'])
        # m3 may have started (when m1 ended) before m2 failed: then it
        # was waited for; m4 never started.
        self.assertIn(results['m3']['result'], ('moved', 'skipped'))
        self.assertEqual(('live', 'skipped',
                          'not started: the maintenance drain stopped'),
                         (results['m4']['action'], results['m4']['result'],
                          results['m4']['reason']))
        self._assert_on(failing, 'src', 'ACTIVE')
        self._assert_on(first, 'dest', 'ACTIVE')
        self._assert_on(fourth, 'src', 'ACTIVE')
        self.assertEqual([], [s['name'] for s in self.api.get_servers()
                              if s['status'] == 'ERROR'])
        # The drain disabled the service; it enabled it again.
        self.assertEqual(('enabled', None), self._service_status())
        self.assertEqual('enabled', doc['service']['was'])
        self.assertIn('maintenance drain stops', err)

    def test_dry_run_changes_nothing(self):
        active = self._named('m1')
        stopped = self._named('st')
        self._stop_server(stopped)
        status, doc, _ = self._command('drain', 'src', '--for',
                                       'maintenance', '--dry-run')
        self.assertEqual(0, status)
        self.assertTrue(doc['dry_run'])
        self.assertEqual({'m1': ('live', None), 'st': ('cold', None)},
                         {k: (v['action'], v['result']) for k, v in
                          self._by_name(doc).items()})
        self.assertEqual(('enabled', None), self._service_status())
        self._assert_on(active, 'src', 'ACTIVE')
        self.assertEqual([], self.api.get_migrations())


class FailureDrainSetUp(_HostCommandTest):
    """Four instances that can move (three ACTIVE, one STOPPED), one whose
    live migration rolls back (``rb``), one no host can take (``aa``, in
    an anti-affinity group with ``aa-peer`` on dest)."""

    def setUp(self):
        super().setUp()
        self.movable = [self._named('m%d' % i) for i in range(1, 4)]
        self.rolls_back = self._named('rb')
        self.jobs.fails(self.rolls_back['id'])
        # Anti-affinity with a member on dest, the only other host: no
        # host can take it.
        group = self.api.post_server_groups(
            {'name': 'apart', 'policy': 'anti-affinity'})
        self.unschedulable = self._in_group('aa', group, 'src')
        self._in_group('aa-peer', group, 'dest')
        self.stopped = self._named('st')
        self._stop_server(self.stopped)

    def _in_group(self, name, group, host):
        request = self._build_server(
            flavor_id=self._create_flavor(**self.FLAVOR_SIZE),
            networks='none', host=host,
            image_uuid=self.glance.auto_disk_config_enabled_image['id'])
        request['name'] = name
        server = self.api.post_server({'server': request,
                                       'os:scheduler_hints': {
                                           'group': group['id']}})
        return self._wait_for_state_change(server, 'ACTIVE')


class FailureDrainTest(FailureDrainSetUp):

    def test_everything_that_can_move_moves_the_rest_errors(self):
        # An ERROR server that no move left there: skipped by the drain,
        # left alone by host enable.
        other = self._named('other')
        self.api.post_server_action(other['id'],
                                    {'os-resetState': {'state': 'error'}})
        status, doc, err = self._drain('failure')
        self.assertEqual(1, status, err)
        results = self._by_name(doc)
        for name in ('m1', 'm2', 'm3', 'st'):
            self.assertEqual(('moved', 'dest'), (results[name]['result'],
                                                 results[name]['to']),
                             (name, results[name], err))
        self.assertEqual('cold', results['st']['action'])
        self.assertEqual((4, 2, 1), (doc['moved'], doc['failed'],
                                     doc['skipped']))
        self.assertEqual('in ERROR', results['other']['reason'])
        for server in self.movable:
            self._assert_on(server, 'dest', 'ACTIVE')
        self._assert_on(self.stopped, 'dest', 'SHUTOFF')

        # The rollback: ERROR by the driver, the reason in the fault.
        server = self._assert_on(self.rolls_back, 'src', 'ERROR')
        self.assertIn("compute service is disabled ('failure: data port "
                      "down')", server['fault']['message'])
        self.assertIn('rolled back to source host src',
                      results['rb']['reason'])
        # No valid host: ERROR by the drain, the scheduler's message shown.
        server = self._assert_on(self.unschedulable, 'src', 'ERROR')
        self.assertIn('No valid host was found', server['fault']['message'])
        self.assertIn('No valid host was found', results['aa']['reason'])
        self.assertEqual(('disabled', 'failure: data port down'),
                         self._service_status())
        self.assertIn('set to ERROR (os-resetState)', err)

        # Run again: a no-op for what is done.
        migrations = len(self.api.get_migrations())
        status, doc, _ = self._drain('failure')
        self.assertEqual(1, status)
        self.assertEqual({'rb', 'aa', 'other'}, set(self._by_name(doc)))
        self.assertEqual({'skipped'}, {i['result'] for i in doc['instances']})
        self.assertEqual(migrations, len(self.api.get_migrations()))

        # host enable: the two come back ACTIVE on src; the other ERROR
        # server is not touched.
        status, doc, err = self._command('enable', 'src')
        self.assertEqual(0, status, err)
        results = {i['name']: i for i in doc['instances']}
        self.assertEqual({'rb': 'recovered', 'aa': 'recovered',
                          'other': 'left'},
                         {k: v['result'] for k, v in results.items()})
        self._assert_on(self.rolls_back, 'src', 'ACTIVE')
        self._assert_on(self.unschedulable, 'src', 'ACTIVE')
        other = self.api.get_server(other['id'])  # ERROR with no fault
        self.assertEqual(('ERROR', 'src'), (other['status'],
                                            other['OS-EXT-SRV-ATTR:host']))
        self.assertEqual(('enabled', None), self._service_status())
        self.assertEqual('disabled', doc['service']['was'])


class HeadOfLineTest(_HostCommandTest):
    """Nova runs one live migration per source at a time: an instance that
    cannot converge is aborted when it makes no progress while others
    wait, and tried again at the end of the queue."""

    def test_a_stuck_instance_does_not_hold_up_the_others(self):
        stuck = self._named('stuck', metadata={TIMEOUT: '180'})
        self.jobs.never_converges(stuck['id'])
        others = [self._named('m%d' % i) for i in (1, 2)]
        self.clock.hold(at=30)  # the stuck job makes no progress
        result = {}

        def drain():
            result['drain'] = self._drain('failure', stall_seconds=0.3)

        thread = threading.Thread(target=drain)
        thread.start()
        self.assertTrue(self.jobs.aborted[stuck['id']].wait(
            waits.SAFETY_LIMIT))
        self.jobs.never_converges(stuck['id'])  # its retry will not either
        self.clock.release()
        thread.join(waits.SAFETY_LIMIT)
        status, doc, err = result['drain']
        self.assertEqual(1, status, err)
        results = self._by_name(doc)
        for server in others:
            self._assert_on(server, 'dest', 'ACTIVE')
        self.assertEqual(['moved', 'moved'],
                         [results[n]['result'] for n in ('m1', 'm2')])
        self.assertEqual('failed', results['stuck']['result'])
        self.assertIn('live migration not completed after 180 sec',
                      results['stuck']['reason'])
        self._assert_on(stuck, 'src', 'ERROR')
        lines = err.splitlines()
        aborted = next(i for i, line in enumerate(lines)
                       if 'stuck' in line and 'aborted (no progress' in line)
        moved = [i for i, line in enumerate(lines) if 'moved to dest' in line]
        failed = next(i for i, line in enumerate(lines)
                      if 'stuck' in line and 'failed:' in line)
        self.assertTrue(all(aborted < i < failed for i in moved), err)
