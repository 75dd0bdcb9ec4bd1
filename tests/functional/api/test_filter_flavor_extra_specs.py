"""Flavor extra specs through the paste filter: below microversion 2.86
Nova does not validate, the filter does (handlers.flavor_extra_specs), so
2.1, 2.85, 2.86, latest and the legacy /v2 endpoint all give the same
answer for the live-migration keys.  (Nova's own validation at 2.86 and
later, without the filter: tests/functional/
test_extra_spec_validators_entry_point.py.)"""

from nova.tests.functional.api import client

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from tests.functional.api import cloud

# 2.61: what `openstack`, openstacksdk and Horizon send for flavor extra specs.
VERSIONS = ('2.1', '2.61', '2.85', '2.86', 'latest')

CASES = [(key, value)
         for setting in spec_table.SETTINGS
         for key in setting.keys.get(FLAVOR, ())
         for value in ('-1', '1', '99', '100', '119', '120', '800', '801',
                       '0', 'abc', '', '1.5', 'true', 'maybe', 'No', 150,
                       100.0)]
# (JSON booleans are left out: Nova's own schema refuses them from 2.86 on,
# before any validator runs.)


class FlavorExtraSpecsEveryVersionTest(cloud.FilteredCloud):

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor()
        # The legacy v2 endpoint (LegacyV2CompatibleWrapper), project id in
        # the URL.
        self.legacy = client.TestOpenStackClient(
            'admin', self.api_fixture.base_url.replace('/v2.1', '/v2') +
            '/' + self.api.project_id, project_id=self.api.project_id,
            roles=['reader', 'member', 'admin'])

    def _answer(self, api, key, value, single=False):
        uri = 'flavors/%s/os-extra_specs' % self.flavor_id
        if single:
            response = self._request('PUT', uri + '/' + key, {key: value},
                                     api=api)
        else:
            response = self._request('POST', uri,
                                     {'extra_specs': {key: value}}, api=api)
        if response.status_code == 200:
            self._request('DELETE', uri + '/' + key, api=api)
            return 200, None
        return response.status_code, response.json()['badRequest']['message']

    def test_same_answer_at_every_microversion(self):
        for key, value in CASES:
            setting = spec_table.keys_for(FLAVOR)[key]
            try:
                setting.parse(key, value)
                expected = (200, None)
            except ValueError:
                expected = (400, setting.message(key))
            for version in VERSIONS:
                self.api.microversion = version
                for single in (False, True):
                    self.assertEqual(
                        expected, self._answer(self.api, key, value, single),
                        (version, key, value, single))
            self.assertEqual(expected, self._answer(self.legacy, key, value),
                             ('v2', key, value))

    def test_old_microversion_still_takes_other_keys(self):
        self.api.microversion = '2.1'
        self.assertEqual((200, None),
                         self._answer(self.api, 'hw:wrs:unknown', 'x'))
