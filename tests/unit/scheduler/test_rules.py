"""The rules of one request, per operation and recovery method."""

import unittest
from unittest import mock

from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm.scheduler import request
from nova_wrs_lm.scheduler import rules
from nova_wrs_lm.scheduler import segments
from tests.unit.scheduler import fakes

SEG = segments.SEGMENT.name
METHOD = segments.RECOVERY_METHOD.name
RESERVED = segments.RESERVED.name


def cloud(method=None):
    s1 = {SEG: 'S1'}
    if method:
        s1[METHOD] = method
    return [fakes.aggregate(1, ['a', 'b', 'r'], **s1),
            fakes.aggregate(2, ['r', 'r2'], **{RESERVED: 'true'}),
            fakes.aggregate(3, ['c', 'r2'], **{SEG: 'S2'})]


HOSTS = ('a', 'b', 'r', 'c', 'r2', 'free')


class RulesTest(unittest.TestCase):

    def _rules(self, op, method=None):
        aggregates = cloud(method)
        spec = fakes.request_spec(uuids.instance, ignore_hosts=['ignored'])
        with mock.patch.object(request, 'of_request', return_value=op):
            found = rules.for_request(spec, aggregates=lambda s: aggregates)
        states = [fakes.host_state(h, aggregates) for h in HOSTS]
        return found, states

    def _passing(self, op, method=None):
        found, states = self._rules(op, method)
        return [s.host for s in states if found.rejects(s) is None]

    def _preferred(self, op, method):
        found, states = self._rules(op, method)
        return [s.host for s in states if found.preference(s) == 1.0]

    def test_new_instances_avoid_reserved_hosts(self):
        self.assertEqual(['a', 'b', 'c', 'free'],
                         self._passing(request.NEW_INSTANCE))

    def test_moves_from_a_segment_per_method(self):
        # The source (a) passes too: Nova drops it through ignore_hosts
        # unless a resize may stay on the same host.
        move = request.Operation('evacuation', 'a')
        expected = {'auto': ['a', 'b'], 'reserved_host': ['r'],
                    'auto_priority': ['a', 'b', 'r'],
                    'rh_priority': ['a', 'b', 'r']}
        for method, hosts in expected.items():
            self.assertEqual(hosts, self._passing(move, method), method)
        self.assertEqual(['a', 'b'], self._passing(move))

    def test_moves_from_outside_any_segment_avoid_reserved_hosts(self):
        move = request.Operation(request.MOVE, 'free')
        self.assertEqual(['a', 'b', 'c', 'free'],
                         self._passing(move, 'reserved_host'))

    def test_preferences(self):
        move = request.Operation('live-migration', 'b')
        self.assertEqual(['r'], self._preferred(move, 'rh_priority'))
        self.assertEqual(['a', 'b'], self._preferred(move, 'auto_priority'))
        self.assertEqual([], self._preferred(move, 'auto'))
        self.assertEqual([], self._preferred(request.NEW_INSTANCE,
                                             'rh_priority'))

    def test_rejections_name_the_reason(self):
        found, states = self._rules(
            request.Operation('migration', 'a'), 'reserved_host')
        reasons = {s.host: found.rejects(s) for s in states}
        self.assertEqual(
            'active host; recovery method of S1: reserved_host',
            reasons['b'])
        self.assertEqual(
            'not in the failover segment of the source host (S1)',
            reasons['c'])

    def test_worked_out_once_per_request(self):
        aggregates = cloud('auto')
        read = mock.Mock(return_value=aggregates)
        spec = fakes.request_spec(uuids.instance, ignore_hosts=['a'])
        op = request.Operation('evacuation', 'a')
        with mock.patch.object(request, 'of_request',
                               return_value=op) as of_request:
            first = rules.for_request(spec, aggregates=read)
            self.assertIs(first, rules.for_request(spec, aggregates=read))
            spec.ignore_hosts = ['a', 'b']  # a retry is a new request
            self.assertIsNot(first, rules.for_request(spec, aggregates=read))
        self.assertEqual(2, of_request.call_count)
        self.assertEqual(2, read.call_count)
