"""Benchmark: recovery of a failed host on the real cloud on this machine
(tools/cloud.sh, two libvirt hosts), against the Masakari way, in the same
run on the same cloud.  Needs root.  The real-cloud counterpart of
host_recover.py (which recovers 100 instances of Nova's fake driver): the
cloud holds one guest at a time, so each run recovers one.

Once, a guest is booted on host B (``wrs-lm-host2``) and deleted, so that
B's image cache and privsep daemon are warm for every evacuation (B's
compute is never restarted).  Each run boots one server (``wrs-lm-guest``,
flavor ``wrs-lm.small``, no network) on host A (``wrs-lm-host1``) and
waits until it is ACTIVE, running and its QEMU process lives; then fails
A the way a failed host looks: ``kill -9`` of A's nova-compute (its
process group) and of the guest's QEMU process (the fence).  From the
first request on, then:

* **nova-wrs-lm**: ``host report-down A`` (``PUT /os-hosts/A``
  ``host_down_reported``), then ``host recover A`` (the library:
  ``nova_wrs_lm.host_ops.recover.Recover`` over
  ``nova_wrs_lm.cloud.compute.Compute``, admin credentials of the cloud);
* **Masakari** (baseline, its host-failure flow with its defaults):
  disable A's compute service (``PUT /os-services``), wait
  ``wait_period_after_service_update`` (``--wait-period``, default 180 s),
  evacuate with no target host (retried, and the retries timed apart,
  while Nova still sees A up and refuses: only with a wait shorter than
  ``service_down_time``).  The disable is sent while Nova still sees A's
  compute up (its last heartbeat is seconds old), so Nova's os-services
  makes an RPC call to the dead compute to sync its
  ``COMPUTE_STATUS_DISABLED`` trait; the call waits for
  ``rpc_response_timeout`` (60 s, this cloud leaves the default) before
  Nova logs a warning and answers 200: that time is measured and printed
  apart (``disable``), and counted in Masakari's total, since its engine
  waits for the answer before its wait begins.

Both end when the server is ACTIVE on the other host B with power state
running and no task (polled every 0.25 s through the same compute API
client); the domain's state on B per libvirt is printed too.  Then, not
timed: A's nova-compute starts again (it destroys the evacuated guest's
domain and completes the evacuation record, as Nova does), the report is
cleared or the service enabled, and the server is deleted.

Prints the medians (``--runs``, default 2 each way, interleaved), the
baseline's wait and disable apart, and the ratios Masakari / nova-wrs-lm:
totals, without the wait, and without the wait and the disable's RPC
timeout; with a ``--wait-period`` other than 180 s also the ratio the
default wait gives (the baseline's time measured minus its wait, plus
180 s).  Asserts nothing.  Uses the running cloud, else brings one up and
down.

Run (as root, under the cloud's lock):
  flock /tmp/wrs-lm-cloud.lock .venv/bin/python \\
      benchmarks/host_recover_real.py [--runs N] [--wait-period S]
(about 11 minutes with the defaults, each Masakari run about 4.5, plus
the cloud's start when it is not running)
"""

import argparse
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import _real_cloud_run as run  # noqa: E402

from nova_wrs_lm.cloud import compute as compute_api  # noqa: E402
from nova_wrs_lm.cloud.connection import CloudError  # noqa: E402
from nova_wrs_lm.host_ops import recover  # noqa: E402
from nova_wrs_lm.realcloud import computes  # noqa: E402
from nova_wrs_lm.realcloud import deploy  # noqa: E402
from nova_wrs_lm.realcloud import identity  # noqa: E402
from nova_wrs_lm.realcloud import layout as L  # noqa: E402
from nova_wrs_lm.realcloud import libvirt_hosts  # noqa: E402
from nova_wrs_lm.realcloud import processes  # noqa: E402

WAIT = 600
MASAKARI_WAIT = 180.0
MASAKARI_REASON = 'Masakari detected host failed.'
#: Seconds between two API polls, both ways.
POLL = 0.25
RUNNING = 1  # Nova's power_state.RUNNING


def _wait(predicate, what, timeout=WAIT, interval=POLL):
    return run.wait(predicate, what, timeout, interval)


