"""Flavor extra specs through Nova's own validation: from microversion 2.86
Nova validates them with the validators this package registers through the
``nova.api.extra_spec_validators`` entry point (Nova's api-paste.ini, no
``wrs_lm`` filter; tests/functional/api covers the filter's path)."""

from nova.tests.functional.api import client

from nova_wrs_lm.harness import cloud

TIMEOUT = 'hw:wrs:live_migration_timeout'
TIMEOUT_ALIAS = 'hw:live_migration_timeout'
DOWNTIME = 'hw:wrs:live_migration_max_downtime'
AUTO_CONVERGE = 'hw:wrs:live_migration_auto_converge'
AUTO_CONVERGE_ALIAS = 'hw:wrs:live_migration_permit_auto_converge'
TUNNEL = 'hw:wrs:live_migration_tunnel'


class _FlavorExtraSpecs:
    """A flavor to set extra specs on; what holds at every microversion."""

    def setUp(self):
        super().setUp()
        self.flavor_id = self.api.post_flavor(
            {'flavor': {'name': 'lm', 'ram': 512, 'vcpus': 1,
                        'disk': 1}})['id']

    def _set(self, key, value):
        return self.api.post_extra_spec(
            self.flavor_id, {'extra_specs': {key: value}})

    def _rejected(self, key, value):
        exc = self.assertRaises(client.OpenStackApiException,
                                self._set, key, value)
        self.assertEqual(400, exc.response.status_code)
        return exc.response.json()['badRequest']['message']

    def test_valid_timeouts_are_stored(self):
        for value in ('120', '150', '800', '0'):
            self._set(TIMEOUT, value)
            specs = self.api.get_extra_specs(self.flavor_id)
            self.assertEqual(value, specs[TIMEOUT])


class NovaValidatesWithOurValidatorsTest(_FlavorExtraSpecs,
                                         cloud.ApiTestCase):
    """At 2.86 Nova validates every key with the validator registered for
    it; ours give the spec table's rule as the 400."""

    microversion = '2.86'

    def test_invalid_timeouts_are_rejected_with_the_rule(self):
        for value in ('-1', '1', '119', '801', 'abc', '', '1.5'):
            self.assertEqual(
                'hw:wrs:live_migration_timeout must be 0 or in the range '
                '120 to 800', self._rejected(TIMEOUT, value), value)
        self.assertNotIn(
            TIMEOUT, self.api.get_extra_specs(self.flavor_id))

    def test_alias_names_itself(self):
        self._set(TIMEOUT_ALIAS, '200')
        self.assertEqual(
            'hw:live_migration_timeout must be 0 or in the range 120 to 800',
            self._rejected(TIMEOUT_ALIAS, '100'))

    def test_max_downtime(self):
        self._set(DOWNTIME, '100')
        for value in ('99', '0', '-5', 'abc', '2000001',
                      '9223372036854775808'):
            self.assertEqual(
                'hw:wrs:live_migration_max_downtime must be in the range '
                '100 to 2000000',
                self._rejected(DOWNTIME, value), value)

    def test_booleans(self):
        for key in (AUTO_CONVERGE, AUTO_CONVERGE_ALIAS, TUNNEL):
            for value in ('true', 'False', 'yes', '0'):
                self._set(key, value)
            self.assertEqual('%s must be a boolean (true or false)' % key,
                             self._rejected(key, 'maybe'))

    def test_json_numbers_are_validated_too(self):
        self._set(TIMEOUT, 150)
        self.assertIn('must be 0 or in the range 120 to 800',
                      self._rejected(TIMEOUT, 100))

    def test_unknown_hw_key_is_still_rejected_by_nova(self):
        # Our validators must not open the hw: namespace to typos.
        message = self._rejected('hw:wrs:live_migration_timout', '150')
        self.assertIn('does not appear to be a valid extra spec', message)


class NovaBelow286DoesNotValidateTest(_FlavorExtraSpecs, cloud.ApiTestCase):
    """Below 2.86 Nova does not validate extra specs at all; the API filter
    (nova_wrs_lm.api) closes that gap.  Without it, anything is stored."""

    microversion = '2.85'

    def test_nova_alone_does_not_validate(self):
        self._set(TIMEOUT, 'abc')
        self.assertEqual(
            'abc',
            self.api.get_extra_specs(self.flavor_id)[TIMEOUT])

    def test_at_2_61_what_openstack_client_sends_anything_is_stored(self):
        # `openstack flavor set --property`, openstacksdk and Horizon send
        # 2.61: without the filter Nova stores an invalid value (README's
        # enabling table says the filter is needed for those clients).
        self.api.microversion = '2.61'
        self._set(TIMEOUT, '100')
        self.assertEqual(
            '100', self.api.get_extra_specs(self.flavor_id)[TIMEOUT])
