"""Live migrations in Nova's in-process cloud with two computes on Nova's
fake libvirt, ``compute_driver = wrs_lm.LibvirtDriver``.

The fake domains behave like real ones as far as the monitor can see: a
migration that does not converge keeps its job running until
``abortJob()``, after which ``migrateToURI3`` raises "operation aborted" and
the guest is still running on the source.  Time is a fake clock advanced by
the monitor's own sleeps, so a 120 s timeout takes a few hundred polls.
"""

import os

import fixtures
from nova import virt
from nova.tests import fixtures as nova_fixtures
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client
from nova.virt import driver
from nova.virt import wrs_lm

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import settings
from nova_wrs_lm.harness import waits
from nova_wrs_lm.virt import driver as wrs_lm_driver

TIMEOUT = 'hw:wrs:live_migration_timeout'
DOWNTIME = 'hw:wrs:live_migration_max_downtime'
AUTO_CONVERGE = 'hw:wrs:live_migration_auto_converge'
TUNNEL = 'hw:wrs:live_migration_tunnel'
IMAGE_TIMEOUT = 'hw_wrs_live_migration_timeout'
IMAGE_AUTO_CONVERGE = 'hw_wrs_live_migration_auto_converge'


class LiveMigrationTestBase(cloud.LibvirtTestCase):
    """Two fake libvirt computes, ``src`` and ``dest``, running our
    driver as Nova loads it from ``compute_driver``."""

    def setUp(self):
        super().setUp()
        self.src = self.computes[self.start_compute(hostname='src')]
        self.dest = self.computes[self.start_compute(hostname='dest')]

    def _configure_libvirt(self, **options):
        """Set ``[libvirt]`` options and restart src (Nova reads its
        global migration flags when the driver starts)."""
        self.flags(group='libvirt', **options)
        self.src = self.restart_compute_service('src')

    # -- stories' vocabulary ---------------------------------------------

    #: Flavor sizes of the servers booted (Nova's helper's defaults when
    #: empty: 2 VCPUs, 2 GB, which a fake host holds only 4 of).
    FLAVOR_SIZE = {}

    def _server(self, flavor=None, image=None, metadata=None):
        """Boot a server on src with these extra specs, image properties
        and metadata."""
        flavor_id = self._create_flavor(extra_spec=flavor or {},
                                        **self.FLAVOR_SIZE)
        image_id = self.glance.auto_disk_config_enabled_image['id']
        if image:
            image_id = self.glance.create(None, {
                'name': 'lm', 'status': 'active',
                'container_format': 'bare', 'disk_format': 'raw',
                'properties': dict(image)})['id']
        request = self._build_server(flavor_id=flavor_id,
                                     image_uuid=image_id, networks='none',
                                     host='src')
        if metadata:
            request['metadata'] = dict(metadata)
        server = self.api.post_server({'server': request})
        return self._wait_for_state_change(server, 'ACTIVE')

    def _stuck_server(self, **kwargs):
        """A server on src whose next migration never converges."""
        server = self._server(**kwargs)
        self.jobs.never_converges(server['id'])
        return server

    def _start_migration(self, server):
        self.api.post_server_action(
            server['id'], {'os-migrateLive': {'host': 'dest',
                                              'block_migration': 'auto'}})

    def _service(self, host):
        return self.api.get_services(binary='nova-compute', host=host)[0]

    def _set_service(self, host, **body):
        self.api.put_service(self._service(host)['id'], body)

    def _flags(self, server):
        return self.jobs.calls[server['id']]['flags']

    def _assert_on(self, server, host, status):
        server = self._wait_for_state_change(server, status)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def _log(self):
        return self.stdlog.logger.output


class DriverLoadingTest(LiveMigrationTestBase):

    def test_nova_loads_the_driver_from_the_installed_package(self):
        # Nova's loader imports nova.virt.<compute_driver>: the thin
        # package installed into Nova's own package directory.
        loaded = driver.load_compute_driver(None, settings.WRS_DRIVER)
        self.assertIs(wrs_lm_driver.LibvirtDriver, type(loaded))
        self.assertIs(wrs_lm_driver.LibvirtDriver, type(self.src.driver))
        self.assertEqual(os.path.dirname(virt.__file__),
                         os.path.dirname(os.path.dirname(wrs_lm.__file__)))


