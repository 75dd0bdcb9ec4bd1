"""``nova-wrs-lm history`` against Nova's in-process cloud, through
openstacksdk as an operator runs it, with the api-paste.ini that has the
wrs_lm filter (``GET /os-wrs-lm-history``): after a failure drain with one
rollback (our driver on Nova's fake libvirt), and after a host-down report
and a recovery inside a failover segment (seed 003's event history)."""

import argparse
import io
import json

from nova_wrs_lm import history_events
from nova_wrs_lm import instance_actions
from nova_wrs_lm.cmd import history as history_cmd
from nova_wrs_lm.harness import settings
from nova_wrs_lm.scheduler import segments
from tests.functional import test_host_drain
from tests.functional import test_host_recover

MOVES = tuple(history_events.MOVES)


def _history(test, *argv, table=False):
    """``nova-wrs-lm history ARGV``: (status, JSON or text, stderr)."""
    parser = history_cmd.add_parser(
        argparse.ArgumentParser().add_subparsers())
    args = parser.parse_args(list(argv) +
                             ([] if table else ['--format', 'json']))
    out, err = io.StringIO(), io.StringIO()
    with test.conn.real_endpoints() as conn:
        status = args.run(args, out, err, conn=conn)
    text = out.getvalue()
    if table or not text:
        return status, text, err.getvalue()
    return status, json.loads(text), err.getvalue()


def _events(test, *argv):
    status, doc, err = _history(test, *argv)
    test.assertEqual(0, status, err)
    test.assertEqual(['events'], list(doc))
    for event in doc['events']:
        test.assertEqual(set(history_events.FIELDS), set(event), event)
        test.assertIn(event['result'], history_events.RESULTS, event)
    times = [e['time'] for e in doc['events']]
    test.assertEqual(sorted(times), times)
    return doc['events']


def _of(events, action, name=None):
    return [e for e in events if e['action'] == action and
            (name is None or e['server_name'] == name)]


class DrainHistoryTest(test_host_drain.FailureDrainSetUp):
    API_PASTE = settings.WRS_LM_API_PASTE

    def test_history_of_a_failure_drain_with_a_rollback(self):
        status, _, err = self._drain('failure')
        self.assertEqual(1, status, err)
        events = _events(self, '--host', 'src')

        # Every move listed once, with its result, hosts and reason.
        moves = [(e['server_name'], e['action'], e['from_host'],
                  e['to_host'], e['result']) for e in events
                 if e['action'] in MOVES]
        self.assertEqual(sorted([
            ('m1', 'live-migration', 'src', 'dest', 'done'),
            ('m2', 'live-migration', 'src', 'dest', 'done'),
            ('m3', 'live-migration', 'src', 'dest', 'done'),
            ('st', 'migrate', 'src', 'dest', 'done'),
            ('rb', 'live-migration', 'src', 'dest', 'failed'),
            ('aa', 'live-migration', 'src', None, 'failed')]),
            sorted(moves))
        for name in ('m1', 'm2', 'm3', 'st'):
            (move,) = [e for e in events if e['server_name'] == name and
                       e['action'] in MOVES]
            self.assertEqual(('src', 'failure: data port down'),
                             (move['host'], move['reason']), move)
        (rolled,) = _of(events, 'live-migration', 'rb')
        self.assertIn('rolled back to source host src', rolled['reason'])
        self.assertIn("disabled ('failure: data port down')",
                      rolled['reason'])
        # The driver's ERROR, recorded as an instance action of its own.
        (errored,) = _of(events, instance_actions.ERROR_AFTER_ROLLBACK)
        self.assertEqual(('rb', 'src', 'done'), (
            errored['server_name'], errored['host'], errored['result']))
        self.assertEqual(rolled['reason'], errored['reason'])
        self.assertGreater(errored['time'], rolled['time'])
        (unschedulable,) = _of(events, 'live-migration', 'aa')
        self.assertIn('No valid host was found', unschedulable['reason'])
        # The drain's os-resetState of aa, after its failed move.
        (reset,) = _of(events, 'resetState', 'aa')
        self.assertEqual(('src', 'done'), (reset['host'], reset['result']))
        self.assertGreater(reset['time'], unschedulable['time'])
        self.assertEqual(
            ['confirmResize'], [e['action'] for e in events if
                                e['server_name'] == 'st' and
                                e['time'] > _of(events, 'migrate')[0][
                                    'time']])
        # The host: its service's state now, last.
        self.assertEqual(
            {'host': 'src', 'server_id': None,
             'action': history_events.SERVICE_DISABLED, 'result': 'done',
             'reason': 'failure: data port down'},
            {k: events[-1][k] for k in ('host', 'server_id', 'action',
                                        'result', 'reason')})
        # Also in Nova's own record (openstack server event list).
        self.assertIn(instance_actions.ERROR_AFTER_ROLLBACK, [
            a['action'] for a in self.api.get_instance_actions(
                self.rolls_back['id'])])

        # --since: from the first move on; the creations are before it.
        first = min(e['time'] for e in events if e['action'] in MOVES)
        since = _events(self, '--host', 'src', '--since', first)
        self.assertEqual([e for e in events if e['time'] >= first][:-1],
                         since[:-1])
        self.assertEqual([], _of(since, 'create'))
        self.assertEqual(6, len([e for e in since if e['action'] in MOVES]))
        self.assertTrue(_of(events, 'create'))

        # --server, by name: that server's events only.
        rb = _events(self, '--server', 'rb')
        self.assertEqual({self.rolls_back['id']},
                         {e['server_id'] for e in rb})
        self.assertEqual(
            ['create', 'live-migration',
             instance_actions.ERROR_AFTER_ROLLBACK],
            [e['action'] for e in rb])
        self.assertEqual(rb, [e for e in events
                              if e['server_id'] == self.rolls_back['id']])

        # The lines read like seed 000's system logs.
        status, text, err = _history(self, '--host', 'src', '--since', first,
                                     table=True)
        self.assertEqual(0, status, err)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith('History of host src since '))
        m1 = [line for line in lines if 'instance m1 ' in line]
        self.assertEqual(1, len(m1), text)
        self.assertRegex(
            m1[0], r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  Live-Migrate issued '
                   r'by \S+ against instance m1 \(%s\) owned by \S+ from '
                   r'host src to host dest: done, reason = failure: data '
                   r'port down$' % self.movable[0]['id'])
        self.assertTrue(lines[-1].endswith(
            'Host src: service disabled: done, reason = failure: data port '
            'down'), lines[-1])

    def test_bad_input_is_refused_clearly(self):
        status, out, err = _history(self, '--host', 'nowhere')
        self.assertEqual((1, ''), (status, out))
        self.assertIn('Compute host nowhere could not be found.', err)
        status, out, err = _history(self, '--host', 'src', '--since',
                                    'yesterday')
        self.assertEqual((2, ''), (status, out))
        self.assertIn("--since 'yesterday': give a time in ISO 8601", err)
        status, out, err = _history(self, '--server', 'no-such-server')
        self.assertEqual((1, ''), (status, out))
        self.assertIn("no server named 'no-such-server'", err)
        status, out, err = _history(self)
        self.assertEqual((2, ''), (status, out))
        self.assertIn('give --host HOST or --server ID|NAME', err)
        # The API itself: a 400 naming the rule, never a 500.
        for query, text in (
                ('', 'Give host'), ('?host=src&since=later', 'Invalid since'),
                ('?server=rb', 'it must be a server id'),
                ('?host=src&limit=3', 'Invalid query parameter limit')):
            response = self.api.api_get('/os-wrs-lm-history' + query,
                                        check_response_status=[400])
            self.assertIn(text, response.body['badRequest']['message'])
        # A member without the policy: 403, whatever the query.
        member = self.api_fixture.api
        member.microversion = 'latest'
        response = member.api_get('/os-wrs-lm-history?host=src',
                                  check_response_status=[403])
        self.assertEqual(
            "Policy doesn't allow wrs_lm:history to be performed.",
            response.body['forbidden']['message'])


