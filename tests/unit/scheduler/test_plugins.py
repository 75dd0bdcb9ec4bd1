"""The classes Nova loads: names, rebuild, debug log, multiplier."""

import fixtures
from nova import filters as nova_base_filters
from nova import test
from nova import weights as nova_base_weights
from nova.scheduler import filters as nova_filters
from nova.scheduler import weights as nova_weights
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm.scheduler import request
from nova_wrs_lm.scheduler import rules
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

    def _filtered(self, spec):
        """The hosts that pass, as Nova's filter handler runs the filter."""
        return nova_filters.HostFilterHandler().get_filtered_objects(
            [segment_filter.FailoverSegmentFilter()], self.states, spec)

    def _move_from_s1(self):
        """An evacuation from a: S1 (rh_priority) holds a, b and the
        reserved host r; c is in no segment."""
        aggregates = [
            fakes.aggregate(1, ['a', 'b', 'r'], **{
                segments.SEGMENT.name: 'S1',
                segments.RECOVERY_METHOD.name: 'rh_priority'}),
            fakes.aggregate(2, ['r'], **{segments.RESERVED.name: 'true'})]
        self.useFixture(fixtures.MockPatchObject(
            request, 'of_request',
            return_value=request.Operation('evacuation', 'a')))
        self.useFixture(fixtures.MockPatchObject(
            rules, '_every_aggregate', return_value=aggregates))
        return [fakes.host_state(h, aggregates) for h in ('a', 'b', 'r', 'c')]

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

        self.assertIs(segment_filter.FailoverSegmentFilter,
                      old.FailoverSegmentFilter)
        self.assertIs(segments, nova_wrs_lm.filters.segments)
        self.assertIs(request, nova_wrs_lm.filters.operation)
        self.assertIs(rules, old.rules)
        self.assertIs(segment_filter, old.failover_segment_filter)
        self.assertIs(segment_weigher, old.failover_segment_weigher)

    def test_boot_rejection_is_logged_at_debug_with_host_and_reason(self):
        with self.assertLogs(LOGGER, 'DEBUG') as logs:
            passed = self._filtered(self._boot())
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
            self.states,
            self._filtered(self._boot(_nova_check_type=['rebuild'])))

    def test_filter_all_passes_what_novas_loop_passes(self):
        # The override of BaseFilter.filter_all against Nova's own loop
        # (BaseHostFilter._filter_one per host).
        host_filter = segment_filter.FailoverSegmentFilter()
        boot_states = self.states
        move_states = self._move_from_s1()
        for states, spec in (
                (boot_states, self._boot()),
                (boot_states, self._boot(_nova_check_type=['rebuild'])),
                (move_states, self._boot())):
            self.assertEqual(
                list(nova_base_filters.BaseFilter.filter_all(
                    host_filter, states, spec)),
                host_filter.filter_all(states, spec))

    def test_run_on_rebuild_is_honoured(self):
        class OnRebuild(segment_filter.FailoverSegmentFilter):
            RUN_ON_REBUILD = True

        rebuild = self._boot(_nova_check_type=['rebuild'])
        self.assertEqual(['a'], [s.host for s in OnRebuild().filter_all(
            self.states, rebuild)])
        self.assertEqual(['a'], [s.host for s in self.states
                                 if OnRebuild()._filter_one(s, rebuild)])

    def test_weigh_objects_weighs_as_novas_loop(self):
        weigher = segment_weigher.FailoverSegmentWeigher()
        weighed = [nova_weights.WeighedHost(s, 0.0)
                   for s in self._move_from_s1()]
        spec = self._boot()
        self.assertEqual([0.0, 0.0, 1.0, 0.0],
                         weigher.weigh_objects(weighed, spec))
        self.assertEqual(
            nova_base_weights.BaseWeigher.weigh_objects(
                weigher, weighed, spec),
            weigher.weigh_objects(weighed, spec))

    def test_weigher_multiplier_is_the_option(self):
        self.flags(failover_segment_weight_multiplier=7.5, group='wrs_lm')
        self.assertEqual(7.5, segment_weigher.FailoverSegmentWeigher()
                         .weight_multiplier(self.states[0]))

    def test_weigher_multiplier_per_aggregate(self):
        # nova.scheduler.utils.get_weight_multiplier: the aggregates'
        # value (the smallest of several) over the option; one that is
        # not a number is logged and the option applies.
        self.flags(failover_segment_weight_multiplier=7.5, group='wrs_lm')
        key = 'failover_segment_weight_multiplier'
        aggregates = [fakes.aggregate(2, ['x', 'y'], **{key: '2.5'}),
                      fakes.aggregate(3, ['y'], **{key: '1.5'}),
                      fakes.aggregate(4, ['z'], **{key: 'high'})]
        weigher = segment_weigher.FailoverSegmentWeigher()
        self.assertEqual(
            [2.5, 1.5, 7.5, 7.5],
            [weigher.weight_multiplier(fakes.host_state(host, aggregates))
             for host in ('x', 'y', 'z', 'elsewhere')])

    def test_weigher_gives_boots_no_order(self):
        weighed = [nova_weights.WeighedHost(s, 0.0) for s in self.states]
        self.assertEqual([0.0, 0.0], segment_weigher.FailoverSegmentWeigher()
                         .weigh_objects(weighed, self._boot()))
