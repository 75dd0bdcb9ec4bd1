"""Cost and precision of the migration monitor loop.

Figures printed:

* CPU cost of ``MigrationMonitor.run`` per migration-second (simulated
  time, 0.5 s polls, a migration that never converges and is aborted at its
  timeout), against a baseline loop made of Nova's own helpers
  (``Guest.get_job_info``, ``should_trigger_timeout_action``,
  ``update_downtime``) polling the same domain in the same run.
* Abort lateness (time of the abort minus the timeout): over N simulated
  migrations whose polls start at random phases (bounded by the poll
  interval), and over concurrent migrations on the real clock.

Run: ``.venv/bin/python benchmarks/monitor_loop.py [N]``.  Asserts nothing.
"""

import logging
import os
import random
import statistics
import sys
import threading
import time

# Measure the working tree, not an installed copy.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nova.virt.libvirt import guest as libvirt_guest  # noqa: E402
from nova.virt.libvirt import migration as libvirt_migrate  # noqa: E402

from nova_wrs_lm import config_loader  # noqa: E402
from nova_wrs_lm import resolver  # noqa: E402
from nova_wrs_lm.virt import downtime  # noqa: E402
from nova_wrs_lm.virt import monitor  # noqa: E402

libvirt = libvirt_migrate.libvirt
POLL = 0.5
TIMEOUT = 180


class _Domain:
    """A migration job that runs until aborted; then no job, guest on the
    source (as real libvirt after abortJob)."""

    def __init__(self):
        self.aborted = False

    def jobStats(self, flags=0):
        if self.aborted:
            return {'type': libvirt.VIR_DOMAIN_JOB_NONE}
        return {'type': libvirt.VIR_DOMAIN_JOB_UNBOUNDED,
                'memory_total': 1 << 30, 'memory_remaining': 1 << 29}

    def abortJob(self):
        self.aborted = True

    def migrateSetMaxDowntime(self, ms):
        pass

    def isActive(self):
        return True


class _Clock:
    """Simulated time; each sleep oversleeps by ``jitter()`` seconds (the
    scheduling delay of a busy compute host)."""

    def __init__(self, jitter=lambda: 0.0):
        self.now = 0.0
        self._jitter = jitter

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds + self._jitter()


def _policy(conf):
    return resolver.resolve(conf, flavor={
        'hw:wrs:live_migration_timeout': str(TIMEOUT),
        'hw:wrs:live_migration_max_downtime': '1000'})


def _ours(conf, policy, jitter=lambda: 0.0):
    domain = _Domain()
    clock = _Clock(jitter)
    mon = monitor.MigrationMonitor(
        libvirt_guest.Guest(domain), policy, clock=clock,
        sleep=clock.sleep, poll_interval=POLL)
    result = mon.run(is_operation_alive=lambda: not domain.aborted)
    return result


def _baseline(conf, policy):
    """Nova's helpers in the shape of Nova's loop (no bookkeeping)."""
    domain = _Domain()
    guest = libvirt_guest.Guest(domain)
    steps = downtime.steps(policy.max_downtime, TIMEOUT, conf)
    clock = _Clock()
    current = None
    while True:
        info = guest.get_job_info()
        if info.type == libvirt.VIR_DOMAIN_JOB_NONE:
            if domain.aborted:
                libvirt_migrate.find_job_type(guest, None)
                return clock.now
        elif info.type == libvirt.VIR_DOMAIN_JOB_UNBOUNDED:
            elapsed = clock.now
            if libvirt_migrate.should_trigger_timeout_action(
                    None, elapsed, TIMEOUT, 'running'):
                guest.abort_job()
            current = libvirt_migrate.update_downtime(
                guest, None, current, steps, elapsed)
        clock.sleep(POLL)


def _cpu_per_migration_second(run, count):
    seconds = 0.0
    start = time.process_time()
    for _ in range(count):
        seconds += run()
    return (time.process_time() - start) / seconds


def _real_time_lateness(policy, count, timeout=1.0, poll=0.05):
    results = []

    def one():
        domain = _Domain()
        mon = monitor.MigrationMonitor(
            libvirt_guest.Guest(domain), policy, poll_interval=poll,
            timeout=timeout)
        results.append(mon.run(is_operation_alive=lambda: not domain.aborted))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r.aborted_at - timeout for r in results]


def main(count):
    logging.basicConfig(level=logging.ERROR)
    conf = config_loader.load()
    policy = _policy(conf)
    rng = random.Random(42)

    ours = _cpu_per_migration_second(
        lambda: _ours(conf, policy).elapsed, count)
    base = _cpu_per_migration_second(lambda: _baseline(conf, policy),
                                     count)
    print('monitor loop, %d simulated migrations of %d s (poll %.1f s)'
          % (count, TIMEOUT, POLL))
    print('  CPU per migration-second: %.1f us (Nova-helper loop %.1f us, '
          'ratio %.2f)' % (ours * 1e6, base * 1e6, ours / base))

    late = [_ours(conf, policy).aborted_at - TIMEOUT
            for _ in range(count)]
    print('  abort lateness, simulated clock, exact sleeps: mean %.3f s, '
          'max %.3f s' % (statistics.mean(late), max(late)))
    late = [_ours(conf, policy,
                  jitter=lambda: rng.uniform(0, 0.05)).aborted_at - TIMEOUT
            for _ in range(count)]
    print('  abort lateness, simulated clock, sleeps 0-50 ms late: mean '
          '%.3f s, max %.3f s' % (statistics.mean(late), max(late)))

    concurrent = max(2, count // 10)
    late = _real_time_lateness(policy, concurrent)
    print('  abort lateness, real clock, %d concurrent migrations, 1 s '
          'timeout, 0.05 s polls: mean %.4f s, max %.4f s'
          % (concurrent, statistics.mean(late), max(late)))


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
