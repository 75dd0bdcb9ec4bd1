"""The migration monitor on real live migrations between two real libvirt
hosts (libvirtd + QEMU TCG on this machine).

Each test asserts what libvirt itself reports (job statistics, maximum
downtime, errors) and where the guest runs afterwards.  Guest memory
integrity is asserted only after plain and tunnelled migrations: under
TCG, QEMU 7.2 corrupts guest memory after an auto-converge migration and
after migrating a guest whose previous migration failed, while libvirt
reports success (see doc/real-libvirt-tests.md).
"""

import logging
import time

import fixtures

from nova_wrs_lm import spec_table
from nova_wrs_lm.harness import waits
from nova_wrs_lm.realcloud import libvirt_hosts as hosts
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.virt import monitor as lm_monitor
from tests.integration import base

libvirt = base.libvirt

#: The settings' names, and their canonical keys in flavor extra specs
#: and instance metadata (the same there).
AC = spec_table.AUTO_CONVERGE.canonical(FLAVOR)
TIMEOUT = spec_table.TIMEOUT.canonical(FLAVOR)
MAX_DOWNTIME = spec_table.MAX_DOWNTIME.canonical(INSTANCE)
TUNNEL = spec_table.TUNNEL.canonical(INSTANCE)
IMAGE_MAX_DOWNTIME = spec_table.MAX_DOWNTIME.canonical(IMAGE)

#: The policies' timeouts pass this many times faster than real time.
CLOCK_FACTOR = 15


