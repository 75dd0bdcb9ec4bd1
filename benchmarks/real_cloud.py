"""The product on a real cloud on this machine (tools/cloud.sh): nova-api
under uwsgi behind Keystone, nova-compute on real libvirtd + QEMU (TCG),
MariaDB.  Needs root.

Prints, each against a baseline measured in the same run:
  1. live migration time of the same guest (calm dirtier, the computes'
     16 MiB/s cap) with compute_driver = wrs_lm.LibvirtDriver against
     Nova's own libvirt.LibvirtDriver (both computes restarted with each):
     ratio of medians (goal <= 1.05);
  2. API latency of a server metadata PUT through uwsgi + Keystone with
     the shipped api-paste.ini (wrs_lm filter) against a nova-api whose
     pipeline lacks only the filter, both started fresh for the run with
     the same configuration: ratio of medians (goal < 1.02), beside the
     ratio of two identical servers without it (the noise) and the
     filter's own cost per request measured in process;
  3. PUT /os-hosts/{host} host_down_reported for a host carrying 1,000 and
     10,000 instance rows (inserted into MariaDB directly, copies of a real
     instance) against the Doctor inspector's way: force-down, then one
     os-resetState per instance, in parallel (goal < 1 s for 10,000).
Asserts nothing.  Uses the running cloud, else brings one up and down.

Run: .venv/bin/python benchmarks/real_cloud.py [--full] [--runs N]
(about 12 minutes; --full also times the Doctor baseline at 10,000 rows,
several minutes more)
"""

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import _filter_cost as filter_cost  # noqa: E402
import _real_cloud_run as run  # noqa: E402

from nova_wrs_lm.realcloud import deploy  # noqa: E402
from nova_wrs_lm.realcloud import identity  # noqa: E402
from nova_wrs_lm.realcloud import layout as L  # noqa: E402
from nova_wrs_lm.realcloud import services  # noqa: E402

WAIT = 600
ROWS = (1000, 10000)
DOCTOR_WORKERS = 16
API_REQUESTS = 150
BENCH_HOST = 'wrs-lm-bench-host'


def _wait(predicate, what, timeout=WAIT, interval=0.2):
    return run.wait(predicate, what, timeout, interval)


