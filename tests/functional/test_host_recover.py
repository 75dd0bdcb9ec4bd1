"""``nova-wrs-lm host report-down`` and ``host recover`` against Nova's
in-process cloud, through openstacksdk as a deployer runs them (seeds 002,
003, 004): five fake computes, the failover segments set as aggregate
metadata through Nova's API (as in ``test_failover_segments``), the
api-paste.ini with the wrs_lm filter (the host-down report), the
scheduler with ``FailoverSegmentFilter`` and ``FailoverSegmentWeigher``.

    segment S1: s1-a (the host that fails), s1-b (active), s1-r (reserved)
    segment S2: s2-a
    no segment: free
"""

import argparse
import io
import json
import os

import fixtures
from nova import conf as nova_conf
from nova import context as nova_context

from nova_wrs_lm import recovery_state
from nova_wrs_lm.cmd import host as host_cmd
from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import sdk
from nova_wrs_lm.harness import segments as declared
from nova_wrs_lm.harness import settings
from nova_wrs_lm.host_ops import recover
from nova_wrs_lm.scheduler import segments

S1_HOSTS = ('s1-a', 's1-b', 's1-r')
HOSTS = S1_HOSTS + ('s2-a', 'free')
FAILED = 's1-a'


class _RecoverTest(cloud.ApiTestCase):
    API_PASTE = settings.WRS_LM_API_PASTE
    microversion = 'latest'
    # Asynchronous casts, as in a real cloud: a scheduling failure of an
    # evacuation is recorded on the server, not raised into the API call.
    CAST_AS_CALL = False
    #: The reserved aggregate also carries failover_segment=S1 (and s1-r
    #: is not in the S1 aggregate): releasing it must keep it in S1.
    RESERVED_CARRIES_SEGMENT = False

    def _setup_scheduler_service(self):
        self.flags(group='filter_scheduler', **settings.scheduler_options(
            nova_conf.CONF, enabled_filters=['ComputeFilter']))
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        self.flags(reserved_host_memory_mb=0)
        for host in HOSTS:
            self._start_compute(host)
        return self.computes['s1-a']

    def setUp(self):
        super().setUp()
        # SmallFakeDriver hosts have 8192 MB of RAM.
        self.half = self._create_flavor(memory_mb=4096, vcpu=1, disk=1,
                                        ephemeral=0, name='half')
        self.quarter = self._create_flavor(memory_mb=2048, vcpu=1, disk=1,
                                           ephemeral=0, name='quarter')
        s1 = declared.declare(
            self, 'S1', ('s1-a', 's1-b'), reserved=('s1-r',),
            reserved_carries_segment=self.RESERVED_CARRIES_SEGMENT)
        self.s1, self.reserved = s1.aggregate, s1.reserved
        declared.declare(self, 'S2', ('s2-a',))
        self.conn = sdk.connection(self.api_fixture)
        self.failed = set()

    # -- set-up through Nova's API ------------------------------------

    def _recovery_method(self, method):
        declared.set_method(self, self.s1, method)

    def _boot(self, name, flavor, host=FAILED, forced=False):
        server = self._create_server(
            name=name, flavor_id=flavor, networks='none',
            az='nova:%s' % host if forced else None,
            host=None if forced else host)
        self.assertEqual(host, self._host_of(server))
        return server

    def _host_of(self, server):
        return self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']

    def _state(self, server):
        server = self.api.get_server(server['id'])
        return server['OS-EXT-SRV-ATTR:host'], server['status']

    def _refresh_usage(self):
        # What each running compute's update_available_resource periodic
        # does every minute in a real cloud; the weighers read its result.
        ctx = nova_context.get_admin_context()
        for host, compute in self.computes.items():
            if host in self.failed:
                continue
            with nova_context.target_cell(
                    ctx, self.host_mappings[host].cell_mapping) as cctxt:
                compute.manager.update_available_resource(cctxt)

    def _host_fails(self, host=FAILED, report=True):
        """The host dies (its compute stops); the monitor, having fenced
        it, reports it down with the CLI."""
        self.failed.add(host)
        self.computes[host].stop()
        self._refresh_usage()
        if report:
            status, doc, err = self._command('report-down', host)
            self.assertEqual(0, status, err)
            return doc
        return None

    def _service(self, host=FAILED):
        return self.api.get_services(host=host, binary='nova-compute')[0]

    def _aggregates(self):
        return self.api.api_get('/os-aggregates').body['aggregates']

    def _reserved_hosts(self):
        return sorted(h for a in self._aggregates()
                      if a['metadata'].get(segments.RESERVED.name) == 'true'
                      for h in a['hosts'])

    def _segment_of(self, host):
        return sorted(a['metadata'][segments.SEGMENT.name]
                      for a in self._aggregates()
                      if host in a['hosts'] and
                      segments.SEGMENT.name in a['metadata'])

    # -- the CLI ------------------------------------------------------

    def _command(self, *argv, table=False):
        parser = host_cmd.add_parser(
            argparse.ArgumentParser().add_subparsers())
        args = parser.parse_args(
            list(argv) + ([] if table else ['--format', 'json']))
        out, err = io.StringIO(), io.StringIO()
        with self.conn.real_endpoints() as conn:
            kwargs = ({'poll_interval': 0.05} if argv[0] == 'recover'
                      else {})
            status = args.run(args, out, err, conn=conn, **kwargs)
        if table:
            return status, out.getvalue(), err.getvalue()
        doc = json.loads(out.getvalue()) if out.getvalue() else None
        return status, doc, err.getvalue()

    def _recover(self, *argv, host=FAILED):
        self._refresh_usage()
        status, doc, err = self._command('recover', host, *argv)
        by_name = {i['name']: i for i in doc['instances']} if doc else None
        return status, doc, by_name, err


