"""Benchmark: recovery of a failed host with 100 instances, against the
Masakari way, in the same process on the same kind of cloud.

In Nova's in-process cloud (Nova's ``fake.FakeDriver`` computes, which hold
1000 VCPU each, instance quotas off, so that 100 instances fit on one host;
the scheduler with ``FailoverSegmentFilter``/``FailoverSegmentWeigher``;
segment S1 = ``src`` (the host that fails), ``active`` and ``reserved``
(reserved, recovery method ``reserved_host``)), 100 ACTIVE instances on
``src``, whose compute then stops.  Two runs, each on a fresh cloud:

* **nova-wrs-lm**: ``host report-down src`` (the instances are recorded
  STOPPED, their state kept), then ``host recover src`` (default
  concurrency 4: evacuate, start each one Nova's evacuate left stopped,
  release the reserved host, put ``src`` in maintenance);
* **Masakari** (baseline, what its host-failure flow does with its
  defaults): disable the service, wait ``wait_period_after_service_update``
  (Masakari's default 180 s, ``--wait-period``; the time for Nova to see
  the compute down, which at its end is simulated by forcing the service
  down, since the harness's heartbeats do not time out), then evacuate 3
  at a time (``host_failure_recovery_threads``), each to its end (ACTIVE on
  the new host, no task), through the same compute API client and the
  same poll interval (0.05 s).  The disable is sent just before the
  compute stops, the stop itself not counted: Nova's os-services asks a
  compute it still sees up to update its provider's trait (an RPC call),
  which a stopped compute of the harness never answers (in a real cloud
  that call times out after ``rpc_response_timeout``, 60 s, and Masakari
  would be slower still).

Time: from the first request (the report; the disable) to the last of the
100 instances ACTIVE on its new host.  Prints both totals, the baseline's
wait apart (its evacuations alone too), and the ratios; with a
``--wait-period`` smaller than 180 s also the ratio the default wait gives
(its evacuation time measured plus 180 s).  Asserts nothing.

Run: .venv/bin/python benchmarks/host_recover.py [--wait-period S]
"""

import argparse
import io
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import nova.tests.functional  # noqa: E402,F401 (Nova's monkey patching)
from nova import conf as nova_conf  # noqa: E402

from nova_wrs_lm.cloud import compute as compute_api  # noqa: E402
from nova_wrs_lm.cmd import host as host_cmd  # noqa: E402
from nova_wrs_lm.harness import cloud  # noqa: E402
from nova_wrs_lm.harness import outside_runner  # noqa: E402
from nova_wrs_lm.harness import sdk  # noqa: E402
from nova_wrs_lm.harness import segments as declared  # noqa: E402
from nova_wrs_lm.harness import settings  # noqa: E402
from nova_wrs_lm.scheduler import segments  # noqa: E402

INSTANCES = 100
MASAKARI_WAIT = 180.0
MASAKARI_THREADS = 3
POLL = 0.05
RESULTS = {}


