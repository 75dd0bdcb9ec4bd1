"""Why no host: with ``available_filters = nova_wrs_lm.scheduler.all_filters``
(Nova's default ``enabled_filters`` plus FailoverSegmentFilter, names
unchanged), a request that no host passes fails with a NoValidHost naming
each host and the first filter that rejected it.  Nova's in-process cloud,
fake computes; hosts fail as in a real cloud (compute stopped, forced down
through os-services, then disabled: Nova cannot tell placement, so the
host stays a candidate and ComputeFilter rejects it).

Nova keeps the first 255 characters of a fault's message and of an action
event's details; the whole text is in the fault's details (shown to
admins).
"""

from nova import conf as nova_conf
from nova import context as nova_context
from nova import objects

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import settings
from nova_wrs_lm.scheduler import explaining
from nova_wrs_lm.scheduler import segments

CONF = nova_conf.CONF

NO_HOST = ('No valid host was found. There are not enough hosts '
           'available. ')


class _Cloud(cloud.ApiTestCase):
    microversion = 'latest'
    # Asynchronous casts, as in a real cloud: a scheduling failure is
    # recorded on the server, not raised into the API call.
    CAST_AS_CALL = False
    HOSTS = ()

    def _setup_scheduler_service(self):
        self.flags(group='filter_scheduler',
                   available_filters=[settings.EXPLAINING_FILTERS],
                   enabled_filters=list(
                       CONF.filter_scheduler.enabled_filters) +
                   [settings.FILTER])
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        self.flags(reserved_host_memory_mb=0)
        for host in self.HOSTS:
            self._start_compute(host)
        return self.computes[self.HOSTS[0]]

    def _host_fails(self, host):
        """Compute stopped, forced down, then disabled (as an operator
        does for a failed host)."""
        self.computes[host].stop()
        service = self.api.get_services(host=host, binary='nova-compute')[0]
        self.api.put_service(service['id'], {'forced_down': True})
        self.api.put_service(service['id'], {'status': 'disabled',
                                             'disabled_reason': 'failed'})

    def _boot(self, host=None, group=None, expected_state='ACTIVE'):
        body = self._build_server(networks='none', host=host)
        request = {'server': body}
        if group is not None:
            request['os:scheduler_hints'] = {'group': group['id']}
        server = self.api.post_server(request)
        return self._wait_for_state_change(server, expected_state)

    def _host_of(self, server):
        return self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']


class AffinityTest(_Cloud):
    HOSTS = ('c1', 'c2', 'c3')

    def setUp(self):
        super().setUp()
        self.group = self.api.post_server_groups(
            {'name': 'g', 'policy': 'affinity'})
        self.member = self._boot(host='c1', group=self.group)
        self._host_fails('c1')

    def test_boot_names_each_host_and_the_filter_that_rejected_it(self):
        server = self._boot(group=self.group, expected_state='ERROR')
        self.assertEqual(
            NO_HOST +
            'c1 (ComputeFilter: service disabled (failed)), '
            'c2 (ServerGroupAffinityFilter: server group g is on c1), '
            'c3 (ServerGroupAffinityFilter: server group g is on c1)',
            server['fault']['message'])
        self.assertEqual(500, server['fault']['code'])

    def test_a_request_that_succeeds_is_unchanged(self):
        # What Nova runs are the explaining filters, under Nova's names.
        enabled = self.scheduler.manager.host_manager.enabled_filters
        self.assertEqual(
            list(CONF.filter_scheduler.enabled_filters),
            [type(f).__name__ for f in enabled])
        self.assertTrue(all(isinstance(f, explaining._Explaining)
                            for f in enabled))
        # c1 fails ComputeFilter; outside the group, c2 or c3 take it.
        server = self._boot()
        self.assertIn(self._host_of(server), ('c2', 'c3'))
        self.assertNotIn('fault', server)


class NoCandidateTest(_Cloud):
    HOSTS = ('c1', 'c2')

    def test_placement_returned_nothing_so_no_filter_ran(self):
        # SmallFakeDriver hosts have 8192 MB of RAM.
        flavor = self._create_flavor(memory_mb=16384, vcpu=1, disk=1,
                                     name='huge')
        body = self._build_server(networks='none', flavor_id=flavor)
        server = self._wait_for_state_change(
            self.api.post_server({'server': body}), 'ERROR')
        self.assertEqual(
            'No valid host was found. Placement returned no allocation '
            'candidate for the requested resources; no host filter ran.',
            server['fault']['message'])


class CapTest(_Cloud):
    HOSTS = tuple('h%02d' % i for i in range(22))

    def test_the_message_names_twenty_hosts_and_counts_the_others(self):
        group = self.api.post_server_groups(
            {'name': 'g', 'policy': 'affinity'})
        self._boot(host='h00', group=group)
        self._host_fails('h00')
        server = self._boot(group=group, expected_state='ERROR')
        named = ['h00 (ComputeFilter: service disabled (failed))'] + [
            'h%02d (ServerGroupAffinityFilter: server group g is on h00)'
            % i for i in range(1, 20)]
        message = NO_HOST + ', '.join(named) + ' and 2 more'
        self.assertIn(message + '\n', server['fault']['details'])
        self.assertEqual(message[:255], server['fault']['message'])


class LiveMigrationTest(_Cloud):
    """S1: s1-a, s1-b (active), s1-r (reserved), method auto; S2: s2-a."""

    HOSTS = ('s1-a', 's1-b', 's1-r', 's2-a')

    def setUp(self):
        super().setUp()
        self._aggregate('S1', ['s1-a', 's1-b', 's1-r'], {
            segments.SEGMENT.name: 'S1',
            segments.RECOVERY_METHOD.name: segments.AUTO.name})
        self._aggregate('S1-reserved', ['s1-r'],
                        {segments.RESERVED.name: 'true'})
        self._aggregate('S2', ['s2-a'], {segments.SEGMENT.name: 'S2'})

    def _aggregate(self, name, hosts, metadata):
        agg_id = self._create_aggregate(name)
        for host in hosts:
            self.api.add_host_to_aggregate(agg_id, host)
        self.api.post_aggregate_action(
            agg_id, {'set_metadata': {'metadata': metadata}})

    def test_live_migration_event_names_each_host(self):
        server = self._boot(host='s1-a')
        self._host_fails('s1-b')
        self.api.post_server_action(
            server['id'],
            {'os-migrateLive': {'host': None, 'block_migration': 'auto'}})
        self._wait_for_migration_status(server, ['error'])
        event = self._wait_for_action_fail_completion(
            server, 'live-migration', 'conductor_live_migrate_instance')
        message = (
            NO_HOST +
            's1-b (ComputeFilter: service disabled (failed)), '
            's1-r (FailoverSegmentFilter: reserved host; recovery method '
            'of S1: auto), '
            's2-a (FailoverSegmentFilter: not in the failover segment of '
            'the source host (S1)), '
            "s1-a (excluded by the request: the instance's own host)")
        self.assertEqual(message[:255], event['details'])
        # The whole text: in the fault the conductor records (not shown by
        # the API while the server is ACTIVE).
        fault = self._latest_fault(server)
        self.assertEqual(message[:255], fault.message)
        self.assertIn(message + '\n', fault.details)
        self.assertEqual('s1-a', self._host_of(server))

    def _latest_fault(self, server):
        ctxt = nova_context.get_admin_context()
        cell = objects.InstanceMapping.get_by_instance_uuid(
            ctxt, server['id']).cell_mapping
        with nova_context.target_cell(ctxt, cell) as cctxt:
            return objects.InstanceFaultList.get_by_instance_uuids(
                cctxt, [server['id']])[0]