class ReservedHostRecoveryTest(_RecoverTest):

    def test_report_down_then_recover_to_the_reserved_host(self):
        self._recovery_method(segments.RESERVED_HOST)
        active = self._boot('active', self.quarter)
        stopped = self._stop_server(self._boot('stopped', self.quarter))
        error = self._boot('error', self.quarter)
        self.api.post_server_action(error['id'],
                                    {'os-resetState': {'state': 'error'}})
        self._boot('elsewhere', self.half, 's1-b')

        doc = self._host_fails()
        # The ACTIVE one is marked down; the STOPPED one already is; the
        # ERROR one is left as it is.
        self.assertEqual((True, 1), (doc['host_down_reported'],
                                     doc['instances_marked_down']))
        self.assertEqual([{'id': error['id'], 'reason': 'already in error'}],
                         doc['instances_skipped'])
        self.assertEqual(('down', True), (self._service()['state'],
                                          self._service()['forced_down']))
        self.assertEqual((FAILED, 'SHUTOFF'), self._state(active))
        # The report kept the state from before it, in its action.
        action = self.api.get_instance_actions(active['id'])[0]
        self.assertEqual(recovery_state.ACTION, action['action'])
        events = self.api.get_instance_action_details(
            active['id'], action['request_id'])['events']
        self.assertEqual([('active', 1)], [
            recovery_state.parse(e['details']) for e in events
            if e['event'] == recovery_state.EVENT])

        status, doc, results, err = self._recover()
        self.assertEqual(0, status, err)
        self.assertEqual(
            {'active': ('active', 'recovered', 's1-r'),
             'stopped': ('stopped', 'recovered', 's1-r'),
             'error': ('error', 'recovered', 's1-r')},
            {k: (v['from_state'], v['result'], v['to'])
             for k, v in results.items()}, err)
        # States from before the failure: ACTIVE (set back to active
        # before its evacuation, so that Nova spawned it running), STOPPED
        # stays, ERROR too (set back after the evacuation).
        self.assertEqual(('s1-r', 'ACTIVE'), self._state(active))
        self.assertEqual(('s1-r', 'SHUTOFF'), self._state(stopped))
        self.assertEqual(('s1-r', 'ERROR'), self._state(error))
        self.assertEqual(['evacuate', 'resetState', 'host_down_reported'],
                         [a['action'] for a in self.api.get_instance_actions(
                             active['id'])][:3])
        self.assertEqual(['resetState', 'evacuate', 'resetState'],
                         [a['action'] for a in self.api.get_instance_actions(
                             error['id'])][:3])
        # s1-r is no longer reserved, still in S1.
        self.assertEqual([], self._reserved_hosts())
        self.assertEqual(['S1'], self._segment_of('s1-r'))
        self.assertEqual([{'host': 's1-r', 'removed_from': ['S1-reserved'],
                           'added_to': []}], doc['reserved_hosts_released'])
        # The failed host is in maintenance.
        service = self._service()
        self.assertEqual('disabled', service['status'])
        self.assertTrue(service['disabled_reason'].startswith(
            'maintenance: recovered by nova-wrs-lm at '),
            service['disabled_reason'])
        self.assertEqual(service['disabled_reason'],
                         doc['service']['disabled_reason'])
        self.assertIsNone(doc['nothing_to_do'])

        # A second run does nothing and says so.
        migrations = len(self.api.get_migrations())
        status, doc, results, err = self._recover()
        self.assertEqual(0, status, err)
        self.assertEqual({}, results)
        self.assertIn('no instance is left on it', doc['nothing_to_do'])
        self.assertEqual(migrations, len(self.api.get_migrations()))
        self.assertEqual(service, self._service())
        status, text, _ = self._command('recover', FAILED, table=True)
        self.assertEqual(0, status)
        self.assertIn('Nothing to do: host s1-a was recovered', text)

    def test_rerun_restores_what_a_stopped_run_left(self):
        """A run stopped after an evacuation and before the start: the
        next one starts the instance and releases the reserved host."""
        self._recovery_method(segments.RESERVED_HOST)
        active = self._boot('active', self.quarter)
        self._host_fails()
        self._refresh_usage()
        # What the stopped run did: the service disabled with the reason,
        # the evacuation.
        self.api.put_service(self._service()['id'], {
            'status': 'disabled', 'disabled_reason':
                recover.REASON_PREFIX + '2000-01-01T00:00:00Z'})
        self.api.post_server_action(active['id'], {'evacuate': {}})
        self._wait_for_migration_status(active, ['done'])
        self._wait_for_server_parameter(active,
                                        {'OS-EXT-STS:task_state': None})
        self.assertEqual(('s1-r', 'SHUTOFF'), self._state(active))
        self.assertEqual(['s1-r'], self._reserved_hosts())

        status, doc, results, err = self._recover()
        self.assertEqual(0, status, err)
        self.assertEqual(('active', 'recovered', 's1-r'),
                         (results['active']['from_state'],
                          results['active']['result'],
                          results['active']['to']))
        self.assertEqual(('s1-r', 'ACTIVE'), self._state(active))
        self.assertEqual([], self._reserved_hosts())


