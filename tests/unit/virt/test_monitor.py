"""MigrationMonitor driven through Nova's real ``Guest`` over a scripted
domain: the job types a libvirt domain reports, in order, and what the
monitor does to it."""

import fixtures
import testtools
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import migration as libvirt_migrate

from nova_wrs_lm import config_loader
from nova_wrs_lm import resolver
from nova_wrs_lm.virt import monitor

libvirt = libvirt_migrate.libvirt
NONE = libvirt.VIR_DOMAIN_JOB_NONE
RUNNING = libvirt.VIR_DOMAIN_JOB_UNBOUNDED
COMPLETED = libvirt.VIR_DOMAIN_JOB_COMPLETED
FAILED = libvirt.VIR_DOMAIN_JOB_FAILED
CANCELLED = libvirt.VIR_DOMAIN_JOB_CANCELLED


class ScriptedDomain:
    """A domain whose migration job runs for ``runs_for`` polls and then
    ends as ``ends_as``; ``abortJob`` ends it as real libvirt does (no job
    any more, guest still active)."""

    def __init__(self, runs_for=None, ends_as=COMPLETED, start_after=0):
        self.runs_for = runs_for
        self.ends_as = ends_as
        self.start_after = start_after
        self.polls = 0
        self.downtimes = []
        self.aborts = 0
        self.paused = False
        self.resumed = False
        self.active = True
        self.fail_abort = False
        #: Downtimes (ms) whose update raises this exception.
        self.downtime_errors = {}

    def jobStats(self, flags=0):
        self.polls += 1
        if self.aborts:
            return {'type': NONE}
        if self.polls <= self.start_after:
            return {'type': NONE}
        if self.runs_for is None or self.polls <= (self.start_after +
                                                   self.runs_for):
            return {'type': RUNNING, 'memory_total': 100,
                    'memory_remaining': 50}
        if self.ends_as == COMPLETED:
            self.active = False
        return {'type': self.ends_as}

    def migrateSetMaxDowntime(self, ms):
        if ms in self.downtime_errors:
            raise self.downtime_errors[ms]
        self.downtimes.append(ms)

    def abortJob(self):
        if self.fail_abort:
            raise libvirt.libvirtError('cannot abort')
        self.aborts += 1

    def isActive(self):
        return self.active

    def suspend(self):
        self.paused = True

    def resume(self):
        self.resumed = True


class Clock:

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _policy(timeout=120, downtime=1000):
    conf = config_loader.load()
    return resolver.resolve(conf, flavor={
        'hw:wrs:live_migration_timeout': str(timeout),
        'hw:wrs:live_migration_max_downtime': str(downtime)})


class MonitorTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())

    def _run(self, domain, policy=None, alive=lambda: True, **kwargs):
        clock = Clock()
        mon = monitor.MigrationMonitor(
            libvirt_guest.Guest(domain), policy or _policy(), clock=clock,
            sleep=clock.sleep, **kwargs)
        return mon.run(is_operation_alive=alive)

    def test_converging_migration_completes(self):
        domain = ScriptedDomain(runs_for=10)
        result = self._run(domain)
        self.assertEqual('completed', result.outcome)
        self.assertEqual(COMPLETED, result.job_type)
        self.assertIsNone(result.aborted_at)
        self.assertEqual(0, domain.aborts)
        self.assertEqual(5.0, result.elapsed)

    def test_timeout_aborts_once(self):
        domain = ScriptedDomain()
        result = self._run(domain, alive=lambda: not domain.aborts)
        self.assertEqual('aborted', result.outcome)
        self.assertEqual(1, domain.aborts)
        self.assertGreater(result.aborted_at, 120)
        self.assertLessEqual(result.aborted_at, 120.5)
        self.assertTrue(result.rolled_back)

    def test_aborted_job_reported_by_libvirt(self):
        domain = ScriptedDomain(runs_for=None)

        def abort():
            domain.ends_as = CANCELLED
            domain.runs_for = domain.polls - 1

        domain.abortJob = abort
        result = self._run(domain, timeout=120)
        self.assertEqual('aborted', result.outcome)
        self.assertEqual(CANCELLED, result.job_type)

    def test_operation_gone_and_guest_on_source_is_failed(self):
        domain = ScriptedDomain(runs_for=0, ends_as=NONE)
        result = self._run(domain, alive=lambda: False)
        self.assertEqual('failed', result.outcome)
        self.assertEqual(FAILED, result.job_type)

    def test_operation_gone_and_guest_gone_is_completed(self):
        domain = ScriptedDomain(runs_for=0, ends_as=NONE)
        domain.active = False
        result = self._run(domain, alive=lambda: False)
        self.assertEqual('completed', result.outcome)

    def test_job_not_started_yet_waits_for_the_operation(self):
        domain = ScriptedDomain(runs_for=2, start_after=4)
        result = self._run(domain)
        self.assertEqual('completed', result.outcome)
        self.assertEqual(7, domain.polls)

    def test_failed_and_cancelled(self):
        self.assertEqual('failed', self._run(
            ScriptedDomain(runs_for=3, ends_as=FAILED)).outcome)
        self.assertEqual('cancelled', self._run(
            ScriptedDomain(runs_for=3, ends_as=CANCELLED)).outcome)

    def test_timeout_override_and_zero(self):
        domain = ScriptedDomain(runs_for=2000)
        result = self._run(domain, timeout=0)
        self.assertEqual('completed', result.outcome)
        self.assertEqual(0, domain.aborts)
        self.assertGreater(result.elapsed, 800)

    def test_downtime_ramp_to_max_then_abort(self):
        domain = ScriptedDomain()
        result = self._run(domain, alive=lambda: not domain.aborts)
        self.assertEqual([100, 190, 280, 370, 460, 550, 640, 730, 820, 910,
                          1000], domain.downtimes)
        self.assertEqual(domain.downtimes,
                         [ms for _, ms in result.downtime_applied])
        self.assertGreater(result.downtime_applied[-1][0], 80)

    def test_given_steps_are_capped_at_the_policy_max(self):
        domain = ScriptedDomain(runs_for=20)
        result = self._run(domain, policy=_policy(downtime=300),
                           downtime_steps=[(0, 100), (2, 5000), (4, 9000)])
        self.assertEqual([100, 300], domain.downtimes)
        self.assertEqual('completed', result.outcome)

    def test_downtime_update_errors_never_end_the_migration(self):
        # libvirt-python raises OverflowError past 2^63; any error from an
        # update is logged, the last applied value stays, the ramp goes on.
        domain = ScriptedDomain(runs_for=20)
        domain.downtime_errors = {
            300: OverflowError('Python int too large to convert to C long'),
            500: libvirt.libvirtError('unsupported'),
            700: RuntimeError('anything')}
        result = self._run(domain, policy=_policy(downtime=900),
                           downtime_steps=[(0, 100), (1, 300), (2, 500),
                                           (3, 700), (4, 900)])
        self.assertEqual('completed', result.outcome)
        self.assertEqual([100, 900], domain.downtimes)
        self.assertEqual([100, 900],
                         [ms for _, ms in result.downtime_applied])
        self.assertIn('Unable to increase max downtime to 300 ms: Python int '
                      'too large', self.logger.output)
        self.assertEqual(1, self.logger.output.count(
            'Unable to increase max downtime to 300 ms'))

    def test_force_complete_pauses_and_completes(self):
        domain = ScriptedDomain(runs_for=250)
        result = self._run(domain, timeout_action='force_complete')
        self.assertTrue(domain.paused)
        self.assertEqual(0, domain.aborts)
        self.assertEqual('force_completed', result.outcome)

    def test_force_complete_then_failure_resumes_the_guest(self):
        domain = ScriptedDomain(runs_for=250, ends_as=FAILED)
        result = self._run(domain, timeout_action='force_complete')
        self.assertEqual('failed', result.outcome)
        self.assertTrue(domain.resumed)

    def test_abort_error_is_raised(self):
        domain = ScriptedDomain()
        domain.fail_abort = True
        self.assertRaises(libvirt.libvirtError, self._run, domain)

    def test_logs(self):
        domain = ScriptedDomain()
        self._run(domain, alive=lambda: not domain.aborts,
                  instance_uuid='u-1')
        self.assertIn('Live migration not completed after 120 sec',
                      self.logger.output)
        self.assertIn('Increasing downtime to 1000 ms after 80 sec elapsed '
                      'time', self.logger.output)


class PolicyRefreshTest(testtools.TestCase):
    """The policy re-read during a migration: once per interval, never
    per poll; a failing read changes nothing."""

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())

    def _run(self, domain, refresh, interval=5, policy=None):
        clock = Clock()
        mon = monitor.MigrationMonitor(
            libvirt_guest.Guest(domain), policy or _policy(timeout=0),
            clock=clock, sleep=clock.sleep, refresh_policy=refresh,
            refresh_interval=interval)
        return mon, mon.run(is_operation_alive=lambda: not domain.aborts)

    def test_read_once_per_interval(self):
        reads = []
        domain = ScriptedDomain(runs_for=200)  # 100 s at 0.5 s per poll
        self._run(domain, lambda: reads.append(1))
        self.assertEqual(200, domain.polls - 1)
        # At 5, 10, ..., 95 s: the job ran from 0 to 99.5 s.
        self.assertEqual(19, len(reads))

    def test_interval_zero_never_reads(self):
        reads = []
        self._run(ScriptedDomain(runs_for=50), lambda: reads.append(1),
                  interval=0)
        self.assertEqual([], reads)

    def test_lowered_timeout_aborts_at_the_new_timeout(self):
        domain = ScriptedDomain()
        mon, result = self._run(domain, lambda: _policy(timeout=150),
                                policy=_policy(timeout=600))
        self.assertEqual('aborted', result.outcome)
        self.assertTrue(150 < result.aborted_at <= 150.5, result.aborted_at)
        self.assertEqual(150, mon.policy.timeout)
        self.assertIn('Live migration policy changed during the migration, '
                      'after 5 sec: live_migration_timeout 600 -> 150 (from '
                      'flavor)', self.logger.output)

    def test_failing_read_keeps_the_policy(self):
        domain = ScriptedDomain()

        def refresh():
            raise RuntimeError('conductor timed out')

        mon, result = self._run(domain, refresh, policy=_policy(timeout=120))
        self.assertEqual('aborted', result.outcome)
        self.assertTrue(120 < result.aborted_at <= 120.5)
        self.assertIn('Could not re-read the live migration policy '
                      '(conductor timed out)', self.logger.output)