class RecoveryHistoryTest(test_host_recover._RecoverTest):

    def test_history_of_a_report_and_a_recovery(self):
        self._recovery_method(segments.RESERVED_HOST)
        active = self._boot('active', self.quarter)
        stopped = self._stop_server(self._boot('stopped', self.quarter))
        self._boot('elsewhere', self.half, 's1-b')
        self._host_fails()
        status, doc, _, err = self._recover()
        self.assertEqual((0, 2), (status, doc['recovered']), err)

        events = _events(self, '--host', test_host_recover.FAILED)
        self.assertEqual([], _of(events, 'create', 'elsewhere'))
        # The report: once for the host, once per instance it changed.
        (report,) = _of(events, history_events.REPORTED_DOWN)
        self.assertEqual(('s1-a', None, 'done', '1 instance(s) marked down'),
                         (report['host'], report['server_id'],
                          report['result'], report['reason']))
        (marked,) = _of(events, instance_actions.HOST_DOWN_REPORTED)
        self.assertEqual(
            ('active', 's1-a', 'done', 'host s1-a reported down; before: '
             'vm_state active, power state 1', report['request_id']),
            (marked['server_name'], marked['host'], marked['result'],
             marked['reason'], marked['request_id']))
        # Each evacuation once, to the reserved host, for the report.
        evacuations = _of(events, 'evacuate')
        self.assertEqual(
            [('active', 's1-a', 's1-r', 'done', 'host s1-a reported down'),
             ('stopped', 's1-a', 's1-r', 'done', 'host s1-a forced down')],
            sorted((e['server_name'], e['from_host'], e['to_host'],
                    e['result'], e['reason']) for e in evacuations))
        for evacuation in evacuations:
            self.assertGreater(evacuation['time'], report['time'])
        # The host: forced down, in maintenance, as recover left it.
        forced, disabled = events[-2:]
        self.assertEqual(
            (history_events.SERVICE_FORCED_DOWN, 'host reported down'),
            (forced['action'], forced['reason']))
        self.assertEqual(history_events.SERVICE_DISABLED, disabled['action'])
        self.assertTrue(disabled['reason'].startswith(
            'maintenance: recovered by nova-wrs-lm at '), disabled)

        # The reserved host's history has the evacuations too (to it).
        found = _events(self, '--host', 's1-r')
        self.assertEqual(
            sorted(e['request_id'] for e in evacuations),
            sorted(e['request_id'] for e in _of(found, 'evacuate')))
        self.assertEqual(history_events.SERVICE_ENABLED,
                         found[-1]['action'])
        # One server, by id.
        mine = _events(self, '--server', stopped['id'])
        self.assertEqual(['create', 'stop', 'evacuate'],
                         [e['action'] for e in mine])
        self.assertNotIn(active['id'], {e['server_id'] for e in mine})
