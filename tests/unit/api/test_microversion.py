"""The microversion Nova will serve a request at, read in front of Nova."""

import unittest

from nova.api.openstack import api_version_request
from nova.api.openstack import wsgi

from nova_wrs_lm.api import microversion

V2_86 = api_version_request.APIVersionRequest('2.86')


def _req(headers=None, script='/v2.1'):
    req = wsgi.Request.blank('/flavors/f/os-extra_specs',
                             headers=headers or {})
    req.script_name = script
    return req


class IsBelowTest(unittest.TestCase):

    def _below(self, version, **kwargs):
        headers = {'OpenStack-API-Version': 'compute %s' % version}
        return microversion.is_below(_req(headers, **kwargs), V2_86)

    def test_header_versions(self):
        self.assertTrue(self._below('2.85'))
        self.assertFalse(self._below('2.86'))
        self.assertFalse(self._below('2.90'))
        self.assertFalse(self._below('latest'))

    def test_no_header_is_nova_default(self):
        self.assertTrue(microversion.is_below(_req(), V2_86))

    def test_legacy_header(self):
        self.assertTrue(microversion.is_below(
            _req({'X-OpenStack-Nova-API-Version': '2.50'}), V2_86))

    def test_unparsable_is_not_below(self):
        for version in ('not-a-version', '2', '2.x'):
            self.assertFalse(self._below(version), version)

    def test_legacy_v2_endpoint_is_below_any(self):
        self.assertTrue(self._below('2.90', script='/v2'))
        self.assertTrue(self._below('latest', script='/v2/'))