class _Bench:

    def __init__(self, cloud):
        self.cloud = cloud
        self.lay = cloud.lay
        self.conn = identity.connect(L.ADMIN_CLOUD, self.lay.clouds_yaml)
        self.compute = self.conn.compute

    # -- 1. migration time per driver ----------------------------------

    def boot(self):
        image = self.conn.image.find_image('wrs-lm-guest')
        flavor = self.compute.find_flavor(deploy.FLAVOR)
        server = self.compute.create_server(
            name='wrs-lm-bench', image_id=image.id, flavor_id=flavor.id,
            networks='none',
            # Same flags for both drivers: no auto-converge.
            metadata={'hw:wrs:live_migration_auto_converge': 'false'})
        return self.compute.wait_for_server(server, wait=WAIT)

    def delete(self, server):
        self.compute.delete_server(server)
        self.compute.wait_for_delete(server, wait=WAIT)

    def _migrations(self, server):
        return self.compute.get(
            '/os-migrations?instance_uuid=%s&migration_type=live-migration'
            % server.id, microversion='2.80').json()['migrations']

    def migrate_once(self, server):
        """Seconds from the API call until the migration record says
        completed (polled every 0.2 s)."""
        before = len(self._migrations(server))
        start = time.monotonic()
        resp = self.compute.post(
            '/servers/%s/action' % server.id,
            json={'os-migrateLive': {'host': None,
                                     'block_migration': 'auto'}},
            microversion='2.30', raise_exc=False)
        if resp.status_code != 202:
            raise RuntimeError(resp.text)

        def done():
            found = sorted(self._migrations(server), key=lambda m: m['id'])
            if len(found) > before and found[-1]['status'] in (
                    'completed', 'error', 'failed', 'cancelled'):
                return found[-1]
            return None
        record = _wait(done, 'the migration')
        elapsed = time.monotonic() - start
        if record['status'] != 'completed':
            raise RuntimeError('migration %s' % record['status'])
        _wait(lambda: self.compute.get_server(server).task_state is None,
              'the server to settle')
        return elapsed

    def restart_computes(self, driver):
        # One at a time: each waits for its old process to exit.
        for host in self.cloud.hosts:
            self.cloud.restart_compute(host, driver)

    def migration_times(self, runs):
        figures = {}
        for driver in (deploy.NOVA_DRIVER, deploy.DRIVER):
            self.restart_computes(driver)
            server = self.boot()
            try:
                figures[driver] = [self.migrate_once(server)
                                   for _ in range(runs)]
            finally:
                self.delete(server)
        return figures

    # -- 2. API latency with and without the filter ---------------------

    def api_latency(self, server, requests):
        """Median latency per bench API (services.BENCH_APIS: fresh,
        identically configured nova-api servers, with the filter, without
        it, and a twin without it), requests interleaved and their order
        rotated each round, so that every server sees the same machine."""
        apis = services.BENCH_APIS
        for api in apis:
            api.start(self.cloud)
        session = self.conn.session
        urls = [(api.name, 'http://%s:%d/v2.1/servers/%s/metadata' % (
            L.CONTROLLER_ADDRESS, L.PORTS[api.port_name], server.id))
            for api in apis]
        times = {name: [] for name, _ in urls}
        body = {'metadata': {'hw:wrs:live_migration_timeout': '300',
                             'owner': 'bench'}}
        headers = {'OpenStack-API-Version': 'compute 2.61'}
        try:
            for i in range(requests + 10):
                shift = i % len(urls)
                for name, url in urls[shift:] + urls[:shift]:
                    start = time.perf_counter()
                    resp = session.put(url, json=body, headers=headers,
                                       raise_exc=False)
                    elapsed = time.perf_counter() - start
                    if resp.status_code != 200:
                        raise RuntimeError('%s: %s' % (name, resp.text))
                    if i >= 10:  # warm-up: each uwsgi worker's first calls
                        times[name].append(elapsed)
        finally:
            for api in apis:
                api.stop(self.lay)
        return times

    # -- 3. host_down_reported against the Doctor way -------------------

    def _sql(self, statement, database='nova'):
        return services.MariaDB('mariadb').sql(self.lay, statement,
                                               database)

    def _columns(self, table, database='nova'):
        return self._sql(
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_schema='%s' AND table_name='%s' ORDER BY "
            "ordinal_position" % (database, table)).split()

    def insert_rows(self, template, count):
        """``count`` copies of the instance ``template`` on BENCH_HOST,
        with their extra, info cache and API mapping rows, and a compute
        service and host mapping for BENCH_HOST."""
        self.remove_rows()
        cols = [c for c in self._columns('instances')
                if c not in ('id', 'uuid', 'host', 'node', 'hostname',
                             'launched_on', 'display_name', 'vm_state',
                             'power_state', 'task_state')]
        # Running instances (the template is stopped for the API part).
        self._sql(
            'INSERT INTO instances (%s, uuid, host, node, hostname, '
            'launched_on, display_name, vm_state, power_state, task_state) '
            "SELECT %s, UUID(), %r, %r, CONCAT('bench-', seq), %r, "
            "CONCAT('bench-', seq), 'active', 1, NULL FROM "
            'instances t JOIN seq_1_to_%d WHERE t.uuid = %r' % (
                ', '.join('`%s`' % c for c in cols),
                ', '.join('t.`%s`' % c for c in cols), BENCH_HOST,
                BENCH_HOST, BENCH_HOST, count, template))
        for table in ('instance_extra', 'instance_info_caches'):
            cols = [c for c in self._columns(table)
                    if c not in ('id', 'instance_uuid')]
            self._sql(
                'INSERT INTO %s (%s, instance_uuid) SELECT %s, i.uuid FROM '
                'instances i JOIN %s e ON e.instance_uuid = %r WHERE '
                'i.host = %r' % (table, ', '.join('`%s`' % c for c in cols),
                                 ', '.join('e.`%s`' % c for c in cols),
                                 table, template, BENCH_HOST))
        cell = self._sql("SELECT id FROM cell_mappings WHERE name='cell1'",
                         'nova_api').strip()
        self._sql(
            'INSERT INTO nova_api.instance_mappings (created_at, '
            'instance_uuid, cell_id, project_id, user_id, '
            'queued_for_delete) SELECT NOW(), uuid, %s, project_id, '
            'user_id, 0 FROM nova.instances WHERE host = %r' % (
                cell, BENCH_HOST))
        self._sql(
            'INSERT INTO services (created_at, updated_at, host, `binary`, '
            'topic, report_count, disabled, deleted, forced_down, version, '
            'uuid, last_seen_up) SELECT NOW(), NOW(), %r, `binary`, topic, '
            '0, 0, 0, 0, version, UUID(), NOW() FROM services WHERE '
            "`binary` = 'nova-compute' AND deleted = 0 LIMIT 1" % BENCH_HOST)
        self._sql('INSERT INTO host_mappings (cell_id, host) VALUES '
                  '(%s, %r)' % (cell, BENCH_HOST), 'nova_api')

    def reset_rows(self):
        self._sql("UPDATE instances SET vm_state = 'active', power_state = "
                  '1, task_state = NULL WHERE host = %r' % BENCH_HOST)
        self._sql('UPDATE services SET forced_down = 0 WHERE host = %r'
                  % BENCH_HOST)

    def remove_rows(self):
        uuids = ('SELECT uuid FROM nova.instances WHERE host = %r' %
                 BENCH_HOST)
        for table, column in (('instance_actions_events', None),
                              ('instance_actions', 'instance_uuid'),
                              ('instance_faults', 'instance_uuid'),
                              ('instance_extra', 'instance_uuid'),
                              ('instance_info_caches', 'instance_uuid'),
                              ('instance_system_metadata', 'instance_uuid'),
                              ('instance_metadata', 'instance_uuid')):
            if column is None:
                self._sql('DELETE FROM instance_actions_events WHERE '
                          'action_id IN (SELECT id FROM instance_actions '
                          'WHERE instance_uuid IN (%s))' % uuids)
            else:
                self._sql('DELETE FROM %s WHERE %s IN (%s)' % (
                    table, column, uuids))
        self._sql('DELETE FROM nova_api.instance_mappings WHERE '
                  'instance_uuid IN (%s)' % uuids)
        self._sql('DELETE FROM instances WHERE host = %r' % BENCH_HOST)
        self._sql('DELETE FROM services WHERE host = %r' % BENCH_HOST)
        self._sql('DELETE FROM host_mappings WHERE host = %r' % BENCH_HOST,
                  'nova_api')

    def host_down_reported(self):
        start = time.perf_counter()
        resp = self.compute.put('/os-hosts/%s' % BENCH_HOST,
                                json={'host_down_reported': True},
                                raise_exc=False)
        elapsed = time.perf_counter() - start
        if resp.status_code != 200:
            raise RuntimeError(resp.text)
        return elapsed, resp.json()['host']['instances_marked_down']

    def doctor(self):
        """Doctor's inspector: force the service down, then reset each
        instance to error, DOCTOR_WORKERS requests at a time."""
        uuids = self._sql('SELECT uuid FROM instances WHERE host = %r AND '
                          'deleted = 0' % BENCH_HOST).split()
        service = next(self.compute.services(binary='nova-compute',
                                             host=BENCH_HOST))
        session = self.conn.session
        base = self.compute.get_endpoint()
        local = threading.local()

        def reset(uuid):
            # One keystoneauth session per worker thread, as the
            # inspector's clients.
            if not hasattr(local, 'session'):
                local.session = identity.connect(
                    L.ADMIN_CLOUD, self.lay.clouds_yaml).session
            resp = local.session.post(
                '%s/servers/%s/action' % (base, uuid),
                json={'os-resetState': {'state': 'error'}},
                raise_exc=False)
            return resp.status_code

        start = time.perf_counter()
        resp = session.put('%s/os-services/%s' % (base, service.id),
                           json={'forced_down': True},
                           headers={'OpenStack-API-Version': 'compute 2.53'},
                           raise_exc=False)
        if resp.status_code != 200:
            raise RuntimeError(resp.text)
        with futures.ThreadPoolExecutor(DOCTOR_WORKERS) as pool:
            codes = list(pool.map(reset, uuids))
        elapsed = time.perf_counter() - start
        return elapsed, sum(1 for c in codes if c == 202), len(uuids)


