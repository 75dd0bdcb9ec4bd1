"""The history's rules (:mod:`nova_wrs_lm.history_events`) on records as
the database work returns them: edge cases the in-process cloud does not
reach (a move still running, a cancelled one, a migration missing, an
HA restart, ties)."""

import datetime

import testtools

from nova_wrs_lm import history_db
from nova_wrs_lm import history_events as rules
from nova_wrs_lm import instance_actions

T0 = datetime.datetime(2026, 12, 1, 10, 0, 0)
NOW = T0 + datetime.timedelta(hours=1)
UUID = '11111111-2222-3333-4444-555555555555'


def _at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def _action(id, name, at, events=(), finish=None, request_id=None):
    return {'id': id, 'instance_uuid': UUID, 'action': name,
            'request_id': request_id or 'req-%d' % id, 'user_id': 'u',
            'project_id': 'p', 'start_time': _at(at),
            'finish_time': finish, 'message': None,
            'events': [dict({'event': 'compute_x', 'start_time': _at(at),
                             'finish_time': _at(at + 1),
                             'result': 'Success', 'host': 'a',
                             'details': None}, **e) for e in events]}


def _migration(id, kind, at, status, source='a', dest='b'):
    return {'id': id, 'instance_uuid': UUID, 'migration_type': kind,
            'status': status, 'source_compute': source, 'dest_compute': dest,
            'created_at': _at(at), 'updated_at': _at(at + 5)}


def _records(actions, migrations=(), faults=(), services=None):
    return history_db.Records(
        {UUID: {'uuid': UUID, 'display_name': 'vm', 'project_id': 'p',
                'user_id': 'u', 'host': 'b', 'deleted': 0}},
        list(actions), list(migrations), list(faults), services or {})


def _service(host='a', disabled=False, reason=None, forced_down=False):
    return {'host': host, 'disabled': disabled, 'disabled_reason': reason,
            'forced_down': forced_down}


class MoveTest(testtools.TestCase):

    def test_each_move_pairs_with_its_own_migration(self):
        actions = [_action(1, 'live-migration', 0),
                   _action(2, 'live-migration', 60)]
        migrations = [_migration(10, 'live-migration', 0.5, 'cancelled'),
                      _migration(11, 'live-migration', 60.2, 'completed',
                                 dest='c')]
        events = rules.build(_records(actions, migrations), NOW)
        self.assertEqual(
            [('failed', 'a', 'b', 'migration cancelled'),
             ('done', 'a', 'c', None)],
            [(e['result'], e['from_host'], e['to_host'], e['reason'])
             for e in events])

    def test_an_evacuation_record_made_just_before_its_action(self):
        # Nova's API creates the evacuation's record, then the action.
        events = rules.build(_records(
            [_action(1, 'evacuate', 10)],
            [_migration(10, 'evacuation', 9.99, 'done')],
            services={'a': _service(forced_down=True)}), NOW)
        self.assertEqual(('done', 'a', 'b', 'host a forced down'),
                         (events[0]['result'], events[0]['from_host'],
                          events[0]['to_host'], events[0]['reason']))

    def test_running_moves_are_in_progress(self):
        events = rules.build(_records(
            [_action(1, 'live-migration', 0),
             _action(2, 'migrate', 100, events=[{'finish_time': None}])],
            [_migration(10, 'live-migration', 1, 'running')]), NOW)
        # The first by its record; the second (no record) by its event.
        self.assertEqual(['in progress', 'in progress'],
                         [e['result'] for e in events])
        # A cold migration waiting for its confirmation has moved.
        events = rules.build(_records(
            [_action(2, 'migrate', 100, events=[{'finish_time': None}])],
            [_migration(11, 'migration', 101, 'finished')]), NOW)
        self.assertEqual(['done'], [e['result'] for e in events])

    def test_a_move_without_its_record_still_has_a_host(self):
        events = rules.build(_records(
            [_action(1, 'live-migration', 0,
                     events=[{'result': 'Error', 'details': 'refused'}])]),
            NOW)
        self.assertEqual(('failed', 'a', None, None, 'refused'), (
            events[0]['result'], events[0]['host'], events[0]['from_host'],
            events[0]['to_host'], events[0]['reason']))

    def test_the_drain_reason_comes_from_the_source_service(self):
        records = _records(
            [_action(1, 'live-migration', 0)],
            [_migration(10, 'live-migration', 1, 'completed')],
            services={'a': _service(disabled=True,
                                    reason='failure: data port down')})
        self.assertEqual('failure: data port down',
                         rules.build(records, NOW)[0]['reason'])
        records.services['a'] = _service()
        self.assertIsNone(rules.build(records, NOW)[0]['reason'])

    def test_a_failed_move_reads_the_fault_recorded_during_it(self):
        faults = [{'instance_uuid': UUID, 'message': 'too early',
                   'host': 'a', 'created_at': _at(-1)},
                  {'instance_uuid': UUID, 'message': 'the failure',
                   'host': 'a', 'created_at': _at(3)},
                  {'instance_uuid': UUID, 'message': 'later',
                   'host': 'a', 'created_at': _at(30)}]
        events = rules.build(_records(
            [_action(1, 'live-migration', 0),
             _action(2, instance_actions.ERROR_AFTER_ROLLBACK, 4),
             _action(3, 'reboot', 20)],
            [_migration(10, 'live-migration', 1, 'error')], faults), NOW)
        self.assertEqual(
            [('live-migration', 'failed', 'the failure'),
             (instance_actions.ERROR_AFTER_ROLLBACK, 'done', 'the failure'),
             ('reboot', 'done', None)],
            [(e['action'], e['result'], e['reason']) for e in events])


    def test_times_in_whole_seconds_as_mariadb_keeps_them(self):
        # The live migration, its fault and the driver's ERROR action in
        # the same second: the fault is the reason of both.
        faults = [{'instance_uuid': UUID, 'message': 'rolled back',
                   'host': 'a', 'created_at': _at(0)}]
        events = rules.build(_records(
            [_action(1, 'live-migration', 0),
             _action(2, instance_actions.ERROR_AFTER_ROLLBACK, 0)],
            [_migration(10, 'live-migration', 0, 'error')], faults), NOW)
        self.assertEqual(
            [('live-migration', 'failed', 'rolled back'),
             (instance_actions.ERROR_AFTER_ROLLBACK, 'done', 'rolled back')],
            [(e['action'], e['result'], e['reason']) for e in events])


