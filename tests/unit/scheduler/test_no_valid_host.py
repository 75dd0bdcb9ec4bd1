"""The explaining filters as Nova's filter handler runs them: what they
pass, the first rejecting filter per host, when they raise, the cap; the
wrapper of select_destinations for Placement's empty answer."""

import fixtures
import oslo_messaging as messaging
from nova import exception
from nova import objects
from nova import test
from nova.scheduler import filters as nova_filters
from nova.scheduler import manager
from oslo_utils import timeutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm.scheduler import explaining
from nova_wrs_lm.scheduler import no_candidates
from nova_wrs_lm.scheduler import request
from tests.unit.scheduler import fakes

NOT_ENOUGH = 'There are not enough hosts available. '


def _filters(names, available):
    by_name = {cls.__name__: cls for cls in nova_filters.HostFilterHandler()
               .get_matching_classes([available])}
    return [by_name[name]() for name in names]


def _state(host, disabled=False):
    state = fakes.host_state(host)
    now = timeutils.utcnow()
    state.service = {'disabled': disabled, 'disabled_reason': None,
                     'forced_down': False, 'created_at': now,
                     'updated_at': now, 'last_seen_up': now}
    return state


def _spec(group_hosts=None, ignore_hosts=None):
    spec = fakes.request_spec(uuids.instance, ignore_hosts=ignore_hosts)
    spec.instance_group = None
    if group_hosts is not None:
        spec.instance_group = objects.InstanceGroup(
            uuid=uuids.group, name='g', policy='affinity',
            policies=['affinity'], rules={}, members=[uuids.member],
            hosts=group_hosts)
    return spec


class ExplainingFiltersTest(test.NoDBTestCase):
    NAMES = ['ComputeFilter', 'ServerGroupAffinityFilter']

    def setUp(self):
        super().setUp()
        self.states = [_state('c'), _state('a', disabled=True),
                       _state('b')]
        self.filters = _filters(self.NAMES,
                                'nova_wrs_lm.scheduler.all_filters')
        self.handler = nova_filters.HostFilterHandler()

    def _run(self, spec, index=0, filters=None):
        return self.handler.get_filtered_objects(
            filters or self.filters, self.states, spec, index)

    def test_same_names_and_results_as_novas_filters(self):
        nova = _filters(self.NAMES, 'nova.scheduler.filters.all_filters')
        self.assertEqual(self.NAMES, [type(f).__name__
                                      for f in self.filters])
        for spec in (_spec(), _spec(group_hosts=['b', 'c'])):
            self.assertEqual(self._run(spec, filters=nova), self._run(spec))

    def test_first_rejecting_filter_per_host_sorted_by_name(self):
        exc = self.assertRaises(exception.NoValidHost, self._run,
                                _spec(group_hosts=['x']))
        self.assertEqual(
            'No valid host was found. ' + NOT_ENOUGH +
            'a (ComputeFilter: service disabled), '
            'b (ServerGroupAffinityFilter: server group g is on x), '
            'c (ServerGroupAffinityFilter: server group g is on x)',
            exc.format_message())

    def test_a_later_instance_gets_novas_own_exception(self):
        # Index 1: Nova must release the first instance's claim first.
        self.assertEqual([], self._run(_spec(group_hosts=['x']), index=1))

    def test_hosts_excluded_by_the_request_are_named_last(self):
        spec = _spec(group_hosts=['x'], ignore_hosts=['src', 'tried'])
        self.useFixture(_operation_from('src'))
        exc = self.assertRaises(exception.NoValidHost, self._run, spec)
        self.assertTrue(exc.format_message().endswith(
            "c (ServerGroupAffinityFilter: server group g is on x), "
            "src (excluded by the request: the instance's own host), "
            "tried (excluded by the request: ignore_hosts)"),
            exc.format_message())

    def test_a_filter_that_is_not_explaining_is_said_so(self):
        nova_affinity = _filters(['ServerGroupAffinityFilter'],
                                 'nova.scheduler.filters.all_filters')
        filters = [self.filters[0]] + nova_affinity + _filters(
            ['DifferentHostFilter'], 'nova_wrs_lm.scheduler.all_filters')
        # ComputeFilter removes a, Nova's affinity filter c, and the last
        # filter b (it runs the other instance).
        spec = _spec(group_hosts=['b'])
        spec.scheduler_hints = {'different_host': [uuids.other]}
        self.states[2].instances = {uuids.other: None}
        exc = self.assertRaises(exception.NoValidHost, self._run, spec,
                                filters=filters)
        self.assertEqual(
            'No valid host was found. ' + NOT_ENOUGH +
            'a (ComputeFilter: service disabled), '
            'b (DifferentHostFilter), '
            'c (a filter not from nova_wrs_lm.scheduler.all_filters)',
            exc.format_message())

    def test_a_filter_that_is_not_explaining_leaving_none_raises_nothing(self):
        # Nova then raises its own NoValidHost.
        filters = [self.filters[0]] + _filters(
            ['ServerGroupAffinityFilter'],
            'nova.scheduler.filters.all_filters')
        self.assertEqual([], self._run(_spec(group_hosts=['x']),
                                       filters=filters))

    def test_the_message_names_twenty_hosts(self):
        self.states = [_state('h%02d' % i) for i in range(25)]
        exc = self.assertRaises(exception.NoValidHost, self._run,
                                _spec(group_hosts=['x'], ignore_hosts=['y']))
        message = exc.format_message()
        self.assertEqual(20, message.count('(ServerGroupAffinityFilter'))
        self.assertTrue(message.endswith(
            'h19 (ServerGroupAffinityFilter: server group g is on x) '
            'and 6 more'), message)

    def test_no_host_reached_the_filters(self):
        self.states = []
        exc = self.assertRaises(exception.NoValidHost, self._run, _spec())
        self.assertEqual('No valid host was found. ' + NOT_ENOUGH +
                         'no host reached the filters',
                         exc.format_message())

    def test_a_spec_filtered_again_starts_a_new_story(self):
        spec = _spec(group_hosts=['c'])
        self.assertEqual(['c'], [s.host for s in self._run(spec)])
        self.states = [_state('d')]
        exc = self.assertRaises(exception.NoValidHost, self._run, spec)
        self.assertEqual(
            'No valid host was found. ' + NOT_ENOUGH +
            'd (ServerGroupAffinityFilter: server group g is on c)',
            exc.format_message())