class _Bench:

    def __init__(self, cloud):
        self.cloud = cloud
        self.lay = cloud.lay
        self.conn = identity.connect(L.ADMIN_CLOUD, self.lay.clouds_yaml)
        self.compute = compute_api.Compute(self.conn)

    # -- the guest -----------------------------------------------------------

    def boot(self, host):
        """A server on ``host`` (``nova:HOST``: forced there, which
        Nova's evacuation resets), ACTIVE."""
        image = self.conn.image.find_image('wrs-lm-guest')
        flavor = self.conn.compute.find_flavor(deploy.FLAVOR)
        server = self.conn.compute.create_server(
            name='wrs-lm-bench-recover', image_id=image.id,
            flavor_id=flavor.id, networks='none',
            availability_zone='nova:%s' % host.name)
        self.conn.compute.wait_for_server(server, wait=WAIT)
        return server.id

    def warm(self, host):
        """One guest booted on ``host`` and deleted: its image cache and
        its compute's privsep daemon are warm for the evacuations to it,
        as in a cloud that has run guests."""
        self.delete(self.boot(host))

    def delete(self, server_id):
        self.conn.compute.delete_server(server_id, ignore_missing=True)
        _wait(lambda: not self._exists(server_id), 'server %s deleted' %
              server_id, interval=1)

    def _exists(self, server_id):
        try:
            self.compute.server(server_id)
        except CloudError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True


    def _on(self, server_id, host):
        """The server when it is ACTIVE on ``host`` with power state
        running and no task, else None; raises on ERROR."""
        server = self.compute.server(server_id)
        if server['status'] == 'ERROR':
            raise RuntimeError('server ERROR: %s' % (
                server.get('fault') or {}).get('message'))
        if (server['status'] == 'ACTIVE' and
                server.get('OS-EXT-STS:power_state') == RUNNING and
                server.get('OS-EXT-STS:task_state') is None and
                server.get('OS-EXT-SRV-ATTR:host') == host.name):
            return server
        return None

    def domain_state(self, host, server_id):
        """The domain's state on ``host`` per libvirt (``running``,
        ``shut off``, ``absent``)."""
        name = self.compute.server(server_id)[
            'OS-EXT-SRV-ATTR:instance_name']
        conn = computes.libvirt_host(self.lay, host).open()
        try:
            try:
                state = conn.lookupByName(name).state()[0]
            except libvirt_hosts.libvirt.libvirtError:
                return 'absent'
        finally:
            conn.close()
        lv = libvirt_hosts.libvirt
        return {lv.VIR_DOMAIN_RUNNING: 'running',
                lv.VIR_DOMAIN_SHUTOFF: 'shut off',
                lv.VIR_DOMAIN_PAUSED: 'paused'}.get(state, str(state))

    # -- the failure and the way back ----------------------------------------

    def fail(self, host, server_id):
        """``kill -9`` of the host's nova-compute (process group), then of
        the guest's QEMU process."""
        name = self.compute.server(server_id)[
            'OS-EXT-SRV-ATTR:instance_name']
        qemu = _wait(lambda: computes.qemu_pid(self.lay, host, name),
                     'the QEMU process of %s' % name)
        _wait(lambda: self._on(server_id, host), 'the server running')
        pid_file = self.lay.pid_file(computes.compute_name(host))
        pid = processes.read_pid(pid_file)
        if pid is None:
            raise RuntimeError('%s is not running' % pid_file)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # Reaps it (when this process started it) and removes its file.
        processes.stop(pid_file, timeout=5)
        libvirt_hosts.kill_pid(qemu)
        if computes.qemu_pid(self.lay, host, name):
            raise RuntimeError('the QEMU process of %s survived' % name)

    def restore(self, host, server_id, mode):
        """A's compute back (it destroys the evacuated guest there), the
        report cleared or the service enabled, the server deleted."""
        self.cloud.restart_compute(host)
        service = self.compute.compute_service(host.name)
        if mode == 'ours':
            def cleared():
                try:
                    self.compute.report_host_down(host.name, down=False)
                except CloudError:
                    return False  # evacuations not completed yet
                return True
            _wait(cleared, 'the report cleared', interval=2)
        self.compute.update_service(service['id'], status='enabled')
        _wait(lambda: self.compute.compute_service(host.name)['state'] ==
              'up', 'the service of %s up' % host.name, interval=1)
        left = self.domain_state(host, server_id)
        self.delete(server_id)
        return left

    # -- the two ways --------------------------------------------------------

    def ours(self, a, b, server_id):
        start = time.monotonic()
        self.compute.report_host_down(a.name)
        reported = time.monotonic() - start
        report = recover.Recover(self.compute, a.name,
                                 poll_interval=POLL).run()
        if report.count(recover.RECOVERED) != 1:
            raise RuntimeError('recover: %r' % report.as_dict())
        _wait(lambda: self._on(server_id, b), 'ACTIVE, running on %s' %
              b.name)
        total = time.monotonic() - start
        return {'total': total, 'report': reported, 'disable': 0.0,
                'wait': 0.0, 'refused': 0.0, 'retries': 0}

    def masakari(self, a, b, server_id, wait):
        start = time.monotonic()
        service = self.compute.compute_service(a.name)
        self.compute.update_service(service['id'], status='disabled',
                                    disabled_reason=MASAKARI_REASON)
        disabled = time.monotonic() - start
        time.sleep(wait)
        waited = time.monotonic() - start - disabled
        retries, refused_at = 0, time.monotonic()
        while True:
            try:
                self.compute.action(server_id, {'evacuate': {}})
                break
            except CloudError as exc:
                # Nova 34: 400 "Compute service of ... is still in use"
                # while it sees the service up.
                if exc.status_code not in (400, 409) or \
                        time.monotonic() - refused_at > WAIT:
                    raise
                retries += 1
                time.sleep(POLL)
        refused = time.monotonic() - refused_at if retries else 0.0
        _wait(lambda: self._on(server_id, b), 'ACTIVE, running on %s' %
              b.name)
        total = time.monotonic() - start
        return {'total': total, 'report': 0.0, 'disable': disabled,
                'wait': waited, 'refused': refused, 'retries': retries}

    def run_once(self, mode, wait):
        a, b = self.cloud.hosts[0], self.cloud.hosts[1]
        server_id = self.boot(a)
        try:
            landed = self.compute.server(server_id)['OS-EXT-SRV-ATTR:host']
            if landed != a.name:
                raise RuntimeError('booted on %s, not %s' % (landed, a.name))
            self.fail(a, server_id)
            if mode == 'ours':
                found = self.ours(a, b, server_id)
            else:
                found = self.masakari(a, b, server_id, wait)
            found['domain'] = self.domain_state(b, server_id)
            found['route'] = '%s -> %s' % (a.name, b.name)
        except BaseException:
            self._rescue(server_id)
            raise
        found['left_on_a'] = self.restore(a, server_id, mode)
        return found

    def _rescue(self, server_id):
        """After a failed run: every compute running again, no report, no
        disabled service, the server gone."""
        for host in self.cloud.hosts:
            try:
                self.cloud.restart_compute(host)
                svc = self.compute.compute_service(host.name)
                if svc.get('forced_down'):
                    self.compute.report_host_down(host.name, down=False)
                if svc['status'] == 'disabled':
                    self.compute.update_service(svc['id'], status='enabled')
            except Exception as exc:  # noqa: BLE001 - best effort
                print('cleanup of %s: %s' % (host.name, exc))
        try:
            self.delete(server_id)
        except Exception as exc:  # noqa: BLE001 - best effort
            print('cleanup of server %s: %s' % (server_id, exc))