class OtherActionTest(testtools.TestCase):

    def test_ha_restart_reason_is_libvirts_and_the_attempt(self):
        events = rules.build(_records([_action(1, instance_actions.HA_RESTART,
                                               0, events=[{
                                                   'event': 'ha_restart '
                                                   '(libvirt: stopped, '
                                                   'crashed; attempt 1 of '
                                                   '3)'}])]), NOW)
        self.assertEqual('libvirt: stopped, crashed; attempt 1 of 3',
                         events[0]['reason'])

    def test_host_of_an_api_only_action_follows_the_moves(self):
        events = rules.build(_records(
            [_action(1, 'resetState', 0, finish=_at(0)),
             _action(2, 'evacuate', 10),
             _action(3, 'resetState', 20, finish=_at(20))],
            [_migration(10, 'evacuation', 10, 'done')]), NOW)
        # The first: the instance's host now (no earlier move known);
        # the last: where the evacuation took it.
        self.assertEqual(['b', 'a', 'b'], [e['host'] for e in events])
        for event in events:
            event['events'] = None
        self.assertEqual([], [e for e in events
                              if set(e) != set(rules.FIELDS) | {'events'}])

    def test_times_are_iso_8601_utc_oldest_first(self):
        events = rules.build(_records([_action(2, 'stop', 5),
                                       _action(1, 'start', 1)]), NOW)
        self.assertEqual(['2026-12-01T10:00:01.000000Z',
                          '2026-12-01T10:00:05.000000Z'],
                         [e['time'] for e in events])


class HostEventTest(testtools.TestCase):

    def _report(self, id, request_id, at):
        return _action(id, instance_actions.HOST_DOWN_REPORTED, at, events=[{
            'event': 'wrs_lm_state_before_report',
            'details': 'Before the host was reported down: vm_state=active '
                       'power_state=1'}], finish=_at(at),
            request_id=request_id)

    def test_one_event_per_report_and_the_service_now(self):
        records = _records(
            [self._report(1, 'req-r', 0), self._report(2, 'req-r', 0)],
            services={'a': _service(disabled=True, reason='maintenance: x',
                                    forced_down=True)})
        events = rules.build(records, NOW, host='a')
        self.assertEqual(
            [(rules.REPORTED_DOWN, None, '2 instance(s) marked down'),
             (instance_actions.HOST_DOWN_REPORTED, UUID,
              'host a reported down; before: vm_state active, power state 1'),
             (instance_actions.HOST_DOWN_REPORTED, UUID,
              'host a reported down; before: vm_state active, power state 1'),
             (rules.SERVICE_FORCED_DOWN, None, 'host reported down'),
             (rules.SERVICE_DISABLED, None, 'maintenance: x')],
            [(e['action'], e['server_id'], e['reason']) for e in events])
        self.assertEqual(rules.isotime(NOW), events[-1]['time'])
        # Asked about a server only: no host events.
        self.assertEqual(2, len(rules.build(records, NOW)))

    def test_an_enabled_host_says_so(self):
        events = rules.build(_records([], services={'a': _service()}), NOW,
                             host='a')
        self.assertEqual([(rules.SERVICE_ENABLED, 'a')],
                         [(e['action'], e['host']) for e in events])
