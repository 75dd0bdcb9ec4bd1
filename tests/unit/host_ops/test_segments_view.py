"""The segment view's warnings: the scheduler's own findings, attributed
to segments, and the recovery rules read from the method table."""

import logging
import unittest
from unittest import mock

from nova_wrs_lm.host_ops import recover
from nova_wrs_lm.host_ops import segments_view
from nova_wrs_lm.scheduler import segments
from tests.unit.scheduler import fakes

SEG = segments.SEGMENT.name
METHOD = segments.RECOVERY_METHOD.name
RESERVED = segments.RESERVED.name
#: A value breaking each key's rule.
BAD = {SEG: '  ', METHOD: 'reserved-host', RESERVED: 'maybe'}


def _up(*hosts, status='enabled', state='up', reason=None):
    return {h: {'host': h, 'status': status, 'state': state,
                'disabled_reason': reason} for h in hosts}


class WarningsTest(unittest.TestCase):

    def setUp(self):
        patcher = mock.patch.object(segments, '_logged', set())
        patcher.start()
        self.addCleanup(patcher.stop)

    def _build(self, aggregates, services=None, instances=None, name=None):
        hosts = {h for a in aggregates for h in a.hosts}
        return segments_view.build(
            aggregates, _up(*hosts) if services is None else services,
            instances or {}, name)

    def test_every_rule_breach_is_the_text_the_scheduler_logs(self):
        self.assertEqual(set(BAD), {k.name for k in segments.KEYS})
        for key in segments.KEYS:
            aggregates = [
                fakes.aggregate(1, ['a', 'b'], **{SEG: 'S1'}),
                fakes.aggregate(2, ['a'], **{key.name: BAD[key.name]})]
            with self.assertLogs('nova_wrs_lm.scheduler.segments',
                                 logging.ERROR) as logged:
                segments.Segments(aggregates)
            view = self._build(aggregates)
            (s1,) = view.segments
            expected = ["Aggregate agg2 (id 2): %s=%r ignored: it must be "
                        "%s." % (key.name, BAD[key.name], key.rule)]
            self.assertEqual(expected, s1.warnings, key.name)
            self.assertEqual(expected, [r.getMessage()
                                        for r in logged.records])
            self.assertEqual([], view.warnings)

    def test_findings_go_to_their_segment_or_to_none(self):
        view = self._build([
            fakes.aggregate(1, ['a', 'b'], **{SEG: 'S1', METHOD: 'auto'}),
            fakes.aggregate(2, ['c', 'd'], **{SEG: 'S1',
                                              METHOD: 'rh_priority'}),
            fakes.aggregate(3, [], **{SEG: 'S2', METHOD: 'nope'}),
            fakes.aggregate(4, ['x'], **{METHOD: 'auto'}),
            fakes.aggregate(5, ['y'], **{SEG: '  ', RESERVED: 'true'})])
        s1, s2 = view.segments
        self.assertEqual('auto', s1.recovery_method)
        self.assertEqual(['Failover segment S1: conflicting %s values '
                          '(auto, rh_priority); using auto.' % METHOD],
                         s1.warnings)
        self.assertEqual("Aggregate agg3 (id 3): %s='nope' ignored: it "
                         "must be %s." % (METHOD, segments.RECOVERY_METHOD
                                          .rule), s2.warnings[0])
        self.assertEqual([
            "Aggregate agg4 (id 4): %s ignored: the aggregate has no %s."
            % (METHOD, SEG),
            "Aggregate agg5 (id 5): %s='  ' ignored: it must be %s."
            % (SEG, segments.SEGMENT.rule),
            'Host y: %s=true has no effect: the host is in no failover '
            'segment.' % RESERVED], sorted(view.warnings))

    def test_size_of_a_segment(self):
        view = self._build([fakes.aggregate(1, [], **{SEG: 'S0'}),
                            fakes.aggregate(2, ['a'], **{SEG: 'S1'})])
        self.assertEqual([
            ['Failover segment S0 (auto) has no host: an aggregate names '
             'it, with no host in it.'],
            ['Failover segment S1 (auto) has one host (a): when it fails, '
             'its instances have nowhere to go in the segment.']],
            [s.warnings for s in view.segments])

    def _warnings(self, method, reserved, services=None, instances=None):
        view = self._build([
            fakes.aggregate(1, ['a', 'b', 'r'],
                            **{SEG: 'S1', METHOD: method.name}),
            fakes.aggregate(2, reserved, **{RESERVED: 'true'})],
            services=services, instances=instances)
        return view.segments[0].warnings

    def test_a_method_that_admits_no_host_of_its_segment(self):
        self.assertEqual(
            ['Failover segment S1 (reserved_host): the method admits only '
             'reserved hosts and no reserved host is left: the instances '
             'of a failed host have nowhere to go.'],
            self._warnings(segments.RESERVED_HOST, []))
        self.assertEqual(
            ['Failover segment S1 (auto): the method admits only active '
             'hosts and no active host is left: the instances of a failed '
             'host have nowhere to go.'],
            self._warnings(segments.AUTO, ['a', 'b', 'r']))
        for method in (segments.AUTO_PRIORITY, segments.RH_PRIORITY):
            self.assertEqual([], self._warnings(method, []))
            self.assertEqual([], self._warnings(method, ['a', 'b', 'r']))
        for method in segments.METHODS.values():
            self.assertEqual([], self._warnings(method, ['r']), method.name)

    def test_destinations_must_be_enabled_and_up(self):
        services = dict(_up('a', 'r'),
                        **_up('b', status='disabled', reason='maintenance:'))
        self.assertEqual(
            ['Failover segment S1 (auto): when a fails, its instances '
             'have nowhere to go: no other active host of the segment is '
             'enabled and up.'],
            self._warnings(segments.AUTO, ['r'], services))
        # The reserved host is admitted too.
        self.assertEqual([], self._warnings(segments.RH_PRIORITY, ['r'],
                                            services))
        # Down instead of disabled; the reserved host holds instances.
        services = dict(_up('a', 'b'), **_up('r', state='down'))
        self.assertEqual(
            ['Failover segment S1 (reserved_host): when a or b fails, its '
             'instances have nowhere to go: no other reserved host of the '
             'segment is enabled and up.'],
            self._warnings(segments.RESERVED_HOST, ['r'], services))
        services = dict(_up('a', 'r'), **_up('b', status='disabled'))
        self.assertEqual(
            ['Failover segment S1 (reserved_host): when r fails, its '
             'instances have nowhere to go: no other reserved host of the '
             'segment is enabled and up.'],
            self._warnings(segments.RESERVED_HOST, ['b', 'r'], services,
                           instances={'r': 1}))

    def test_a_host_without_a_service(self):
        (s1,) = self._build([fakes.aggregate(1, ['a', 'b'], **{SEG: 'S1'})],
                            services=_up('a')).segments
        self.assertEqual((None, None, False),
                         (s1.hosts[1].status, s1.hosts[1].state,
                          s1.hosts[1].on_maintenance))
        self.assertIn('Host b has no nova-compute service.', s1.warnings)

    def test_unknown_segment(self):
        aggregates = [fakes.aggregate(1, ['a'], **{SEG: 'S1'}),
                      fakes.aggregate(2, ['b'], **{SEG: 'S2'})]
        with self.assertRaisesRegex(
                segments_view.UnknownSegment,
                r"^no failover segment 'S3': no aggregate has "
                r"failover_segment=S3 \(segments: S1, S2\)$"):
            self._build(aggregates, name='S3')
        with self.assertRaisesRegex(segments_view.UnknownSegment,
                                    r'\(segments: none\)'):
            self._build([], name='S1')
        self.assertEqual(['S2'], [s.name for s in self._build(
            aggregates, name='S2').segments])


