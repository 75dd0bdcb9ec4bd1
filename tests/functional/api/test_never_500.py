"""Property: whatever keys, values, bodies and content types a caller
sends to the routes the filter looks at, the answer is never a 500, and
every error is a Nova-style JSON fault."""

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from oslo_serialization import jsonutils

from nova_wrs_lm import spec_table
from tests.functional.api import cloud

_KEYS = st.sampled_from(sorted(spec_table.all_keys())) | st.text(max_size=20)
_SCALARS = (st.none() | st.booleans() | st.integers() |
            st.floats(allow_nan=False) | st.text(max_size=30) |
            st.sampled_from(['0', '120', '800', '801', '-1', 'true', 'maybe',
                             ' 150 ', '1e3', '0x80']))
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) |
    st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=5)
_ITEMS = st.dictionaries(_KEYS, _VALUES, max_size=3)


def _wrapped(name):
    return _ITEMS.map(lambda items: {name: items})


_JSON_BODIES = st.one_of(
    _wrapped('metadata'), _wrapped('meta'), _wrapped('extra_specs'), _ITEMS,
    _wrapped('host_down_reported'), _VALUES,
    st.fixed_dictionaries({'host_down_reported': _VALUES}),
    st.fixed_dictionaries({'host': st.fixed_dictionaries(
        {'host_down_reported': _VALUES}) | _VALUES}),
    st.fixed_dictionaries({'server': _wrapped('metadata') | _VALUES}),
    st.fixed_dictionaries({'rebuild': _wrapped('metadata') | _VALUES}),
).map(jsonutils.dumps)
_BODIES = _JSON_BODIES | st.binary(max_size=40) | st.just(b'')
_CONTENT_TYPES = st.sampled_from([
    'application/json', 'application/json; charset=UTF-8',
    'application/vnd.openstack.compute+json', 'text/plain', '',
    'application/xml', 'multipart/form-data', 'application/x-www-form-'
    'urlencoded']) | st.text(
        st.characters(min_codepoint=32, max_codepoint=126), max_size=15
    ).filter(lambda s: s == s.strip())  # requests refuses padded headers
_VERSIONS = st.sampled_from(['2.1', '2.42', '2.85', '2.86', 'latest', '1.0',
                             '3.0', 'abc'])


