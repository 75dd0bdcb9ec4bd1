"""The ``wrs_lm`` filter's own cost per request, in process: the filter in
front of an application that answers at once, against that application
alone, for the metadata PUT of the real-cloud benchmark.  Used by
``real_cloud.py`` to put its end-to-end ratio beside what the filter
itself takes (no Nova cloud needed: only the filter's code runs)."""

import dataclasses
import json
import statistics
import time

import webob
import webob.dec
from nova.api.openstack import wsgi

from nova_wrs_lm.api import filter as wrs_lm_filter

ROUNDS = 20
PER_ROUND = 500


@dataclasses.dataclass(frozen=True)
class Cost:
    what: str
    #: Median over ROUNDS of the extra seconds per request.
    seconds: float


@webob.dec.wsgify
def _answer(req):
    return webob.Response(status=200, body=b'{}')


def _timed(app, body, path):
    start = time.perf_counter()
    for _ in range(PER_ROUND):
        req = wsgi.Request.blank(path, method='PUT', body=body)
        req.content_type = 'application/json'
        req.headers['OpenStack-API-Version'] = 'compute 2.61'
        response = req.get_response(app)
        assert response.status_int == 200, response.text
    return (time.perf_counter() - start) / PER_ROUND


def per_request():
    """The filter's median extra time per metadata PUT (seconds)."""
    path = '/v2.1/servers/0d5c9bbb-35c4-4c52-9bf5-6a3a4fe3d1f4/metadata'
    body = json.dumps({'metadata': {'hw:wrs:live_migration_timeout': '300',
                                    'owner': 'bench'}}).encode()
    filtered = wrs_lm_filter.filter_factory({})(_answer)
    extra = []
    for i in range(ROUNDS + 2):
        alone = _timed(_answer, body, path)
        both = _timed(filtered, body, path)
        if i >= 2:  # warm-up
            extra.append(both - alone)
    return Cost('PUT /servers/{id}/metadata, %d x %d requests'
                % (ROUNDS, PER_ROUND), statistics.median(extra))


if __name__ == '__main__':
    cost = per_request()
    print('%s: %.1f us per request' % (cost.what, cost.seconds * 1e6))