class OnMaintenanceTest(unittest.TestCase):

    def test_disabled_with_a_maintenance_reason(self):
        for status, reason, expected in (
                ('disabled', 'maintenance: disks', True),
                ('disabled', '  Maintenance:x', True),
                ('disabled', recover.REASON_PREFIX + '2026-01-01T00:00:00Z',
                 True),
                ('disabled', 'failure: fenced', False),
                ('disabled', None, False),
                ('enabled', 'maintenance: disks', False)):
            self.assertIs(expected, segments_view.on_maintenance(
                {'status': status, 'disabled_reason': reason}), reason)


class _Compute:
    """Counts the calls of :func:`segments_view.read`."""

    def __init__(self, hosts):
        self.calls = []
        self._hosts = hosts

    def aggregates(self):
        self.calls.append('aggregates')
        return [{'id': 1, 'name': 'S1', 'hosts': self._hosts,
                 'metadata': {SEG: 'S1'}}]

    def compute_services(self):
        self.calls.append('services')
        return list(_up(*self._hosts).values())

    def all_servers(self):
        self.calls.append('servers')
        return [{'OS-EXT-SRV-ATTR:host': h} for h in self._hosts] * 3


class ReadTest(unittest.TestCase):

    def test_one_call_per_kind_whatever_the_hosts(self):
        compute = _Compute(['h%02d' % i for i in range(50)])
        view = segments_view.read(compute)
        self.assertEqual(['aggregates', 'services', 'servers'],
                         compute.calls)
        (s1,) = view.segments
        self.assertEqual(50, len(s1.hosts))
        self.assertEqual({3}, {h.instances for h in s1.hosts})
        self.assertEqual([], s1.warnings)
