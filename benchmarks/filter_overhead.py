"""Benchmark: what the wrs_lm filter adds to a metadata PUT.

In Nova's in-process cloud (API, conductor, scheduler, placement, one
fake compute), the same ``PUT /servers/{id}/metadata/{key}`` (what ``nova
meta <server> set hw:wrs:live_migration_timeout=150`` sends) goes through
two WSGI stacks loaded from two api-paste.ini files: Nova's own, and the
sample with the filter.  Requests alternate between the stacks; the ratio
of the median times is printed, and the same for a request the filter
only routes past (``GET /servers/{id}``).  Asserts nothing.

Run: .venv/bin/python benchmarks/filter_overhead.py
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import nova.tests.functional  # noqa: E402,F401 (Nova's monkey patching)
import webob.dec  # noqa: E402,F401 (nova.api.wsgi needs it loaded)
from nova.api import wsgi as nova_wsgi  # noqa: E402

from nova_wrs_lm.harness import cloud  # noqa: E402
from nova_wrs_lm.harness import outside_runner  # noqa: E402
from nova_wrs_lm.harness import settings  # noqa: E402

ROUNDS = 300
KEY = 'hw:wrs:live_migration_timeout'
RESULTS = {}


class _Bench(cloud.ApiTestCase):
    microversion = 'latest'

    def test_bench(self):
        server = self._create_server(networks='none')
        stacks = {
            name: nova_wsgi.Loader(os.path.abspath(path)).load_app(
                'osapi_compute')
            for name, path in (('nova', settings.NOVA_API_PASTE),
                               ('wrs_lm', settings.WRS_LM_API_PASTE))}
        headers = {'X-Auth-User': 'admin', 'X-User-Id': 'admin',
                   'X-Auth-Project-Id': self.api.project_id,
                   'X-Roles': 'reader,member,admin',
                   'Content-Type': 'application/json'}
        requests = {
            'metadata PUT': (
                'PUT', '/v2.1/servers/%s/metadata/%s' % (server['id'], KEY),
                json.dumps({'meta': {KEY: '150'}}).encode()),
            'server GET (routed past)': (
                'GET', '/v2.1/servers/%s' % server['id'], None),
        }
        for label, (method, path, body) in requests.items():
            times = {name: [] for name in stacks}
            for i in range(ROUNDS):
                for name, app in stacks.items():
                    req = webob.Request.blank(path, method=method,
                                              headers=headers)
                    if body is not None:
                        req.body = body
                    start = time.perf_counter()
                    response = req.get_response(app)
                    elapsed = time.perf_counter() - start
                    assert response.status_int == 200, response.text
                    if i >= 10:  # warm-up
                        times[name].append(elapsed)
            RESULTS[label] = {name: statistics.median(t)
                              for name, t in times.items()}


def main():
    outside_runner.run_quietly(_Bench('test_bench'))
    print('wrs_lm filter overhead, median of %d requests per stack '
          '(in-process Nova API)' % (ROUNDS - 10))
    print('%-26s %14s %14s %8s' % ('request', 'Nova (ms)', 'with filter',
                                   'ratio'))
    for label, medians in RESULTS.items():
        print('%-26s %14.3f %14.3f %7.3fx' % (
            label, medians['nova'] * 1000, medians['wrs_lm'] * 1000,
            medians['wrs_lm'] / medians['nova']))


if __name__ == '__main__':
    main()
