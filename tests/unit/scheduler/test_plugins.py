"""The classes Nova loads: names, rebuild, debug log, multiplier."""

from nova import test
from nova.scheduler import filters as nova_filters
from nova.scheduler import weights as nova_weights
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm.scheduler import segments
from nova_wrs_lm.scheduler.filters import failover_segment as segment_filter
from nova_wrs_lm.scheduler.weights import failover_segment as segment_weigher
from tests.unit.scheduler import fakes

LOGGER = 'nova_wrs_lm.scheduler.filters.failover_segment'


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
            [segment_filter.FailoverSegmentFilter],
            nova_filters.HostFilterHandler().get_matching_classes(
                ['nova_wrs_lm.filters.all_filters']))
        self.assertEqual(
            [segment_weigher.FailoverSegmentWeigher],
            nova_weights.HostWeightHandler().get_matching_classes(
                ['nova_wrs_lm.filters.FailoverSegmentWeigher']))

    def test_nova_loads_them_by_their_module_paths(self):
        self.assertEqual(
            [segment_filter.FailoverSegmentFilter],
            nova_filters.HostFilterHandler().get_matching_classes(
                ['nova_wrs_lm.scheduler.filters.all_filters']))
        self.assertEqual(
            [segment_weigher.FailoverSegmentWeigher],
            nova_weights.HostWeightHandler().get_matching_classes(
                ['nova_wrs_lm.scheduler.weights.failover_segment.'
                 'FailoverSegmentWeigher']))

    def test_old_module_paths_are_the_moved_modules(self):
        import nova_wrs_lm.filters.operation
        import nova_wrs_lm.filters.segments
        from nova_wrs_lm import filters as old
        from nova_wrs_lm.scheduler import request
        from nova_wrs_lm.scheduler import rules

        self.assertIs(segment_filter.FailoverSegmentFilter,
                      old.FailoverSegmentFilter)
        self.assertIs(segments, nova_wrs_lm.filters.segments)
        self.assertIs(request, nova_wrs_lm.filters.operation)
        self.assertIs(rules, old.rules)
        self.assertIs(segment_filter, old.failover_segment_filter)
        self.assertIs(segment_weigher, old.failover_segment_weigher)

    def test_boot_rejection_is_logged_at_debug_with_host_and_reason(self):
        with self.assertLogs(LOGGER, 'DEBUG') as logs:
            passed = segment_filter.FailoverSegmentFilter().filter_all(
                self.states, self._boot())
        self.assertEqual(['a'], [s.host for s in passed])
        self.assertEqual(
            ['DEBUG:%s:r fails failover segment rules: reserved failover '
             'host of S1; new instances do not go there' % LOGGER],
            logs.output)

    def test_host_passes_alone(self):
        host_filter = segment_filter.FailoverSegmentFilter()
        self.assertEqual(
            [False, True],
            [host_filter.host_passes(s, self._boot())
             for s in self.states])

    def test_rebuild_is_not_filtered(self):
        self.assertEqual(
            self.states, segment_filter.FailoverSegmentFilter().filter_all(
                self.states, self._boot(_nova_check_type=['rebuild'])))

    def test_weigher_multiplier_is_the_option(self):
        self.flags(failover_segment_weight_multiplier=7.5, group='wrs_lm')
        self.assertEqual(7.5, segment_weigher.FailoverSegmentWeigher()
                         .weight_multiplier(self.states[0]))

    def test_weigher_gives_boots_no_order(self):
        weighed = [nova_weights.WeighedHost(s, 0.0) for s in self.states]
        self.assertEqual([0.0, 0.0], segment_weigher.FailoverSegmentWeigher()
                         .weigh_objects(weighed, self._boot()))