class NeverServerErrorTest(cloud.FilteredCloud):

    def setUp(self):
        super().setUp()
        server = self._create_server(networks='none')
        flavor = self._create_flavor()
        image = server['image']['id']
        self.routes = [
            ('POST', 'servers/%s/metadata' % server['id']),
            ('PUT', 'servers/%s/metadata' % server['id']),
            ('PUT', 'servers/%s/metadata/%s' % (
                server['id'], 'hw:wrs:live_migration_timeout')),
            ('POST', 'servers/%s/action' % server['id']),
            ('POST', 'flavors/%s/os-extra_specs' % flavor),
            ('PUT', 'flavors/%s/os-extra_specs/%s' % (
                flavor, 'hw:wrs:live_migration_tunnel')),
            ('PUT', 'os-hosts/compute'),
            ('PUT', 'os-hosts/nowhere'),
            ('POST', 'servers'),
        ]
        self.image = image

    @settings(max_examples=80, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(route=st.integers(min_value=0, max_value=8), body=_BODIES,
           content_type=_CONTENT_TYPES, version=_VERSIONS)
    def test_never_500(self, route, body, content_type, version):
        method, uri = self.routes[route]
        self.api.microversion = version
        response = self._request(method, uri, body,
                                 headers={'Content-Type': content_type})
        self.assertLess(response.status_code, 500, response.text)
        if response.status_code >= 400 and response.content:
            self.assertEqual('application/json',
                             response.headers['Content-Type'].split(';')[0],
                             response.text)
            fault = next(iter(response.json().values()))
            self.assertEqual(response.status_code, fault['code'])


class MetadataDecisionTest(cloud.FilteredCloud):
    """Property: a live-migration key in ``nova meta`` is stored exactly
    when the spec table accepts its value; otherwise the 400 is the
    table's message."""

    def setUp(self):
        super().setUp()
        self.uri = 'servers/%s/metadata' % self._create_server(
            networks='none')['id']

    @settings(max_examples=60, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(key=st.sampled_from(sorted(spec_table.all_keys())),
           value=st.integers(min_value=-5, max_value=1000).map(str) |
           st.text(max_size=8))
    def test_stored_iff_valid(self, key, value):
        setting = spec_table.all_keys()[key]
        response = self._request('POST', self.uri,
                                 {'metadata': {key: value}})
        try:
            setting.parse(key, value)
        except ValueError:
            self.assertEqual(setting.message(key),
                             self._fault(response, 400))
        else:
            self.assertEqual(200, response.status_code, response.text)


class PathBytesAndNestingTest(cloud.FilteredCloud):
    """Bytes in the path that are not UTF-8 and bodies nested deeper than
    the JSON parser goes: never a 500, always a JSON fault."""

    def setUp(self):
        super().setUp()
        self.server = self._create_server(networks='none')['id']
        self.flavor = self._create_flavor()

    def _assert_json_fault(self, response, status):
        self.assertEqual(status, response.status_code, response.text)
        self.assertEqual('application/json',
                         response.headers['Content-Type'].split(';')[0],
                         response.text)
        fault = next(iter(response.json().values()))
        self.assertEqual(status, fault['code'])

    def test_non_utf8_path_is_answered_by_nova(self):
        # Nova alone answers 404 for these; the filter must not make it a
        # 500 (WebOb's UnicodeDecodeError on req.path_info).
        for method, uri in (('GET', 'servers/%FF'),
                            ('PUT', 'servers/%FF/metadata'),
                            ('PUT', 'servers/%s/metadata/%%C3%%28' %
                             self.server),
                            ('PUT', 'os-hosts/%FE%FF'),
                            ('POST', 'flavors/%FF/os-extra_specs')):
            response = self._request(method, uri, {'metadata': {}})
            self.assertLess(response.status_code, 500, (uri, response.text))
            self.assertEqual('application/json',
                             response.headers['Content-Type'].split(';')[0],
                             (uri, response.text))

    @settings(max_examples=40, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(segment=st.binary(min_size=1, max_size=6),
           route=st.integers(min_value=0, max_value=4))
    def test_any_bytes_in_any_segment(self, segment, route):
        quoted = ''.join('%%%02X' % b for b in segment)
        uri = ['servers/%s' % quoted,
               'servers/%s/metadata' % quoted,
               'servers/%s/metadata/%s' % (self.server, quoted),
               'os-hosts/%s' % quoted,
               'flavors/%s/os-extra_specs/%s' % (self.flavor, quoted)][route]
        response = self._request('PUT', uri, {'meta': {quoted: '1'}})
        self.assertLess(response.status_code, 500, (uri, response.text))

    def test_deep_nesting_is_a_400_on_every_route_of_the_filter(self):
        routes = [
            ('POST', 'servers/%s/metadata' % self.server),
            ('PUT', 'servers/%s/metadata' % self.server),
            ('PUT', 'servers/%s/metadata/k' % self.server),
            ('POST', 'servers/%s/action' % self.server),
            ('POST', 'flavors/%s/os-extra_specs' % self.flavor),
            ('PUT', 'flavors/%s/os-extra_specs/k' % self.flavor),
            ('PUT', 'os-hosts/compute'),
            ('POST', 'servers'),
        ]
        self.api.microversion = '2.61'  # the filter validates extra specs
        # Under [wsgi] max_request_body_size (112 KiB), over the parser's
        # recursion limit.
        for body in ('[' * 100000, '{"metadata": ' * 8000):
            for method, uri in routes:
                self._assert_json_fault(self._request(method, uri, body),
                                        400)


_QUERY_VALUES = st.text(max_size=12) | st.sampled_from([
    'compute', 'nowhere', '2026-12-01T08:00:00Z', '2026-13-01', '0001-01-01',
    '9999-12-31T23:59:59+14:00', '00000000-0000-0000-0000-000000000000',
    '1d', '', ' '])


class HistoryQueryTest(cloud.FilteredCloud):
    """``GET /os-wrs-lm-history``: any query is answered (200, 400 or 404,
    a JSON fault), never a 500."""

    @settings(max_examples=60, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(query=st.lists(st.tuples(
        st.sampled_from(['host', 'server', 'since', 'limit', 'host']),
        _QUERY_VALUES), max_size=4))
    def test_any_query_is_answered(self, query):
        from urllib import parse
        uri = 'os-wrs-lm-history?' + parse.urlencode(query)
        response = self._request('GET', uri)
        self.assertIn(response.status_code, (200, 400, 404),
                      (uri, response.text))
        self.assertEqual('application/json',
                         response.headers['Content-Type'].split(';')[0])
        if response.status_code == 200:
            self.assertEqual(['events'], list(response.json()))
