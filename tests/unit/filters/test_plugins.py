"""The classes Nova loads: names, rebuild, debug log, multiplier."""

from nova import test
from nova.scheduler import filters as nova_filters
from nova.scheduler import weights as nova_weights
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm import filters
from nova_wrs_lm.filters import segments
from tests.unit.filters import fakes

LOGGER = 'nova_wrs_lm.filters.failover_segment_filter'


class PluginsTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        reserved = fakes.aggregate(1, ['r'], **{
            segments.SEGMENT.name: 'S1', segments.RESERVED.name: 'true'})
        self.states = [fakes.host_state('r', [reserved]),
                       fakes.host_state('a')]

    def _boot(self, **hints):
        spec = fakes.request_spec(uuids.instance)
        spec.scheduler_hints = hints
        return spec

    def test_nova_loads_them_by_the_documented_names(self):
        self.assertEqual(
            [filters.FailoverSegmentFilter],
            nova_filters.HostFilterHandler().get_matching_classes(
                ['nova_wrs_lm.filters.all_filters']))
        self.assertEqual(
            [filters.FailoverSegmentWeigher],
            nova_weights.HostWeightHandler().get_matching_classes(
                ['nova_wrs_lm.filters.FailoverSegmentWeigher']))

    def test_boot_rejection_is_logged_at_debug_with_host_and_reason(self):
        with self.assertLogs(LOGGER, 'DEBUG') as logs:
            passed = filters.FailoverSegmentFilter().filter_all(
                self.states, self._boot())
        self.assertEqual(['a'], [s.host for s in passed])
        self.assertEqual(
            ['DEBUG:%s:r fails failover segment rules: reserved failover '
             'host of S1; new instances do not go there' % LOGGER],
            logs.output)

    def test_host_passes_alone(self):
        segment_filter = filters.FailoverSegmentFilter()
        self.assertEqual(
            [False, True],
            [segment_filter.host_passes(s, self._boot())
             for s in self.states])

    def test_rebuild_is_not_filtered(self):
        self.assertEqual(
            self.states, filters.FailoverSegmentFilter().filter_all(
                self.states, self._boot(_nova_check_type=['rebuild'])))

    def test_weigher_multiplier_is_the_option(self):
        self.flags(failover_segment_weight_multiplier=7.5, group='wrs_lm')
        self.assertEqual(7.5, filters.FailoverSegmentWeigher()
                         .weight_multiplier(self.states[0]))

    def test_weigher_gives_boots_no_order(self):
        weighed = [nova_weights.WeighedHost(s, 0.0) for s in self.states]
        self.assertEqual([0.0, 0.0], filters.FailoverSegmentWeigher()
                         .weigh_objects(weighed, self._boot()))