class FlagsTest(LiveMigrationTestBase):
    """The flags given to migrateToURI3, per precedence and gate rule."""

    def setUp(self):
        super().setUp()
        # dest announces an address: Nova then passes a migrate URI to a
        # direct (untunnelled) migration.
        self.flags(live_migration_inbound_addr='192.0.2.2', group='libvirt')

    def _migrate(self, **kwargs):
        server = self._server(**kwargs)
        self._live_migrate(server)
        self._assert_on(server, 'dest', 'ACTIVE')
        return self._flags(server), self.jobs.calls[server['id']]['params']

    def test_flavor_only(self):
        self._configure_libvirt(live_migration_permit_auto_converge=True)
        flags, params = self._migrate(
            flavor={AUTO_CONVERGE: 'true', TUNNEL: 'true'})
        for name in ('VIR_MIGRATE_AUTO_CONVERGE', 'VIR_MIGRATE_TUNNELLED',
                     'VIR_MIGRATE_PEER2PEER', 'VIR_MIGRATE_LIVE'):
            self.assertTrue(flags & getattr(fakelibvirt, name), name)
        self.assertNotIn('migrate_uri', params)
        self.assertNotIn('migrate_disks', params)
        self.assertIn('live_migration_tunnel=True (flavor)', self._log())

    def test_flavor_off(self):
        self._configure_libvirt(live_migration_permit_auto_converge=True)
        flags, params = self._migrate(
            flavor={AUTO_CONVERGE: 'false', TUNNEL: 'false'})
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_TUNNELLED)
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_PEER2PEER)
        self.assertEqual('tcp://192.0.2.2', params['migrate_uri'])

    def test_instance_overrides_flavor(self):
        self._configure_libvirt(live_migration_permit_auto_converge=True)
        flags, _ = self._migrate(
            flavor={AUTO_CONVERGE: 'true', TUNNEL: 'true'},
            metadata={AUTO_CONVERGE: 'false', TUNNEL: 'false'})
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_TUNNELLED)
        self.assertIn('live_migration_auto_converge=False (instance)',
                      self._log())

    def test_instance_tunnels_although_flavor_does_not(self):
        flags, params = self._migrate(flavor={TUNNEL: 'false'},
                                      metadata={TUNNEL: 'true'})
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_TUNNELLED)
        self.assertNotIn('migrate_uri', params)

    def test_global_tunnelling_is_the_default_only(self):
        self._configure_libvirt(live_migration_tunnelled=True)
        tunnelled, _ = self._migrate()
        self.assertTrue(tunnelled & fakelibvirt.VIR_MIGRATE_TUNNELLED)
        direct, _ = self._migrate(flavor={TUNNEL: 'false'})
        self.assertFalse(direct & fakelibvirt.VIR_MIGRATE_TUNNELLED)

    def test_image_value_ignored_for_auto_converge(self):
        self._configure_libvirt(live_migration_permit_auto_converge=True)
        flags, _ = self._migrate(image={IMAGE_AUTO_CONVERGE: 'false'})
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertIn("Ignoring live migration setting "
                      "hw_wrs_live_migration_auto_converge='false' from "
                      "image", self._log())

    def test_post_copy_permitted_replaces_auto_converge(self):
        self._configure_libvirt(live_migration_permit_auto_converge=True,
                                live_migration_permit_post_copy=True)
        flags, _ = self._migrate(flavor={AUTO_CONVERGE: 'true'})
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_POSTCOPY)
        self.assertIn('live_migration_auto_converge=False (config)',
                      self._log())

    def test_native_tls_replaces_tunnelling(self):
        self._configure_libvirt(live_migration_with_native_tls=True)
        flags, _ = self._migrate(flavor={TUNNEL: 'true'})
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_TUNNELLED)
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_TLS)