class RealLiveMigrationTest(base.RealMigrationTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova_wrs_lm', level=logging.INFO,
            format='%(levelname)s %(message)s'))

    def test_auto_converge_throttles_until_the_migration_completes(self):
        # Case 1: auto-converge from the flavor, bandwidth capped, a guest
        # dirtying memory ~4x faster than the link copies it.
        policy = self.policy(flavor={AC: 'true'},
                             live_migration_permit_auto_converge=True)
        self.assertEqual((True, FLAVOR),
                         _chosen(policy, spec_table.AUTO_CONVERGE))
        test_guest, dom = self.boot(base.HEAVY)

        run = self.migrate(test_guest, dom, policy,
                           bandwidth=base.CAPPED_BANDWIDTH)

        self.assertTrue(run.flags & libvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self._assert_completed_on_destination(test_guest, run)
        self.assertIsNone(run.result.aborted_at)
        throttles = run.watch.throttles()
        # QEMU throttles only once the copy fails to keep up: none at
        # first, then the initial step and further increments (60, 80,
        # 99 %) until it converges.  How many steps it takes depends on
        # the machine's speed (a loaded or faster machine converges at
        # 60 %), so only that the throttle was applied, from the initial
        # step, never lowered, is asserted.
        initial, _increment = base.FAST_AUTO_CONVERGE
        self.assertEqual(0, throttles[0])
        self.assertGreaterEqual(max(throttles), initial)
        self.assertEqual(sorted(throttles), throttles)
        self.assertTrue(all(t == 0 or t >= initial for t in throttles),
                        throttles)

    def test_without_auto_converge_it_is_aborted_at_the_timeout(self):
        # Case 2: the flavor asks for auto-converge, the instance metadata
        # turns it off and sets the lowest timeout; same load and link.
        policy = self.policy(
            flavor={AC: 'true', TIMEOUT: '300'},
            instance={AC: 'false', TIMEOUT: '120'},
            live_migration_permit_auto_converge=True)
        self.assertEqual((False, INSTANCE),
                         _chosen(policy, spec_table.AUTO_CONVERGE))
        self.assertEqual(120, policy.timeout)
        test_guest, dom = self.boot(base.HEAVY)

        run = self.migrate(test_guest, dom, policy,
                           bandwidth=base.CAPPED_BANDWIDTH,
                           clock=base.FastClock(CLOCK_FACTOR), timeout=None)

        self.assertFalse(run.flags & libvirt.VIR_MIGRATE_AUTO_CONVERGE)
        self.assertEqual(lm_monitor.ABORTED, run.result.outcome)
        self.assertGreaterEqual(run.result.aborted_at, 120)
        self.assertIn('WARNING Live migration not completed after 120 sec',
                      self.log.output)
        self.assertEqual(libvirt.VIR_ERR_OPERATION_ABORTED,
                         run.thread.error.get_error_code())
        running = run.watch.running()
        # libvirt copied memory pass after pass, never throttling it.
        self.assertGreater(running[-1].stats['memory_iteration'], 2)
        self.assertEqual({0}, set(run.watch.throttles()))
        dom = self.assertRunsOn(self.src_conn, test_guest)
        self.assertEqual(libvirt.VIR_DOMAIN_JOB_NONE, dom.jobStats()['type'])
        self.assertNotOn(self.dst_conn, test_guest)
        self.assertKeepsRunning(test_guest, run.end_offset)

    def test_downtime_ramp_is_what_libvirt_reports(self):
        # Case 3: the instance metadata sets the maximum downtime (the
        # image's larger value has a lower precedence).
        policy = self.policy(image={IMAGE_MAX_DOWNTIME: '1000'},
                             instance={MAX_DOWNTIME: '400', TIMEOUT: '120'})
        self.assertEqual((400, INSTANCE),
                         _chosen(policy, spec_table.MAX_DOWNTIME))
        test_guest, dom = self.boot(base.HEAVY)

        run = self.migrate(test_guest, dom, policy,
                           bandwidth=base.CAPPED_BANDWIDTH,
                           clock=base.FastClock(CLOCK_FACTOR), timeout=None)

        applied = [ms for _, ms in run.result.downtime_applied]
        self.assertGreater(len(applied), 3)
        self.assertEqual(sorted(applied), applied)
        self.assertEqual(400, applied[-1])
        # What libvirt reported at each poll, from the first step on.
        reported = _dedup(s.max_downtime for s in run.watch.running())
        self.assertIn(applied[0], reported)
        reported = reported[reported.index(applied[0]):]
        self.assertEqual(applied, reported)
        self.assertLessEqual(max(reported), policy.max_downtime)
        self.assertIn('Increasing downtime to 400 ms', self.log.output)
        self.assertEqual(lm_monitor.ABORTED, run.result.outcome)
        self.assertRunsOn(self.src_conn, test_guest)
        self.assertNotOn(self.dst_conn, test_guest)

    def test_tunnelled_migration_keeps_guest_memory_intact(self):
        # Case 4: tunnelling from the instance metadata.
        policy = self.policy(instance={TUNNEL: 'true'})
        test_guest, dom = self.boot(base.LIGHT)

        run = self.migrate(test_guest, dom, policy)

        tunnel = libvirt.VIR_MIGRATE_TUNNELLED | libvirt.VIR_MIGRATE_PEER2PEER
        self.assertEqual(tunnel, run.flags & tunnel)
        self._assert_migrated(test_guest, run)

    def test_plain_migration_keeps_guest_memory_intact(self):
        # Case 4: Nova's defaults, no tunnel.
        policy = self.policy()
        test_guest, dom = self.boot(base.LIGHT)

        run = self.migrate(test_guest, dom, policy)

        self.assertFalse(run.flags & libvirt.VIR_MIGRATE_TUNNELLED)
        self._assert_migrated(test_guest, run)

    def _assert_migrated(self, test_guest, run):
        self._assert_completed_on_destination(test_guest, run)
        self.assertMemoryIntact(test_guest, run)

    def _assert_completed_on_destination(self, test_guest, run):
        self.assertIsNone(run.thread.error)
        self.assertEqual(lm_monitor.COMPLETED, run.result.outcome)
        self.assertRunsOn(self.dst_conn, test_guest,
                          libvirt.VIR_DOMAIN_RUNNING_MIGRATED)
        self.assertNotOn(self.src_conn, test_guest)
        done = self.dst_conn.lookupByUUIDString(test_guest.uuid).jobStats(
            libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        self.assertEqual(libvirt.VIR_DOMAIN_JOB_COMPLETED, done['type'])
        self.assertEqual(0, done['memory_remaining'])

    def test_destination_daemon_killed_mid_migration(self):
        # Case 5: a libvirt fault: the destination's libvirtd is killed
        # (SIGKILL, by PID) while memory is being copied.
        policy = self.policy()
        test_guest, dom = self.boot(base.HEAVY)
        source_qemu = self.src.qemu_pids()
        self.assertEqual([test_guest.name], list(source_qemu))
        incoming = {}

        def kill_destination(sample):
            if (not incoming and sample.stats.get('memory_processed', 0) >
                    8 * 1024 * 1024):
                incoming.update(self.dst.qemu_pids())
                self.dst.kill()

        run = self.migrate(test_guest, dom, policy,
                           bandwidth=base.CAPPED_BANDWIDTH,
                           hook=kill_destination)

        self.assertEqual([test_guest.name], list(incoming))
        self.assertIsInstance(run.thread.error, libvirt.libvirtError)
        self.assertEqual(lm_monitor.FAILED, run.result.outcome)
        self.assertIsNone(run.result.aborted_at)
        # The guest runs on the source in the same QEMU process, without
        # a job; the destination's incoming QEMU is gone.
        dom = self.assertRunsOn(self.src_conn, test_guest)
        self.assertEqual(libvirt.VIR_DOMAIN_JOB_NONE, dom.jobStats()['type'])
        self.assertEqual(source_qemu, self.src.qemu_pids())
        self.assertTrue(_gone(incoming[test_guest.name]),
                        'the incoming QEMU process was left running')
        self.assertKeepsRunning(test_guest, run.end_offset)
        # The destination host comes back empty and the guest can still
        # be migrated to it.
        self.dst.start()
        self.dst_conn = self._open(self.dst)
        # A restarted libvirtd reconnects to the domains it had in a
        # thread of its own after it answers: the transient incoming
        # domain, whose QEMU is gone, is removed then, not before.
        try:
            waits.until('libvirtd to drop the incoming domain',
                        lambda: not self._defined(self.dst_conn, test_guest),
                        limit=60, interval=0.2)
        except TimeoutError:
            pass  # the assertion below says what is left
        self.assertNotOn(self.dst_conn, test_guest)
        self.assertEqual({}, self.dst.qemu_pids())
        again = self.migrate(test_guest, dom, policy)
        self.assertEqual(lm_monitor.COMPLETED, again.result.outcome)
        self.assertRunsOn(self.dst_conn, test_guest)
        self.assertNotOn(self.src_conn, test_guest)

    @staticmethod
    def _defined(conn, test_guest):
        try:
            conn.lookupByUUIDString(test_guest.uuid)
        except libvirt.libvirtError:
            return False
        return True


def _chosen(policy, setting):
    choice = policy[setting.name]
    return choice.value, choice.source


def _dedup(values):
    out = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def _gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while hosts.is_qemu(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
