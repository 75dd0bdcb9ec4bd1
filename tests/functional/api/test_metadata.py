"""``nova meta`` and server create/rebuild metadata: a live-migration key
with an invalid value is refused with the spec table's message, the same
text the flavor validator gives; valid values are stored."""

from nova_wrs_lm import spec_table
from tests.functional.api import cloud

TIMEOUT = 'hw:wrs:live_migration_timeout'
TIMEOUT_RULE = '%s must be 0 or in the range 120 to 800'
DOWNTIME = 'hw:wrs:live_migration_max_downtime'
DOWNTIME_IMAGE_SPELLING = 'hw_wrs_live_migration_max_downtime'
DOWNTIME_RULE = '%s must be in the range 100 to 2000000'
BOOLEANS = ('hw:wrs:live_migration_auto_converge',
            'hw:wrs:live_migration_permit_auto_converge',
            'hw:wrs:live_migration_tunnel')
BOOLEAN_RULE = '%s must be a boolean (true or false)'


class InstanceMetadataTest(cloud.FilteredCloud):

    def setUp(self):
        super().setUp()
        self.server = self._create_server(networks='none')
        self.uri = 'servers/%s/metadata' % self.server['id']

    def _meta_set(self, key, value):
        """``nova meta <server> set key=value``."""
        return self._request('POST', self.uri, {'metadata': {key: value}})

    def _metadata(self):
        return self.api.api_get(self.uri).body['metadata']

    def test_valid_values_are_stored(self):
        for key, value in ((TIMEOUT, '120'), (TIMEOUT, '800'),
                           (TIMEOUT, '0'), (DOWNTIME, '100'),
                           (DOWNTIME_IMAGE_SPELLING, '500'),
                           (BOOLEANS[0], 'True'), (BOOLEANS[2], 'false')):
            self.assertEqual(200, self._meta_set(key, value).status_code)
            self.assertEqual(value, self._metadata()[key])

    def test_invalid_timeouts(self):
        self._meta_set(TIMEOUT, '150')
        for value in ('-1', '1', '119', '801', 'abc'):
            self.assertEqual(TIMEOUT_RULE % TIMEOUT,
                             self._fault(self._meta_set(TIMEOUT, value), 400))
        self.assertEqual('150', self._metadata()[TIMEOUT])

    def test_invalid_downtime_in_both_spellings(self):
        for key in (DOWNTIME, DOWNTIME_IMAGE_SPELLING):
            self.assertEqual(DOWNTIME_RULE % key,
                             self._fault(self._meta_set(key, '99'), 400))

    def test_invalid_booleans(self):
        for key in BOOLEANS:
            self.assertEqual(BOOLEAN_RULE % key,
                             self._fault(self._meta_set(key, 'maybe'), 400))
        self.assertEqual({}, self._metadata())

    def test_messages_are_the_spec_tables(self):
        setting = spec_table.all_keys()[TIMEOUT]
        self.assertEqual(setting.message(TIMEOUT),
                         self._fault(self._meta_set(TIMEOUT, '1'), 400))

    def test_replace_and_single_key_forms(self):
        replace = self._request(
            'PUT', self.uri, {'metadata': {'owner': 'x', TIMEOUT: '119'}})
        self.assertEqual(TIMEOUT_RULE % TIMEOUT, self._fault(replace, 400))
        item = self._request('PUT', self.uri + '/' + DOWNTIME,
                             {'meta': {DOWNTIME: '99'}})
        self.assertEqual(DOWNTIME_RULE % DOWNTIME, self._fault(item, 400))
        self.assertEqual({}, self._metadata())
        item = self._request('PUT', self.uri + '/' + DOWNTIME,
                             {'meta': {DOWNTIME: '300'}})
        self.assertEqual(200, item.status_code)
        self.assertEqual({DOWNTIME: '300'}, self._metadata())

    def test_other_keys_and_bad_shapes_are_left_to_nova(self):
        self.assertEqual(200, self._meta_set('note', 'abc').status_code)
        self.assertEqual(400, self._request(
            'POST', self.uri, {'metadata': [TIMEOUT]}).status_code)
        self.assertEqual(400, self._request(
            'POST', self.uri, '{"metadata": ').status_code)

    def test_create_with_metadata(self):
        body = self._build_server(networks='none')
        body['metadata'] = {TIMEOUT: '801'}
        before = len(self.api.get_servers())
        self.assertEqual(TIMEOUT_RULE % TIMEOUT, self._fault(
            self._request('POST', 'servers', {'server': body}), 400))
        self.assertEqual(before, len(self.api.get_servers()))

        body['metadata'] = {TIMEOUT: '300', BOOLEANS[2]: 'yes'}
        server = self._wait_for_state_change(
            self.api.post_server({'server': body}), 'ACTIVE')
        self.assertEqual(body['metadata'], server['metadata'])

    def test_rebuild_with_metadata(self):
        action = 'servers/%s/action' % self.server['id']
        rebuild = {'imageRef': self.server['image']['id'],
                   'metadata': {BOOLEANS[0]: 'maybe'}}
        self.assertEqual(BOOLEAN_RULE % BOOLEANS[0], self._fault(
            self._request('POST', action, {'rebuild': rebuild}), 400))
        rebuild['metadata'] = {BOOLEANS[0]: 'false'}
        self.assertEqual(202, self._request(
            'POST', action, {'rebuild': rebuild}).status_code)
        server = self._wait_for_state_change(self.server, 'ACTIVE')
        self.assertEqual({BOOLEANS[0]: 'false'}, server['metadata'])


    def test_legacy_os_volumes_boot_route_is_validated_too(self):
        # os-volumes_boot is Nova's servers controller under another name:
        # create and rebuild carry metadata there as well.
        self.api.microversion = '2.1'
        body = self._build_server(networks='none')
        body['metadata'] = {TIMEOUT: '801'}
        before = len(self.api.get_servers())
        self.assertEqual(TIMEOUT_RULE % TIMEOUT, self._fault(
            self._request('POST', 'os-volumes_boot', {'server': body}), 400))
        self.assertEqual(before, len(self.api.get_servers()))
        rebuild = {'imageRef': self.server['image']['id'],
                   'metadata': {BOOLEANS[0]: 'maybe'}}
        self.assertEqual(BOOLEAN_RULE % BOOLEANS[0], self._fault(
            self._request('POST', 'os-volumes_boot/%s/action' %
                          self.server['id'], {'rebuild': rebuild}), 400))
        # Valid values go on to Nova (whose own answer on this legacy route
        # is not ours to judge).
        body['metadata'] = {TIMEOUT: '300'}
        answer = self._request('POST', 'os-volumes_boot', {'server': body})
        self.assertNotIn('live_migration', answer.text)


class ProjectIdInUrlTest(cloud.FilteredCloud):
    """The legacy endpoint form /v2.1/{project_id}/servers/... too."""

    USE_PROJECT_ID = True

    def test_meta_set_is_validated(self):
        server = self._create_server(networks='none')
        response = self._request(
            'POST', 'servers/%s/metadata' % server['id'],
            {'metadata': {TIMEOUT: 'abc'}})
        self.assertEqual(TIMEOUT_RULE % TIMEOUT, self._fault(response, 400))