class PartialRoomTest(_RecoverTest):
    """The reserved host has room for only part of the load."""

    RESERVED_CARRIES_SEGMENT = True

    def setUp(self):
        super().setUp()
        self.evacuees = [self._boot('e%d' % i, self.half) for i in (1, 2)]
        self._boot('on-b', self.half, 's1-b')
        # s1-r holds one half already: room for one more.
        self._boot('on-r', self.half, 's1-r', forced=True)

    def test_rh_priority_fills_the_reserved_host_then_active_hosts(self):
        self._recovery_method(segments.RH_PRIORITY)
        self._host_fails()
        status, doc, results, err = self._recover('--concurrency', '1')
        self.assertEqual(0, status, err)
        self.assertEqual(['s1-b', 's1-r'],
                         sorted(results[n]['to'] for n in ('e1', 'e2')))
        self.assertEqual('s1-r', results['e1']['to'])
        for server in self.evacuees:
            self.assertEqual('ACTIVE', self._state(server)[1])
        # It took an instance: released, and kept in S1 through the S1
        # aggregate (its reserved aggregate was what made it a member).
        self.assertEqual([], self._reserved_hosts())
        self.assertEqual(['S1'], self._segment_of('s1-r'))
        self.assertEqual([{'host': 's1-r', 'removed_from': ['S1-reserved'],
                           'added_to': ['S1']}],
                         doc['reserved_hosts_released'])

    def test_auto_uses_active_hosts_only_and_errors_the_rest(self):
        self._recovery_method(segments.AUTO)
        self._host_fails()
        status, doc, results, err = self._recover()
        self.assertEqual(1, status, err)
        self.assertEqual((1, 1), (doc['recovered'], doc['failed']))
        moved = next(r for r in results.values() if r['result'] ==
                     'recovered')
        failed = next(r for r in results.values() if r['result'] ==
                      'failed')
        self.assertEqual('s1-b', moved['to'])
        self.assertIn('No valid host was found', failed['reason'])
        # Left in ERROR on the failed host with its fault.
        server = self.api.get_server(failed['id'])
        self.assertEqual((FAILED, 'ERROR'),
                         (server['OS-EXT-SRV-ATTR:host'], server['status']))
        self.assertIn('No valid host was found', server['fault']['message'])
        # Nothing landed on s1-r: still reserved.
        self.assertEqual(['s1-r'], self._reserved_hosts())
        self.assertEqual([], doc['reserved_hosts_released'])

        # Room on s1-b again: a re-run retries it, with the state kept
        # from before the failure (ACTIVE, not the ERROR it is in now).
        self._delete_server(self.api.get_server(
            next(s['id'] for s in self.api.get_servers()
                 if s['name'] == 'on-b')))
        status, doc, results, err = self._recover()
        self.assertEqual(0, status, err)
        self.assertEqual([('active', 'recovered', 's1-b')],
                         [(r['from_state'], r['result'], r['to'])
                          for r in results.values()])
        self.assertEqual(('s1-b', 'ACTIVE'), self._state(
            {'id': failed['id']}))


