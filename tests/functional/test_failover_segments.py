"""Failover segments in Nova's in-process cloud: five fake computes, the
segments set as aggregate metadata through Nova's API, hosts forced down
through os-services, and evacuate / live migrate / cold migrate / resize
through the API.  Each test asserts where the instances land.

    segment S1: s1-a, s1-b (active), s1-r (reserved)
    segment S2: s2-a
    no segment: free
"""

from nova import conf as nova_conf
from nova import context as nova_context

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import segments as declared
from nova_wrs_lm.harness import settings
from nova_wrs_lm.scheduler import segments

S1_HOSTS = ('s1-a', 's1-b', 's1-r')
OUTSIDE_S1 = ('s2-a', 'free')
HOSTS = S1_HOSTS + OUTSIDE_S1


class FailoverSegmentsTest(cloud.ApiTestCase):
    microversion = 'latest'
    # Asynchronous casts, as in a real cloud: a scheduling failure of an
    # evacuation is then recorded, not raised into the API call.
    CAST_AS_CALL = False

    def _setup_scheduler_service(self):
        self.flags(group='filter_scheduler', **settings.scheduler_options(
            nova_conf.CONF, enabled_filters=['ComputeFilter']))
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        # Whole hosts for instances: two halves fill one.
        self.flags(reserved_host_memory_mb=0)
        for host in HOSTS:
            self._start_compute(host)
        return self.computes['s1-a']

    def setUp(self):
        super().setUp()
        # SmallFakeDriver hosts have 8192 MB of RAM.
        self.full = self._create_flavor(memory_mb=8192, vcpu=1, disk=1,
                                        ephemeral=0, name='full')
        self.half = self._create_flavor(memory_mb=4096, vcpu=1, disk=1,
                                        ephemeral=0, name='half')
        self.quarter = self._create_flavor(memory_mb=2048, vcpu=1, disk=1,
                                           ephemeral=0, name='quarter')
        self.s1 = declared.declare(self, 'S1', ('s1-a', 's1-b'),
                                   reserved=('s1-r',)).aggregate
        declared.declare(self, 'S2', ('s2-a',))
        self.failed = set()

    # -- set-up through Nova's API ------------------------------------

    def _recovery_method(self, method):
        declared.set_method(self, self.s1, method)

    def _boot(self, flavor, host=None, expected_state='ACTIVE'):
        return self._create_server(flavor_id=flavor, host=host,
                                   networks='none',
                                   expected_state=expected_state)

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

    def _host_fails(self, host):
        self.failed.add(host)
        self.computes[host].stop()
        service = self.api.get_services(host=host, binary='nova-compute')[0]
        self.api.put_service(service['id'], {'forced_down': True})

    def _evacuate(self, server, outcome='done'):
        self._refresh_usage()
        self.api.post_server_action(server['id'], {'evacuate': {}})
        self._wait_for_migration_status(server, [outcome])
        self._wait_for_server_parameter(server,
                                        {'OS-EXT-STS:task_state': None})
        return self._host_of(server)

    def _live_migrate_anywhere(self, server):
        self._refresh_usage()
        self._live_migrate(server)
        return self._host_of(server)

    def _cold_migrate_anywhere(self, server):
        self._refresh_usage()
        self._migrate_server(server)
        self._confirm_resize(server)
        return self._host_of(server)

    def _host_of(self, server):
        return self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']

    # -- stories ------------------------------------------------------

    def test_boot_never_lands_on_the_reserved_host(self):
        hosts = [self._host_of(self._boot(self.full)) for _ in range(4)]
        self.assertEqual(sorted(('s1-a', 's1-b', 's2-a', 'free')),
                         sorted(hosts))
        # s1-r is empty but reserved: the fifth instance has nowhere to go.
        server = self._boot(self.full, expected_state='ERROR')
        self.assertIsNone(self._host_of(server))

    def test_evacuation_with_reserved_host_goes_to_the_reserved_host(self):
        self._recovery_method(segments.RESERVED_HOST)
        evacuees = [self._boot(self.half, 's1-a') for _ in range(2)]
        self._boot(self.half, 's1-b')
        self._host_fails('s1-a')
        # The second one too, though s1-b, s2-a and free have more room.
        self.assertEqual(['s1-r', 's1-r'],
                         [self._evacuate(s) for s in evacuees])

    def test_evacuation_with_auto_stays_on_active_hosts_of_s1(self):
        self._recovery_method(segments.AUTO)
        first, second = [self._boot(self.half, 's1-a') for _ in range(2)]
        self._boot(self.half, 's1-b')
        self._host_fails('s1-a')
        self.assertEqual('s1-b', self._evacuate(first))
        # s1-b is full; s1-r (reserved), s2-a and free are empty: no host.
        self.assertEqual('s1-a', self._evacuate(second, outcome='error'))

    def test_live_and_cold_migration_stay_in_s1(self):
        self._recovery_method(segments.AUTO)
        mover = self._boot(self.half, 's1-a')
        self._boot(self.quarter, 's1-a')
        other = self._boot(self.quarter, 's1-b')
        # Empty s1-r, s2-a and free have more room than s1-b or s1-a.
        self.assertEqual('s1-b', self._live_migrate_anywhere(mover))
        self.assertEqual('s1-a', self._cold_migrate_anywhere(other))

    def test_resize_that_may_stay_on_its_host_stays_in_s1(self):
        # Nova sets no ignore_hosts then: the Migration record names the
        # source host.
        self.flags(allow_resize_to_same_host=True)
        self._recovery_method(segments.AUTO)
        resized = self._boot(self.quarter, 's1-a')
        self._boot(self.half, 's1-a')
        self._boot(self.half, 's1-b')
        self._refresh_usage()
        self._resize_server(resized, self.half)
        self._confirm_resize(resized)
        # Only s1-b has room in S1; s1-r, s2-a and free have more.
        self.assertEqual('s1-b', self._host_of(resized))

    def test_rh_priority_prefers_the_reserved_host_while_it_has_room(self):
        self._recovery_method(segments.RH_PRIORITY)
        evacuees = [self._boot(self.half, 's1-a') for _ in range(2)]
        mover = self._boot(self.half, 's1-b')
        self.assertEqual('s1-r', self._live_migrate_anywhere(mover))
        self._host_fails('s1-a')
        # s1-r has room for one half; then the emptied active s1-b.
        self.assertEqual(['s1-r', 's1-b'],
                         [self._evacuate(s) for s in evacuees])

    def test_auto_priority_prefers_active_hosts_while_they_have_room(self):
        self._recovery_method(segments.AUTO_PRIORITY)
        evacuees = [self._boot(self.half, 's1-a') for _ in range(2)]
        self._boot(self.half, 's1-b')
        mover = self._boot(self.quarter, 's1-b')
        # The active hosts of S1 are full: the reserved host takes it.
        self.assertEqual('s1-r', self._live_migrate_anywhere(mover))
        self._host_fails('s1-a')
        # s1-b has room for one half (s1-r has more); then s1-r, which has
        # less room than s2-a and free.
        self.assertEqual(['s1-b', 's1-r'],
                         [self._evacuate(s) for s in evacuees])