class TimeoutTest(LiveMigrationTestBase):
    """A migration that does not converge, against its timeout."""

    def test_timeout_aborts_and_server_stays_active_on_source(self):
        server = self._stuck_server(flavor={TIMEOUT: '120'})
        self._live_migrate(server, migration_expected_state='failed',
                           server_expected_state='ACTIVE')
        self._assert_on(server, 'src', 'ACTIVE')
        self.assertTrue(self.jobs.aborted[server['id']].is_set())
        self.assertIn('Live migration not completed after 120 sec',
                      self._log())

    def test_no_abort_before_the_timeout(self):
        server = self._stuck_server(flavor={TIMEOUT: '150'})
        self.clock.hold(at=149)
        self._start_migration(server)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        self.assertFalse(self.jobs.aborted[server['id']].is_set())
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])
        self.assertTrue(self.jobs.aborted[server['id']].is_set())
        self.assertIn('Live migration not completed after 150 sec',
                      self._log())

    def test_downtime_steps_reach_but_never_exceed_max(self):
        server = self._stuck_server(flavor={TIMEOUT: '120',
                                            DOWNTIME: '1000'})
        self._live_migrate(server, migration_expected_state='failed')
        applied = self.jobs.downtimes[server['id']]
        self.assertEqual(11, len(applied))  # Nova's 10 steps, from step 0
        self.assertEqual(sorted(applied), applied)
        self.assertEqual(1000, applied[-1])
        self.assertEqual(100, applied[0])
        self.assertTrue(all(ms <= 1000 for ms in applied))
        self.assertIn('Increasing downtime to 1000 ms after 80 sec elapsed '
                      'time', self._log())

    def test_timeout_zero_never_aborts_and_caps_nova_steps(self):
        # Instance max below Nova's [libvirt] live_migration_downtime (500).
        server = self._stuck_server(flavor={TIMEOUT: '0', DOWNTIME: '200'})
        self.clock.hold(at=3600)
        self._start_migration(server)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        self.assertFalse(self.jobs.aborted[server['id']].is_set())
        applied = self.jobs.downtimes[server['id']]
        self.assertEqual(200, max(applied))
        self.assertEqual(50, applied[0])  # Nova's first step: 500 / 10
        # Let the test end: end the job as an admin would.
        self.jobs.end(server['id'])
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])


