"""Benchmark: ``nova-wrs-lm history --host`` for a host whose 100 servers
have 10 actions each, against what an operator scripts today, in the
same run on the same in-process cloud.

Nova's in-process cloud (``fake.FakeDriver`` computes, quotas off, the
api-paste.ini with the wrs_lm filter), 100 servers booted on ``src``
through the API (their ``create`` action), then 9 more actions each
(stop, start, reboot in turn, each with a finished event run on ``src``)
recorded through Nova's own objects (``InstanceAction.action_start``,
``InstanceActionEvent.event_start``/``event_finish``), as nova-api and
nova-compute record them: 1,000 actions.  Then, each through the same
openstacksdk connection, each timed 5 times (median):

* **ours**: :func:`nova_wrs_lm.host_ops.history.read` for ``src`` (what
  ``nova-wrs-lm history --host src`` does): one ``GET
  /os-wrs-lm-history``;
* **baseline, the issue's**: the servers of the host, then one
  ``openstack server event list`` per server (``GET
  /servers/{id}/os-instance-actions``): 101 calls, which give no result
  and no reason;
* **baseline, complete**: the same, plus one ``server event show`` per
  action (``GET .../os-instance-actions/{request_id}``, the events, so
  the result): 1,101 calls (timed once, each 3 times would take long).

Prints the medians, the calls, the events found, and the ratios baseline
/ ours.  Asserts nothing.

Run: .venv/bin/python benchmarks/history.py
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import nova.tests.functional  # noqa: E402,F401 (Nova's monkey patching)
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402

from nova_wrs_lm.cloud import compute as compute_api  # noqa: E402
from nova_wrs_lm.harness import cloud  # noqa: E402
from nova_wrs_lm.harness import outside_runner  # noqa: E402
from nova_wrs_lm.harness import sdk  # noqa: E402
from nova_wrs_lm.harness import settings  # noqa: E402
from nova_wrs_lm.host_ops import history  # noqa: E402

SERVERS = 100
ACTIONS = 10
RUNS = 5
LATER = ('stop', 'start', 'reboot')
RESULTS = {}


def _median_time(call, runs):
    times, found = [], None
    for _ in range(runs):
        start = time.perf_counter()
        found = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), found


class _Bench(cloud.ApiTestCase):
    API_PASTE = settings.WRS_LM_API_PASTE
    microversion = 'latest'
    CAST_AS_CALL = False

    def _setup_compute_service(self):
        self.flags(compute_driver='fake.FakeDriver')
        for host in ('src', 'other'):
            self._start_compute(host)
        return self.computes['src']

    def _record_actions(self, servers):
        admin = nova_context.get_admin_context()
        cell = self.host_mappings['src'].cell_mapping
        for server in servers:
            for index in range(ACTIONS - 1):
                name = LATER[index % len(LATER)]
                ctx = nova_context.RequestContext(
                    user_id=admin.user_id or 'admin',
                    project_id=server['tenant_id'], is_admin=True)
                with nova_context.target_cell(ctx, cell) as cctxt:
                    objects.InstanceAction.action_start(
                        cctxt, server['id'], name, want_result=False)
                    event = 'compute_%s_instance' % name
                    objects.InstanceActionEvent.event_start(
                        cctxt, server['id'], event, want_result=False,
                        host='src')
                    objects.InstanceActionEvent.event_finish(
                        cctxt, server['id'], event, want_result=False)

    def test_bench(self):
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        flavor = self._create_flavor(vcpu=1, memory_mb=128, disk=1,
                                     ephemeral=0)
        request = self._build_server(flavor_id=flavor, networks='none',
                                     host='src')
        request.update(min_count=SERVERS, max_count=SERVERS, name='bench')
        self.api.post_server({'server': request})
        servers = self.api.get_servers(detail=True)
        for server in servers:
            self._wait_for_state_change(server, 'ACTIVE')
        assert len(servers) == SERVERS, len(servers)
        self._record_actions(servers)
        with sdk.connection(self.api_fixture).real_endpoints() as conn:
            compute = compute_api.Compute(conn)

            def ours():
                return history.read(compute, host='src').events

            def event_lists():
                return [compute.actions(s['id'])
                        for s in compute.servers_on('src')]

            def complete():
                found = []
                for server in compute.servers_on('src'):
                    for action in compute.actions(server['id']):
                        found.append(compute.action_events(
                            server['id'], action['request_id']))
                return found

            RESULTS['ours'] = _median_time(ours, RUNS)
            RESULTS['lists'] = _median_time(event_lists, RUNS)
            RESULTS['complete'] = _median_time(complete, 1)


def main():
    outside_runner.run_quietly(_Bench('test_bench'))
    ours, events = RESULTS['ours']
    lists, listed = RESULTS['lists']
    complete, shown = RESULTS['complete']
    print('history of a host with %d servers x %d actions (in-process '
          'cloud, FakeDriver computes; medians of %d, the complete '
          'baseline once)' % (SERVERS, ACTIONS, RUNS))
    print('%-52s %8s %7s %8s' % ('', 'time (s)', 'calls', 'records'))
    print('%-52s %8.3f %7d %8d' % (
        'nova-wrs-lm history --host (GET /os-wrs-lm-history)', ours, 1,
        len(events)))
    print('%-52s %8.3f %7d %8d' % (
        'baseline: servers + one server event list per server', lists,
        1 + len(listed), sum(len(a) for a in listed)))
    print('%-52s %8.3f %7d %8d' % (
        'baseline, with an event show per action (results)', complete,
        1 + SERVERS + len(shown), len(shown)))
    print('ratio: event list per server / history = %.1fx' % (lists / ours))
    print('ratio: with event show per action / history = %.1fx' % (
        complete / ours))


if __name__ == '__main__':
    main()