def _median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=3,
                        help='migrations per driver (default 3)')
    parser.add_argument('--full', action='store_true',
                        help='also the Doctor baseline at 10,000 rows')
    args = parser.parse_args()
    with run.cloud_for('real_cloud') as cloud:
        if cloud is None:
            return 0
        bench = _Bench(cloud)
        try:
            _run(bench, args)
        finally:
            bench.remove_rows()
            for host in cloud.hosts:
                if cloud._driver(host) != deploy.DRIVER:
                    cloud.restart_compute(host, deploy.DRIVER)
    return 0


def _run(bench, args):
    figures = bench.migration_times(args.runs)
    nova = _median(figures[deploy.NOVA_DRIVER])
    ours = _median(figures[deploy.DRIVER])
    print('\n1. live migration, calm guest, %d MiB/s cap, block migration '
          '(%d runs each, API call to completed)' % (L.MIGRATION_BANDWIDTH,
                                                     args.runs))
    for driver, times in figures.items():
        print('  %-22s median %6.1f s  (%s)' % (
            driver, _median(times), ', '.join('%.1f' % t for t in times)))
    print('  ratio wrs_lm / Nova: %.3f (goal <= 1.05)' % (ours / nova))

    server = bench.boot()
    try:
        bench.compute.stop_server(server)
        bench.compute.wait_for_server(server, status='SHUTOFF', wait=WAIT)
        times = bench.api_latency(server, API_REQUESTS)
        medians = {name: _median(values) for name, values in times.items()}
        with_filter, plain, twin = (medians[api.name]
                                    for api in services.BENCH_APIS)
        print('\n2. PUT /servers/{id}/metadata at 2.61 through uwsgi + '
              'Keystone (%d requests each, interleaved, fresh servers of '
              'the same configuration)' % API_REQUESTS)
        for api in services.BENCH_APIS:
            values = times[api.name]
            print('  %-16s %-18s median %6.2f ms  p90 %6.2f ms' % (
                api.name, 'wrs_lm filter' if api.with_filter else
                'no filter', _median(values) * 1000,
                statistics.quantiles(values, n=10)[-1] * 1000))
        print('  ratio with / without the filter: %.3f (goal < 1.02)' % (
            with_filter / plain))
        print('  noise: ratio of the two servers without it: %.3f' % (
            twin / plain))
        cost = filter_cost.per_request()
        print('  the filter alone, in process (%s): %.1f us per request '
              '= %.4f of the median request' % (
                  cost.what, cost.seconds * 1e6, cost.seconds / plain))

        print('\n3. host_down_reported on MariaDB vs the Doctor inspector '
              '(force-down + os-resetState per instance, %d in parallel)'
              % DOCTOR_WORKERS)
        for rows in ROWS:
            bench.insert_rows(server.id, rows)
            ours, marked = bench.host_down_reported()
            line = ('  %6d rows: host_down_reported %6.3f s (%d marked '
                    'down)' % (rows, ours, marked))
            if rows == ROWS[0] or args.full:
                bench.reset_rows()
                doctor, reset, total = bench.doctor()
                line += ';  Doctor %7.1f s (%d/%d reset)  ratio %.4f' % (
                    doctor, reset, total, ours / doctor)
            else:
                line += ';  Doctor not timed (--full)'
            print(line)
            bench.remove_rows()
        print('  goal: < 1 s for 10,000 rows')
    finally:
        bench.delete(server)


if __name__ == '__main__':
    sys.exit(main())