class RollbackTest(LiveMigrationTestBase):
    """A migration that rolls back: ERROR only off a failed source (forced
    down, or disabled with a ``failure:`` reason), the rule of
    nova_wrs_lm.virt.rollback."""

    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 256, 'disk': 1}

    #: (how src's compute service is set mid-migration, the server's
    #: status after the rollback)
    RULE = (
        ({}, 'ACTIVE'),
        ({'status': 'disabled'}, 'ACTIVE'),
        ({'status': 'disabled',
          'disabled_reason': 'maintenance: kernel upgrade'}, 'ACTIVE'),
        ({'status': 'disabled', 'disabled_reason': 'data port failed'},
         'ACTIVE'),
        ({'status': 'disabled',
          'disabled_reason': 'failure: data port down'}, 'ERROR'),
        ({'status': 'disabled', 'disabled_reason': '  FAILURE: NIC'},
         'ERROR'),
        ({'forced_down': True}, 'ERROR'),
    )

    def _roll_back_with_source(self, **service):
        """A migration off src whose job fails after src's compute
        service was set as ``service`` says."""
        server = self._stuck_server()
        self.clock.hold(at=10)
        self._start_migration(server)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        if service:
            self._set_service('src', **service)
        self.jobs.end(server['id'])  # the job fails on its own
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])
        return server

    def _reset_source(self):
        self._set_service('src', status='enabled')
        self._set_service('src', forced_down=False)

    def test_the_rule_by_source_service(self):
        for service, status in self.RULE:
            with self.subTest(service=service):
                server = self._roll_back_with_source(**service)
                server = self._assert_on(server, 'src', status)
                self._reset_source()
                if status == 'ACTIVE':
                    self.assertNotIn('fault', server)
                    continue
                message = server['fault']['message']
                self.assertIn('rolled back to source host src', message)
                self.assertIn('evacuation', message)
                if 'disabled_reason' in service:
                    self.assertIn("compute service is disabled (%r)" %
                                  service['disabled_reason'].strip(),
                                  message)
                else:
                    self.assertIn('compute service is forced down', message)

    def test_the_prefixes_are_an_option(self):
        self.flags(group='wrs_lm',
                   failure_disabled_reason_prefixes=['hw-fault', 'vim:'])
        server = self._roll_back_with_source(
            status='disabled', disabled_reason='VIM: host degraded')
        self._assert_on(server, 'src', 'ERROR')
        self._reset_source()
        server = self._roll_back_with_source(
            status='disabled', disabled_reason='failure: x')
        self._assert_on(server, 'src', 'ACTIVE')

    def test_timeout_off_a_failed_source_ends_in_error_with_fault(self):
        server = self._stuck_server(flavor={TIMEOUT: '120'})
        self._set_service('src', status='disabled',
                          disabled_reason='failure: data port failed')
        self._live_migrate(server, migration_expected_state='failed',
                           server_expected_state='ERROR')
        server = self._assert_on(server, 'src', 'ERROR')
        message = server['fault']['message']
        self.assertIn("compute service is disabled ('failure: data port "
                      "failed')", message)
        self.assertIn('live migration not completed after 120 sec', message)

    def test_operator_abort_off_a_failed_source_stays_active(self):
        server = self._stuck_server()
        self._set_service('src', status='disabled',
                          disabled_reason='failure: data port down')
        self.clock.hold(at=10)
        self._start_migration(server)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        migration = self.api.get_active_migrations(server['id'])[0]
        self.api.delete_migration(server['id'], migration['id'])
        self.clock.release()
        self._wait_for_migration_status(server, ['cancelled', 'failed'])
        self._assert_on(server, 'src', 'ACTIVE')


class HangingAndFailingLibvirtTest(LiveMigrationTestBase):
    """Issue 11 §4, §10: libvirt calls that hang or fail."""

    def test_rollback_does_not_wait_for_a_hanging_migrate_call(self):
        server = self._server()
        self.jobs.fails_and_hangs(server['id'])
        self._start_migration(server)
        # The job failed: the migration is rolled back and the server is
        # ACTIVE on its source while migrateToURI3 still blocks (before the
        # fix the rollback waited for the call).
        self._wait_for_migration_status(server, ['failed'])
        self._assert_on(server, 'src', 'ACTIVE')
        self.assertTrue(self.jobs.hanging(server['id']))
        self.jobs.end(server['id'])

    def test_abort_failing_at_the_timeout_clears_active_migrations(self):
        server = self._stuck_server(flavor={TIMEOUT: '120'})
        self.jobs.abort_fails(server['id'])
        self._start_migration(server)
        self._wait_for_migration_status(server, ['error', 'failed'])
        self.assertIn('Failed to abort migration', self._log())
        # Nova's own loop clears its entry before re-raising; so does ours.
        self.assertNotIn(server['id'], self.src.driver.active_migrations)
        self.jobs.end(server['id'])


class ConcurrentMigrationsTest(LiveMigrationTestBase):

    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 256, 'disk': 1}
    """Two migrations at once off a host disabled for a failure: each its
    own policy; the one that rolls back does not affect the other."""

    def test_each_migration_has_its_own_policy(self):
        self.flags(max_concurrent_live_migrations=2)
        stuck = self._stuck_server(flavor={TIMEOUT: '120',
                                           DOWNTIME: '1000'})
        moving = self._server(flavor={TIMEOUT: '800'},
                              metadata={DOWNTIME: '200'})
        self.jobs.converges(moving['id'], after_polls=4)
        self._set_service('src', status='disabled',
                          disabled_reason='failure: data port down')

        self.clock.hold(at=10)
        self._start_migration(stuck)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        self._live_migrate(moving)
        self.clock.release()
        self._wait_for_migration_status(stuck, ['failed'])

        self._assert_on(moving, 'dest', 'ACTIVE')
        self._assert_on(stuck, 'src', 'ERROR')
        self.assertFalse(self.jobs.aborted[moving['id']].is_set())
        moved = self.jobs.downtimes[moving['id']]
        self.assertEqual(20, moved[0])  # 200 / 10 steps
        self.assertTrue(all(ms <= 200 for ms in moved))
        self.assertEqual(1000, self.jobs.downtimes[stuck['id']][-1])