class _Bench(cloud.ApiTestCase):
    API_PASTE = settings.WRS_LM_API_PASTE
    microversion = 'latest'
    CAST_AS_CALL = False
    #: ('ours' | 'masakari', wait seconds), set before running.
    MODE = None

    def _setup_scheduler_service(self):
        self.flags(group='filter_scheduler', **settings.scheduler_options(
            nova_conf.CONF, enabled_filters=['ComputeFilter']))
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        # 1000 VCPU per host: room for the 100 instances on one.
        self.flags(compute_driver='fake.FakeDriver')
        for host in ('src', 'active', 'reserved'):
            self._start_compute(host)
        return self.computes['src']

    def test_bench(self):
        mode, wait = self.MODE
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        declared.declare(self, 'S1', ('src', 'active'),
                         reserved=('reserved',),
                         method=segments.RESERVED_HOST)
        flavor = self._create_flavor(vcpu=1, memory_mb=128, disk=1,
                                     ephemeral=0)
        request = self._build_server(flavor_id=flavor, networks='none',
                                     host='src')
        request.update(min_count=INSTANCES, max_count=INSTANCES,
                       name='bench')
        self.api.post_server({'server': request})
        servers = [s for s in self.api.get_servers(detail=True)]
        for server in servers:
            self._wait_for_state_change(server, 'ACTIVE')
        assert len(servers) == INSTANCES, len(servers)
        with sdk.connection(self.api_fixture).real_endpoints() as conn:
            if mode == 'ours':
                RESULTS[mode] = self._ours(conn)
            else:
                RESULTS[mode] = self._masakari(conn, wait)
        ids = {s['id'] for s in servers}
        landed = [s for s in self.api.get_servers(detail=True)
                  if s['id'] in ids and s['status'] == 'ACTIVE' and
                  s['OS-EXT-SRV-ATTR:host'] != 'src']
        RESULTS[mode] += (len(landed),)

    def _ours(self, conn):
        self.computes['src'].stop()
        parser = host_cmd.add_parser(
            argparse.ArgumentParser().add_subparsers())
        start = time.monotonic()
        for argv in (['report-down', 'src'], ['recover', 'src']):
            args = parser.parse_args(argv + ['--format', 'json'])
            out = io.StringIO()
            kwargs = {'poll_interval': POLL} if argv[0] == 'recover' else {}
            status = args.run(args, out, io.StringIO(), conn=conn, **kwargs)
        total = time.monotonic() - start
        doc = json.loads(out.getvalue())
        return total, 0.0, total, doc['recovered'], status

    def _masakari(self, conn, wait):
        compute = compute_api.Compute(conn)
        start = time.monotonic()
        service = compute.compute_service('src')
        compute.update_service(service['id'], status='disabled',
                               disabled_reason='Masakari detected host '
                                               'failed.')
        # The failure, not timed: see the module docstring.
        stopping = time.monotonic()
        self.computes['src'].stop()
        start += time.monotonic() - stopping
        time.sleep(wait)
        # What the wait is for: Nova now sees the compute down.
        compute.update_service(service['id'], forced_down=True)
        waited = time.monotonic() - start
        queue = list(compute.servers_on('src'))
        in_flight, recovered = [], 0
        while queue or in_flight:
            while queue and len(in_flight) < MASAKARI_THREADS:
                server = queue.pop(0)
                compute.action(server['id'], {'evacuate': {}})
                in_flight.append(server['id'])
            time.sleep(POLL)
            for server_id in list(in_flight):
                server = compute.server(server_id)
                if server.get('OS-EXT-STS:task_state') is None and \
                        server.get('OS-EXT-SRV-ATTR:host') != 'src' and \
                        server['status'] == 'ACTIVE':
                    in_flight.remove(server_id)
                    recovered += 1
                elif server['status'] == 'ERROR':
                    in_flight.remove(server_id)
        total = time.monotonic() - start
        return total, waited, total - waited, recovered, 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--wait-period', type=float, default=MASAKARI_WAIT,
                        help="Masakari's wait_period_after_service_update "
                             '(default %(default)s s)')
    wait = parser.parse_args().wait_period
    for mode in ('masakari', 'ours'):
        _Bench.MODE = (mode, wait)
        outside_runner.run_quietly(_Bench('test_bench'))
    print('recovery of a failed host with %d instances (in-process cloud, '
          'FakeDriver computes, recovery method reserved_host)' % INSTANCES)
    print('%-36s %10s %9s %15s %8s' % ('', 'total (s)', 'wait (s)',
                                       'evacuations (s)', 'ACTIVE'))
    names = {'masakari': 'Masakari way (3 at a time, wait %.0f s)' % wait,
             'ours': 'nova-wrs-lm report-down + recover'}
    for mode in ('masakari', 'ours'):
        total, waited, evacuations, _, _, landed = RESULTS[mode]
        print('%-36s %10.1f %9.1f %15.1f %8d' % (
            names[mode], total, waited, evacuations, landed))
    theirs, ours = RESULTS['masakari'], RESULTS['ours']
    print('ratio, totals: Masakari way / nova-wrs-lm = %.1fx' % (
        theirs[0] / ours[0]))
    print('ratio, without the wait: Masakari evacuations / nova-wrs-lm = '
          '%.1fx' % (theirs[2] / ours[0]))
    if wait != MASAKARI_WAIT:
        print('ratio with Masakari\'s default wait (%.0f s + its %.1f s of '
              'evacuations measured): %.1fx' % (
                  MASAKARI_WAIT, theirs[2],
                  (MASAKARI_WAIT + theirs[2]) / ours[0]))


if __name__ == '__main__':
    main()
