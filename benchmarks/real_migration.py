"""Real live migrations between two libvirt hosts on this machine, driven
by the package's migration monitor (libvirtd + QEMU TCG; needs root).

Prints, for a guest dirtying memory faster than a capped link copies it:
  1. time to converge with auto-converge, and the outcome without it
     (same guest load, same link, a timeout of 1.5 times that time);
  2. abort lateness: when libvirt reported the job cancelled, minus the
     timeout, over several runs (the monitor polls every 0.5 s);
  3. downtime libvirt reports for completed migrations (QEMU's measured
     pause) against the instance's maximum, applied by the monitor.
Baseline: an uncapped plain migration of a lightly dirtying guest, timed
in the same run.  Also prints the machine's load.  Asserts nothing.

Run: .venv/bin/python benchmarks/real_migration.py   (about 2 minutes)
"""

import logging
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nova.virt.libvirt import guest as libvirt_guest  # noqa: E402

from nova_wrs_lm import config_loader  # noqa: E402
from nova_wrs_lm import resolver  # noqa: E402
from nova_wrs_lm import spec_table  # noqa: E402
from nova_wrs_lm.realcloud import guest as guests  # noqa: E402
from nova_wrs_lm.realcloud import libvirt_hosts as hosts  # noqa: E402
from nova_wrs_lm.spec_types import FLAVOR  # noqa: E402
from nova_wrs_lm.spec_types import INSTANCE  # noqa: E402
from nova_wrs_lm.virt import migration_flags  # noqa: E402
from nova_wrs_lm.virt import monitor as lm_monitor  # noqa: E402
from tests.integration import base  # noqa: E402

libvirt = hosts.libvirt

ABORT_RUNS = 3
ABORT_TIMEOUT = 3
#: Instance maximum downtimes tried, and the link they are tried on.
MAX_DOWNTIMES_MS = (100, 300, 1000)
DOWNTIME_BANDWIDTH = 64


def _policy(flavor=None, instance=None):
    conf = config_loader.load()
    conf.set_override('live_migration_permit_auto_converge', True,
                      group='libvirt')
    return resolver.resolve(conf, flavor=flavor, instance=instance)


class _Bench:

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.guest_dir = guests.build()
        self.src = hosts.LibvirtHost(base_dir, 'src', 0)
        self.dst = hosts.LibvirtHost(base_dir, 'dst', 1)
        self.conns = {}

    def start(self):
        hosts.start_and_warm(self.src, self.dst)
        for host in (self.src, self.dst):
            self.conns[host.name] = (host.open(), host.open())

    def stop(self):
        for monitor_conn, operation_conn in self.conns.values():
            for conn in (monitor_conn, operation_conn):
                try:
                    conn.close()
                except libvirt.libvirtError:
                    pass
        for host in (self.src, self.dst):
            host.stop()

    def boot(self, name, load):
        test_guest = guests.TestGuest(self.guest_dir, self.base_dir, name,
                                      **load)
        test_guest.boot(self.conns['src'][0])
        if not test_guest.wait_for_reports(1):
            raise RuntimeError('guest %s did not start' % name)
        return test_guest

    def migrate(self, test_guest, policy, source, dest, bandwidth=0,
                **monitor_kwargs):
        """Migrate with the policy's flags while the monitor watches;
        return (result, thread, watch, end time)."""
        monitor_conn, operation_conn = self.conns[source.name]
        dom = monitor_conn.lookupByUUIDString(test_guest.uuid)
        flags = migration_flags.apply(base.nova_live_migration_flags(),
                                      policy, libvirt)
        params = base.migration_params(flags, bandwidth)
        watch = base.JobWatch(dom)
        monitor_kwargs.setdefault('timeout', base.SAFETY_TIMEOUT)
        monitor = lm_monitor.MigrationMonitor(
            libvirt_guest.Guest(dom), policy, sleep=watch, **monitor_kwargs)
        thread = base.MigrationThread(
            operation_conn.lookupByUUIDString(test_guest.uuid), dest.uri,
            flags, params)
        start = time.monotonic()
        thread.start()
        result = monitor.run(is_operation_alive=thread.is_alive)
        thread.join()
        return result, thread, watch, time.monotonic() - start

    def completed_stats(self, test_guest, host):
        dom = self.conns[host.name][0].lookupByUUIDString(test_guest.uuid)
        return dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)

    def destroy(self, test_guest):
        for host in (self.src, self.dst):
            try:
                dom = self.conns[host.name][0].lookupByUUIDString(
                    test_guest.uuid)
            except libvirt.libvirtError:
                continue
            for action in (dom.destroy, dom.undefine):
                try:
                    action()
                except libvirt.libvirtError:
                    pass


def _mib(n):
    return n / (1024 * 1024)