class InvalidStoredValuesTest(LiveMigrationTestBase):
    """Values stored on the instance that break a rule fall back."""

    def test_invalid_values_fall_back_with_one_warning_each(self):
        server = self._server(flavor={TIMEOUT: '150'},
                              image={IMAGE_TIMEOUT: 'abc'},
                              metadata={TIMEOUT: '99', DOWNTIME: 'x'})
        self._live_migrate(server)
        self._assert_on(server, 'dest', 'ACTIVE')
        log = self._log()
        for key, value, source in ((IMAGE_TIMEOUT, 'abc', 'image'),
                                   (TIMEOUT, '99', 'instance'),
                                   (DOWNTIME, 'x', 'instance')):
            line = ("Ignoring live migration setting %s='%s' from %s"
                    % (key, value, source))
            self.assertEqual(1, log.count(line), line)
        self.assertIn('live_migration_timeout=150 (flavor)', log)
        self.assertIn('live_migration_max_downtime=500 (default)', log)

    def test_invalid_timeout_falls_back_to_a_working_one(self):
        server = self._stuck_server(image={IMAGE_TIMEOUT: 'abc'},
                                    metadata={TIMEOUT: '99'})
        self._live_migrate(server, migration_expected_state='failed')
        # [wrs_lm] default_timeout (180) applies.
        self.assertIn('Live migration not completed after 180 sec',
                      self._log())


class TunnelledBlockMigrationPreCheckTest(LiveMigrationTestBase):
    """Selective disk migration is impossible when tunnelled: a block
    migration of an instance with a volume fails its pre-check when the
    instance's policy tunnels, and goes ahead when it does not."""

    def setUp(self):
        super().setUp()
        # The two fake computes share one instances_path; make it look
        # local so that 'auto' picks a block migration.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            '_check_shared_storage_test_file', return_value=False))
        # No disk files exist behind the fake domains.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.get_instance_disk_info',
            return_value='[]'))

    def _server_with_volume(self, **kwargs):
        server = self._server(**kwargs)
        self._attach_volume(server, nova_fixtures.CinderFixture.SWAP_OLD_VOL)
        return server

    def test_tunnelled_block_migration_with_volume_is_refused(self):
        server = self._server_with_volume(metadata={TUNNEL: 'true'})
        # Nova's harness makes the API's cast to the conductor a call, so
        # the conductor's NoValidHost (dest failed its pre-check) reaches
        # the test; a deployed API answers 202 and the migration errors.
        exc = self.assertRaises(client.OpenStackApiException,
                                self._start_migration, server)
        self.assertIn('NoValidHost', exc.response.text)
        self._wait_for_migration_status(server, ['error'])
        self._assert_on(server, 'src', 'ACTIVE')
        self.assertNotIn(server['id'], self.jobs.calls)
        self.assertIn(
            'Cannot block migrate instance %s with mapped volumes. '
            'Selective block device migration is not supported with '
            'tunnelled block migrations (live_migration_tunnel is true '
            'from instance).' % server['id'], self._log())

    def test_direct_block_migration_with_volume_goes_ahead(self):
        server = self._server_with_volume(metadata={TUNNEL: 'false'})
        self._live_migrate(server)
        self._assert_on(server, 'dest', 'ACTIVE')
        flags = self._flags(server)
        self.assertTrue(flags & fakelibvirt.VIR_MIGRATE_NON_SHARED_INC)
        self.assertFalse(flags & fakelibvirt.VIR_MIGRATE_TUNNELLED)