class HaEnabledAndRefusalsTest(_RecoverTest):

    def test_only_ha_enabled_instances_are_evacuated(self):
        self._recovery_method(segments.RESERVED_HOST)
        tagged = self._boot('tagged', self.quarter)
        self.api.post_server_metadata(tagged['id'], {'HA_Enabled': 'True'})
        plain = self._boot('plain', self.quarter)
        self._host_fails()
        config = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'nova.conf')
        with open(config, 'w') as handle:
            handle.write('[wrs_lm]\nrecover_only_ha_enabled = true\n')
        status, doc, results, err = self._recover('--config-file', config)
        self.assertEqual(0, status, err)
        self.assertEqual(('recovered', 's1-r'),
                         (results['tagged']['result'],
                          results['tagged']['to']))
        self.assertEqual('skipped', results['plain']['result'])
        self.assertIn('not HA-enabled', results['plain']['reason'])
        self.assertEqual(('s1-r', 'ACTIVE'), self._state(tagged))
        self.assertEqual((FAILED, 'SHUTOFF'), self._state(plain))

    def test_refused_on_an_up_host(self):
        server = self._boot('on-b', self.quarter, 's1-b')
        status, doc, _, err = self._recover(host='s1-b')
        self.assertEqual(2, status)
        self.assertIsNone(doc)
        self.assertIn('nova-wrs-lm host recover: error: the nova-compute '
                      'service of host s1-b is up: refusing', err)
        self.assertEqual(('enabled', None), (self._service('s1-b')['status'],
                                             self._service('s1-b')[
                                                 'disabled_reason']))
        self.assertEqual(('s1-b', 'ACTIVE'), self._state(server))
        self.assertEqual([], self.api.get_migrations())

    def test_refused_on_a_maintenance_host_unless_forced(self):
        self._recovery_method(segments.RESERVED_HOST)
        server = self._boot('m', self.quarter)
        self.api.put_service(self._service()['id'], {
            'status': 'disabled', 'disabled_reason': 'maintenance: BIOS'})
        self._host_fails()
        status, doc, _, err = self._recover()
        self.assertEqual(2, status)
        self.assertIn("host s1-a is in maintenance (its nova-compute service "
                      "is disabled: 'maintenance: BIOS'): HA is off during "
                      "maintenance. Use --force", err)
        self.assertEqual([], self.api.get_migrations())
        self.assertEqual('maintenance: BIOS',
                         self._service()['disabled_reason'])
        status, doc, results, err = self._recover('--force')
        self.assertEqual(0, status, err)
        self.assertEqual(('s1-r', 'ACTIVE'), self._state(server))
        self.assertTrue(self._service()['disabled_reason'].startswith(
            recover.REASON_PREFIX))

    def test_report_down_and_clear(self):
        server = self._boot('on-b', self.quarter, 's1-b')
        status, text, err = self._command('report-down', 's1-b', table=True)
        self.assertEqual(0, status, err)
        self.assertIn('Host s1-b reported down: nova-compute service '
                      'enabled, forced down; 1 instance(s) marked down, 0 '
                      'skipped', text)
        self.assertEqual(('s1-b', 'SHUTOFF'), self._state(server))
        status, doc, err = self._command('report-down', 's1-b', '--clear')
        self.assertEqual(0, status, err)
        self.assertEqual((False, 0), (doc['host_down_reported'],
                                      doc['instances_marked_down']))
        self.assertFalse(self._service('s1-b')['forced_down'])
        status, doc, err = self._command('report-down', 'no-such-host')
        self.assertEqual(2, status)
        self.assertIn('nova-wrs-lm host report-down: error: PUT '
                      '/os-hosts/no-such-host:', err)
        self.assertIn('(HTTP 404)', err)
