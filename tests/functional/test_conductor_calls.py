"""Our driver makes no conductor call that Nova's does not: the calls a
live migration makes from nova-compute to nova-conductor, counted
(nova_wrs_lm.harness.conductor_calls) for the same migration on two
computes running Nova's ``libvirt.LibvirtDriver`` and on two running
``wrs_lm.LibvirtDriver``, side by side in one cloud."""

import collections

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import conductor_calls
from nova_wrs_lm.harness import settings
from nova_wrs_lm.harness import waits

STOCK_DRIVER = 'libvirt.LibvirtDriver'


class ConductorCallsTest(cloud.LibvirtTestCase):

    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 512, 'disk': 1}

    def setUp(self):
        super().setUp()
        self.hosts = {}
        for name, driver in (('stock', STOCK_DRIVER),
                             ('ours', settings.WRS_DRIVER)):
            self.flags(compute_driver=driver)
            self.hosts[name] = (self.start_compute(hostname=name + '-src'),
                                self.start_compute(hostname=name + '-dest'))

    def _server(self, host, flavor_id):
        request = self._build_server(flavor_id=flavor_id, networks='none',
                                     host=host)
        # A policy from each source the driver reads.
        request['metadata'] = {'hw:wrs:live_migration_timeout': '300'}
        server = self.api.post_server({'server': request})
        return self._wait_for_state_change(server, 'ACTIVE')

    def _migrate(self, name, flavor_id):
        """The compute-side conductor calls of one live migration to the
        ``name`` computes, from the request until the source's migration
        task has ended."""
        src, dest = self.hosts[name]
        server = self._server(src, flavor_id)
        source = self.computes[src].manager
        with conductor_calls.ConductorCalls() as calls:
            self._live_migrate(server, host=dest)
            waits.until(
                'the live migration task on %s ends' % src,
                lambda: server['id'] not in source._waiting_live_migrations)
        self.assertEqual(dest, self.api.get_server(
            server['id'])['OS-EXT-SRV-ATTR:host'])
        return calls.calls

    def test_same_conductor_calls_as_nova(self):
        flavor_id = self._create_flavor(
            extra_spec={'hw:wrs:live_migration_max_downtime': '600'},
            **self.FLAVOR_SIZE)
        stock = self._migrate('stock', flavor_id)
        ours = self._migrate('ours', flavor_id)
        # The counter sees the computes' calls (a test that cannot fail
        # is a defect): a live migration saves the instance and the
        # migration more than once.
        self.assertGreater(len(stock), 5)
        self.assertEqual(collections.Counter(stock),
                         collections.Counter(ours))
        self.assertEqual(len(stock), len(ours))
        # The instance came with its flavor, system metadata and metadata
        # (instance_policy warns about any it did not come with).
        self.assertIn('Live migration policy: live_migration_timeout=300 '
                      '(instance)', self.stdlog.logger.output)
        self.assertNotIn('The instance came without',
                         self.stdlog.logger.output)
