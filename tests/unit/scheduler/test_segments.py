"""The aggregate-metadata model: parsing, conflicts, logging once."""

import pathlib
import unittest
from unittest import mock

from nova_wrs_lm.scheduler import segments
from tests.unit.scheduler import fakes

SEG = segments.SEGMENT.name
METHOD = segments.RECOVERY_METHOD.name
RESERVED = segments.RESERVED.name
LOGGER = 'nova_wrs_lm.scheduler.segments'
DOC = pathlib.Path(__file__).parents[3] / 'doc' / 'scheduler.md'


class SegmentsTest(unittest.TestCase):

    def setUp(self):
        patcher = mock.patch.object(segments, '_logged', set())
        patcher.start()
        self.addCleanup(patcher.stop)

    def _model(self, *aggregates):
        return segments.Segments(aggregates)

    def test_membership_and_method(self):
        model = self._model(
            fakes.aggregate(1, ['a', 'b', 'r'],
                            **{SEG: ' S1 ', METHOD: 'rh_priority'}),
            fakes.aggregate(2, ['r'], **{RESERVED: 'True'}),
            fakes.aggregate(3, ['c'], **{SEG: 'S2'}))
        self.assertEqual(segments.Membership(frozenset({'S1'}), False),
                         model.of('a'))
        self.assertEqual(segments.Membership(frozenset({'S1'}), True),
                         model.of('r'))
        self.assertIs(segments.NOT_IN_A_SEGMENT, model.of('elsewhere'))
        self.assertIs(segments.RH_PRIORITY, model.method('S1'))
        self.assertIs(segments.DEFAULT_METHOD, model.method('S2'))
        self.assertIs(segments.AUTO, segments.DEFAULT_METHOD)

    def test_host_in_two_segments(self):
        model = self._model(fakes.aggregate(1, ['a'], **{SEG: 'S1'}),
                            fakes.aggregate(2, ['a'], **{SEG: 'S2'}))
        self.assertEqual(frozenset({'S1', 'S2'}), model.of('a').segments)

    def test_method_on_any_aggregate_of_the_segment(self):
        model = self._model(
            fakes.aggregate(1, ['a'], **{SEG: 'S1'}),
            fakes.aggregate(2, [], **{SEG: 'S1', METHOD: 'reserved_host'}))
        self.assertIs(segments.RESERVED_HOST, model.method('S1'))

    def test_conflicting_methods_log_an_error_once_and_use_auto(self):
        aggregates = (
            fakes.aggregate(1, ['a'], **{SEG: 'S1', METHOD: 'auto_priority'}),
            fakes.aggregate(2, ['b'], **{SEG: 'S1', METHOD: 'rh_priority'}))
        with self.assertLogs(LOGGER, 'ERROR') as logs:
            for _ in range(3):
                self.assertIs(segments.AUTO,
                              self._model(*aggregates).method('S1'))
        self.assertEqual(
            ['ERROR:%s:Failover segment S1: conflicting %s values '
             '(auto_priority, rh_priority); using auto.' % (LOGGER, METHOD)],
            logs.output)

    def test_unknown_values_are_logged_once_and_treated_as_unset(self):
        aggregates = (
            fakes.aggregate(1, ['a'], **{SEG: 'S1', METHOD: 'fastest'}),
            fakes.aggregate(2, ['a'], **{RESERVED: 'maybe'}),
            fakes.aggregate(3, ['b'], **{SEG: '  '}))
        with self.assertLogs(LOGGER, 'ERROR') as logs:
            model = self._model(*aggregates)
            self._model(*aggregates)
        self.assertIs(segments.DEFAULT_METHOD, model.method('S1'))
        self.assertFalse(model.of('a').reserved)
        self.assertIs(segments.NOT_IN_A_SEGMENT, model.of('b'))
        self.assertEqual(3, len(logs.output))
        self.assertIn("agg1 (id 1): %s='fastest' ignored: it must be one "
                      "of auto, reserved_host, auto_priority, rh_priority."
                      % METHOD, logs.output[0])
        self.assertIn("%s='maybe' ignored: it must be a boolean" % RESERVED,
                      logs.output[1])
        self.assertIn("%s='  ' ignored: it must be a non-empty name" % SEG,
                      logs.output[2])

    def test_reserved_outside_any_segment_has_no_effect(self):
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            model = self._model(fakes.aggregate(1, ['x'], **{RESERVED: '1'}))
        self.assertIs(segments.NOT_IN_A_SEGMENT, model.of('x'))
        self.assertIn('Host x: %s=true has no effect' % RESERVED,
                      logs.output[0])

    def test_method_without_segment_is_logged(self):
        with self.assertLogs(LOGGER, 'ERROR') as logs:
            self._model(fakes.aggregate(1, ['x'], **{METHOD: 'auto'}))
        self.assertIn('%s ignored: the aggregate has no %s' % (METHOD, SEG),
                      logs.output[0])

    def test_methods_admit_and_prefer(self):
        table = {m.name: (m.admits(True), m.admits(False),
                          m.preference(True), m.preference(False))
                 for m in segments.METHODS.values()}
        self.assertEqual({
            'auto': (False, True, 0.0, 0.0),
            'reserved_host': (True, False, 0.0, 0.0),
            'auto_priority': (True, True, 0.0, 1.0),
            'rh_priority': (True, True, 1.0, 0.0),
        }, table)

    def test_the_docs_carry_the_table(self):
        self.assertIn(segments.reference(), DOC.read_text())


class HostReaderTest(unittest.TestCase):
    """The boot path: a host's own aggregates, each parsed once."""

    def setUp(self):
        patcher = mock.patch.object(segments, '_logged', set())
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_membership_from_the_host_aggregates(self):
        s1 = fakes.aggregate(1, ['a', 'r'], **{SEG: 'S1'})
        reserved = fakes.aggregate(2, ['r', 'x'], **{RESERVED: 'yes'})
        reader = segments.HostReader()
        self.assertEqual(segments.Membership(frozenset({'S1'}), True),
                         reader.of('r', [s1, reserved]))
        self.assertEqual(segments.Membership(frozenset({'S1'}), False),
                         reader.of('a', [s1]))
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            self.assertIs(segments.NOT_IN_A_SEGMENT,
                          reader.of('x', [reserved]))
        self.assertIn('Host x: %s=true has no effect' % RESERVED,
                      logs.output[0])

    def test_each_aggregate_is_parsed_once(self):
        shared = fakes.aggregate(1, ['a', 'b'], **{SEG: 'S1'})
        reader = segments.HostReader()
        with mock.patch.object(segments, '_read',
                               wraps=segments._read) as read:
            reader.of('a', [shared])
            reader.of('b', [shared])
        self.assertEqual(len(segments.KEYS), read.call_count)