def _median(runs, key):
    return statistics.median(r[key] for r in runs)


def _report(found, wait, runs):
    ours, base = found['ours'], found['masakari']
    print('\nrecovery of a failed host with one guest (real cloud: '
          'nova-compute and the guest\'s QEMU killed -9; %d runs each, '
          'medians; poll %.2f s)' % (runs, POLL))
    print('%-40s %9s %9s %9s %9s' % ('', 'total (s)', 'disable', 'wait',
                                     'after'))
    names = {'masakari': 'Masakari way (wait %.0f s)' % wait,
             'ours': 'nova-wrs-lm report-down + recover'}
    for mode, values in (('masakari', base), ('ours', ours)):
        total = _median(values, 'total')
        disable = _median(values, 'disable')
        waited = _median(values, 'wait')
        print('%-40s %9.1f %9.1f %9.1f %9.1f' % (
            names[mode], total, disable, waited, total - disable - waited))
    for mode, values in (('masakari', base), ('ours', ours)):
        for r in values:
            print('  %-8s %s: total %.1f s (report %.2f s, disable %.1f s, '
                  'wait %.1f s, evacuate refused %.1f s / %d retries); '
                  'domain on the new host: %s; left on the old host after '
                  'its compute restarted: %s' % (
                      mode, r['route'], r['total'], r['report'],
                      r['disable'], r['wait'], r['refused'], r['retries'],
                      r['domain'], r['left_on_a']))
    t_ours = _median(ours, 'total')
    t_base = _median(base, 'total')
    disable = _median(base, 'disable')
    waited = _median(base, 'wait')
    print('ratio, totals: Masakari way / nova-wrs-lm = %.1fx' % (
        t_base / t_ours))
    print('ratio, without the wait: %.1fx (%.1f s / %.1f s)' % (
        (t_base - waited) / t_ours, t_base - waited, t_ours))
    print('ratio, without the wait and the disable\'s RPC timeout: %.1fx '
          '(%.1f s / %.1f s)' % ((t_base - waited - disable) / t_ours,
                                 t_base - waited - disable, t_ours))
    if wait != MASAKARI_WAIT:
        print('ratio with Masakari\'s default wait (%.0f s + its %.1f s '
              'measured besides its wait): %.1fx' % (
                  MASAKARI_WAIT, t_base - waited,
                  (MASAKARI_WAIT + t_base - waited) / t_ours))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=2,
                        help='runs each way (default %(default)s)')
    parser.add_argument('--wait-period', type=float, default=MASAKARI_WAIT,
                        help="Masakari's wait_period_after_service_update "
                             '(default %(default)s s)')
    args = parser.parse_args()
    with run.cloud_for('host_recover_real') as cloud:
        if cloud is None:
            return 0
        bench = _Bench(cloud)
        found = {'ours': [], 'masakari': []}
        bench.warm(cloud.hosts[1])
        for _ in range(args.runs):
            for mode in ('masakari', 'ours'):
                found[mode].append(bench.run_once(mode, args.wait_period))
                print('  %s: %.1f s' % (mode, found[mode][-1]['total']),
                      flush=True)
        _report(found, args.wait_period, args.runs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
