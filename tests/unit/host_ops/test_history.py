"""The client side of ``nova-wrs-lm history``
(:mod:`nova_wrs_lm.host_ops.history`): ``--since``, a server's name, the
lines."""

import datetime

import testtools

from nova_wrs_lm import history_events
from nova_wrs_lm.host_ops import history

NOW = datetime.datetime(2026, 12, 2, 12, 0, 0)


class _Compute:
    def __init__(self, servers):
        self.servers = servers

    def servers_named(self, name):
        return [s for s in self.servers if s['name'] == name]


class SinceTest(testtools.TestCase):

    def test_default_is_24_hours(self):
        self.assertEqual('2026-12-01T12:00:00.000000Z',
                         history.parse_since(None, NOW))

    def test_relative_and_absolute(self):
        for text, expected in (
                ('90m', '2026-12-02T10:30:00.000000Z'),
                ('2h', '2026-12-02T10:00:00.000000Z'),
                ('7d', '2026-11-25T12:00:00.000000Z'),
                ('1w', '2026-11-25T12:00:00.000000Z'),
                ('2026-12-01T08:00:00Z', '2026-12-01T08:00:00.000000Z'),
                ('2026-12-01T08:00:00', '2026-12-01T08:00:00.000000Z'),
                ('2026-12-01T09:00:00+01:00', '2026-12-01T08:00:00.000000Z'),
                ('2026-12-01T08:00:00.250000Z',
                 '2026-12-01T08:00:00.250000Z')):
            self.assertEqual(expected, history.parse_since(text, NOW), text)

    def test_bad_since_names_the_forms(self):
        for text in ('yesterday', '2h ago', '-3h', '2026-13-01'):
            exc = self.assertRaises(history.BadSince, history.parse_since,
                                    text, NOW)
            self.assertIn('--since %r: give a time in ISO 8601' % text,
                          str(exc))


class ServerTest(testtools.TestCase):

    def test_an_id_is_taken_as_it_is(self):
        uuid = '11111111-2222-3333-4444-555555555555'
        self.assertEqual(uuid, history.resolve_server(_Compute([]), uuid))

    def test_a_name_of_one_server(self):
        compute = _Compute([{'id': 'x1', 'name': 'vm'},
                            {'id': 'x1', 'name': 'vm'},
                            {'id': 'y', 'name': 'other'}])
        self.assertEqual('x1', history.resolve_server(compute, 'vm'))

    def test_none_or_several(self):
        compute = _Compute([{'id': 'x1', 'name': 'vm'},
                            {'id': 'x2', 'name': 'vm'}])
        exc = self.assertRaises(history.UnknownServer,
                                history.resolve_server, compute, 'vm')
        self.assertEqual("2 servers are named 'vm': give one of their ids: "
                         "x1, x2", str(exc))
        exc = self.assertRaises(history.UnknownServer,
                                history.resolve_server, compute, 'nope')
        self.assertIn("no server named 'nope'", str(exc))


class LineTest(testtools.TestCase):

    def _event(self, **values):
        event = dict.fromkeys(history_events.FIELDS)
        event.update(time='2026-12-02T10:00:01.500000Z', result='done')
        event.update(values)
        return event

    def test_a_move_reads_like_seed_000(self):
        self.assertEqual(
            '2026-12-02 10:00:01  Live-Migrate issued by admin against '
            'instance vm-1 (id-1) owned by tenant1 from host compute-0 to '
            'host compute-1: done, reason = host component failure',
            history.line(self._event(
                action='live-migration', user_id='admin', server_id='id-1',
                server_name='vm-1', project_id='tenant1', host='compute-0',
                from_host='compute-0', to_host='compute-1',
                reason='host component failure')))

    def test_a_failed_evacuation_with_no_destination(self):
        self.assertEqual(
            '2026-12-02 10:00:01  Evacuate issued by admin against instance '
            'vm-1 (id-1) owned by tenant1 from host H to host -: failed, '
            'reason = No valid host was found.',
            history.line(self._event(
                action='evacuate', user_id='admin', server_id='id-1',
                server_name='vm-1', project_id='tenant1', host='H',
                from_host='H', result='failed',
                reason='No valid host was found.')))

    def test_other_actions_and_host_events(self):
        self.assertEqual(
            '2026-12-02 10:00:01  Restart (instance HA) issued by the system '
            'against instance vm-1 (id-1) owned by - on host H: in progress',
            history.line(self._event(
                action='ha-restart', server_id='id-1', server_name='vm-1',
                host='H', result='in progress')))
        self.assertEqual(
            '2026-12-02 10:00:01  Host H: service disabled: done, reason = '
            'failure: data port down',
            history.line(self._event(action='service disabled', host='H',
                                     reason='failure: data port down')))
