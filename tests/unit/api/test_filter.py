"""Routing edge cases of the filter, with a stand-in for Nova's app (the
real pipeline is exercised in tests/functional/api)."""

import json

import webob
from nova import test

from nova_wrs_lm.api import filter as wrs_filter

TIMEOUT = 'hw:wrs:live_migration_timeout'


def _nova(environ, start_response):
    start_response('299 Nova', [('Content-Type', 'text/plain')])
    return [b'nova']


class FilterRoutingTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.app = wrs_filter.filter_factory({})(_nova)

    def _call(self, method, path, body=None, script='/v2.1', headers=None,
              content_type='application/json'):
        req = webob.Request.blank(path, method=method,
                                  headers=headers or {})
        req.script_name = script
        if body is not None:
            req.body = (body if isinstance(body, bytes) else
                        json.dumps(body).encode())
            req.content_type = content_type
        return req.get_response(self.app)

    def _bad_request(self, response):
        self.assertEqual(400, response.status_int, response.text)
        return response.json['badRequest']['message']

    def test_unrelated_requests_reach_nova(self):
        for method, path in (('GET', '/servers'), ('DELETE', '/servers/x'),
                             ('GET', '/os-hosts/h'),
                             ('POST', '/os-services/x')):
            self.assertEqual(299, self._call(method, path,
                                             {'metadata': {TIMEOUT: 'x'}}
                                             ).status_int)

    def test_metadata_paths_with_and_without_project(self):
        body = {'metadata': {TIMEOUT: 'abc'}}
        for path in ('/servers/u/metadata', '/p/servers/u/metadata',
                     '/servers/u/metadata/'):
            self.assertIn(TIMEOUT, self._bad_request(
                self._call('POST', path, body)), path)

    def test_extra_specs_by_microversion(self):
        body = {'extra_specs': {TIMEOUT: '1'}}
        path = '/flavors/f/os-extra_specs'

        def status(version, script='/v2.1'):
            headers = {'OpenStack-API-Version': 'compute %s' % version}
            return self._call('POST', path, body, script=script,
                              headers=headers).status_int

        self.assertEqual(400, self._call('POST', path, body).status_int)
        self.assertEqual(400, status('2.85'))
        self.assertEqual(299, status('2.86'))
        self.assertEqual(299, status('latest'))
        self.assertEqual(299, status('not-a-version'))  # Nova's to refuse
        self.assertEqual(400, status('2.90', script='/v2'))  # legacy v2
        self.assertEqual(400, self._call(
            'POST', path, body,
            headers={'X-OpenStack-Nova-API-Version': '2.50'}).status_int)

    def test_bodies_nova_would_read_differently(self):
        path = '/servers/u/metadata'
        self.assertEqual(299, self._call('POST', path, b'{"meta').status_int)
        self.assertEqual(299, self._call('POST', path, b'').status_int)
        self.assertEqual('Malformed request body', self._bad_request(
            self._call('POST', path, b'\x80{')))
        response = self._call('POST', path, {'metadata': {}},
                              content_type='application/xml')
        self.assertEqual(415, response.status_int)
        self.assertEqual('Unsupported Content-Type',
                         response.json['badMediaType']['message'])
        # text/plain and no content type are read as JSON by Nova.
        for content_type in ('text/plain', ''):
            self.assertIn(TIMEOUT, self._bad_request(self._call(
                'POST', path, {'metadata': {TIMEOUT: '5'}},
                content_type=content_type)))

    def test_os_hosts_without_context_is_a_clear_error(self):
        with self.assertLogs('nova_wrs_lm.api', 'ERROR') as logs:
            response = self._call('PUT', '/os-hosts/h',
                                  {'host_down_reported': True})
        self.assertEqual(500, response.status_int)
        self.assertIn('after keystonecontext', logs.output[0])
        self.assertEqual(299, self._call('PUT', '/os-hosts/h',
                                         {'host': {'status': 'enable'}}
                                         ).status_int)