def main():
    reason = hosts.unavailable()
    if reason:
        print('real_migration: cannot run here: %s' % reason)
        return 0
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    # The monitor's log lines are not figures.
    logging.getLogger('nova_wrs_lm').addHandler(logging.NullHandler())
    print('machine: %d CPUs, load average at start %.2f %.2f %.2f' % (
        (os.cpu_count(),) + os.getloadavg()))
    base_dir = tempfile.mkdtemp(prefix='wrs-lm-bench-')
    bench = _Bench(base_dir)
    t0 = time.monotonic()
    try:
        bench.start()
        print('two libvirt hosts up and warm in %.1f s' % (
            time.monotonic() - t0))
        _run(bench)
    finally:
        bench.stop()
        hosts.remove_tree(base_dir)
    print('machine: load average at end %.2f %.2f %.2f; total %.0f s' % (
        os.getloadavg() + (time.monotonic() - t0,)))
    return 0


def _run(bench):
    ac_key = spec_table.AUTO_CONVERGE.canonical(FLAVOR)
    src, dst = bench.src, bench.dst

    # Baseline: plain, uncapped, lightly dirtying guest.
    light = bench.boot('bench-light', base.LIGHT)
    result, _thread, _watch, baseline = bench.migrate(light, _policy(),
                                                      src, dst)
    print('\nbaseline: plain uncapped migration, light dirtier: %s in '
          '%.2f s' % (result.outcome, baseline))

    # Downtime: the instance's maximum applied at once (one step), a
    # link fast enough to converge under it.
    print('\ndowntime reported by libvirt vs the limit in force '
          '(%d MiB/s link, light dirtier)' % DOWNTIME_BANDWIDTH)
    print('  max_downtime_ms  limit_in_force_ms  reported_downtime_ms  '
          'took_s  outcome')
    where = [(dst, src), (src, dst)]
    for i, max_ms in enumerate(MAX_DOWNTIMES_MS):
        source, dest = where[i % 2]
        policy = _policy(instance={
            spec_table.MAX_DOWNTIME.canonical(INSTANCE): str(max_ms)})
        result, _thread, _watch, took = bench.migrate(
            light, policy, source, dest, bandwidth=DOWNTIME_BANDWIDTH,
            downtime_steps=[(0, max_ms)])
        stats = bench.completed_stats(light, dest)
        limit = (result.downtime_applied[-1][1] if result.downtime_applied
                 else 'QEMU default')
        print('  %15d  %17s  %20s  %6.2f  %s' % (
            max_ms, limit, stats.get('downtime'), took, result.outcome))
    bench.destroy(light)

    # Auto-converge on a capped link.
    heavy = bench.boot('bench-ac', base.HEAVY)
    result, _thread, watch, took = bench.migrate(
        heavy, _policy(flavor={ac_key: 'true'}), src, dst,
        bandwidth=base.CAPPED_BANDWIDTH)
    throttles = watch.throttles()
    converge = took
    print('\nauto-converge, %d MiB/s link, heavy dirtier: %s in %.1f s '
          '(%.1fx baseline); throttle steps %s %%' % (
              base.CAPPED_BANDWIDTH, result.outcome, took, took / baseline,
              sorted(set(throttles))))
    bench.destroy(heavy)

    # Without auto-converge: same load and link, 1.5 times that time.
    heavy = bench.boot('bench-noac', base.HEAVY)
    timeout = max(1, round(1.5 * converge))
    result, thread, watch, took = bench.migrate(
        heavy, _policy(flavor={ac_key: 'false'}), src, dst,
        bandwidth=base.CAPPED_BANDWIDTH, timeout=timeout)
    last = watch.running()[-1].stats if watch.running() else {}
    print('without auto-converge, same load and link, timeout %d s: %s '
          'after %.1f s; %s iterations, %.1f MiB still to copy, '
          'max throttle %s %%' % (
              timeout, result.outcome, took,
              last.get('memory_iteration'),
              _mib(last.get('memory_remaining', 0)),
              max(watch.throttles() or [0])))

    # Abort lateness, same guest (it stays on the source).
    late = []
    for _ in range(ABORT_RUNS):
        result, thread, watch, took = bench.migrate(
            heavy, _policy(flavor={ac_key: 'false'}), src, dst,
            bandwidth=base.CAPPED_BANDWIDTH, timeout=ABORT_TIMEOUT)
        late.append((took - ABORT_TIMEOUT, result.aborted_at,
                     result.outcome))
    print('\nabort lateness over %d runs, timeout %d s, monitor poll '
          '0.5 s:' % (ABORT_RUNS, ABORT_TIMEOUT))
    print('  monitor_abort_late_s  job_end_late_s  outcome')
    for lateness, aborted_at, outcome in late:
        print('  %20.2f  %14.2f  %s' % (
            (aborted_at or float('nan')) - ABORT_TIMEOUT, lateness,
            outcome))
    values = [lateness for lateness, _, _ in late]
    print('  job end: median %+.2f s, max %+.2f s after the timeout '
          '(%.1fx the poll interval)' % (
              statistics.median(values), max(values), max(values) / 0.5))
    bench.destroy(heavy)


if __name__ == '__main__':
    sys.exit(main())