def _operation_from(source):
    """The request is a live migration from ``source`` (what
    request.of_request reads from Nova's databases)."""
    return fixtures.MockPatchObject(
        request, 'of_request',
        return_value=request.Operation('live-migration', source))


class _Scheduler:
    """What the wrapper reads of a SchedulerManager."""

    def __init__(self, enabled_filters, raises):
        self.host_manager = type('HM', (), {})()
        self.host_manager.enabled_filters = enabled_filters
        self._raises = raises


@messaging.expected_exceptions(exception.NoValidHost)
def _select_destinations(self, context, spec_obj=None):
    raise self._raises


class NoCandidatesTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.select = no_candidates._wrap(_select_destinations)
        self.explaining = _filters(['ComputeFilter'],
                                   'nova_wrs_lm.scheduler.all_filters')

    def _raised(self, scheduler):
        expected = self.assertRaises(messaging.ExpectedException,
                                     self.select, scheduler, None)
        return expected.exc_info[1].format_message()

    def test_placement_refusal_gets_a_reason(self):
        self.assertEqual(
            'No valid host was found. ' + no_candidates.REASON,
            self._raised(_Scheduler(self.explaining,
                                    exception.NoValidHost(reason=''))))

    def test_other_reasons_and_other_filters_pass_through(self):
        self.assertEqual(
            'No valid host was found. ' + NOT_ENOUGH.strip(),
            self._raised(_Scheduler(
                self.explaining,
                exception.NoValidHost(reason=NOT_ENOUGH.strip()))))
        nova = _filters(['ComputeFilter'],
                        'nova.scheduler.filters.all_filters')
        self.assertEqual(
            'No valid host was found. ',
            self._raised(_Scheduler(nova, exception.NoValidHost(reason=''))))

    def test_installed_once_by_all_filters(self):
        explaining.all_filters()
        explaining.all_filters()
        wrapped = manager.SchedulerManager.select_destinations
        self.assertTrue(wrapped.wrs_lm_no_candidates)
        self.assertFalse(getattr(wrapped.__wrapped__,
                                 'wrs_lm_no_candidates', False))

