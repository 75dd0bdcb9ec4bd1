"""``host recover``'s rules that need no cloud: the kept state's format,
the state each instance ends in, the refusals, the plan per server, the
CLI's usage errors.  The recovery itself runs against Nova's in-process
cloud (``tests/functional/test_host_recover.py``)."""

import argparse
import datetime
import io

import testtools

from nova_wrs_lm import recovery_state
from nova_wrs_lm.cmd import host as host_cmd
from nova_wrs_lm.host_ops import recover


class _Compute:
    """Answers the reads ``Recover`` makes while planning; records
    nothing else (a plan changes nothing)."""

    def __init__(self, service, servers=(), actions=None, events=None):
        self.service = service
        self.servers = list(servers)
        self._actions = actions or {}
        self._events = events or {}
        self.changes = []

    def compute_service(self, host):
        return self.service

    def servers_on(self, host):
        return self.servers

    def actions(self, server_id):
        return self._actions.get(server_id, [])

    def action_events(self, server_id, request_id):
        return self._events.get(request_id, [])

    def evacuations_from(self, host):
        return []

    def update_service(self, *args, **kwargs):
        self.changes.append(('service', kwargs))
        raise AssertionError('a plan changes nothing')


def _service(state='down', status='enabled', reason=None):
    return {'id': 'svc', 'state': state, 'status': status,
            'disabled_reason': reason}


def _server(name, vm_state, task=None, metadata=None):
    return {'id': name, 'name': name, 'OS-EXT-STS:vm_state': vm_state,
            'OS-EXT-STS:task_state': task, 'metadata': metadata or {},
            'OS-EXT-SRV-ATTR:host': 'h1'}


def _reported(name, vm_state, power_state, *later):
    actions = [{'action': a, 'request_id': '%s-%s' % (name, a)}
               for a in later]
    actions.append({'action': recovery_state.ACTION,
                    'request_id': name + '-report'})
    events = {name + '-report': [
        {'event': recovery_state.EVENT,
         'details': recovery_state.details(vm_state, power_state)}]}
    return actions, events


class KeptStateTest(testtools.TestCase):

    def test_round_trip(self):
        text = recovery_state.details('active', 1)
        self.assertEqual('Before the host was reported down: '
                         'vm_state=active power_state=1', text)
        self.assertEqual(('active', 1), recovery_state.parse(text))
        self.assertEqual(('stopped', 4), recovery_state.parse(
            recovery_state.details('stopped', 4)))
        self.assertIsNone(recovery_state.parse('something else'))
        self.assertIsNone(recovery_state.parse(None))

    def test_targets(self):
        self.assertEqual(('ACTIVE', None), recover.target_status('active'))
        self.assertEqual(('SHUTOFF', None), recover.target_status('stopped'))
        self.assertEqual(('ERROR', None), recover.target_status('error'))
        status, why = recover.target_status('paused')
        self.assertEqual('SHUTOFF', status)
        self.assertIn('died with the host', why)

    def test_recovered_since(self):
        self.assertEqual(
            datetime.datetime(2024, 5, 1, 12, 0, 3),
            recover.recovered_since(_service(
                status='disabled',
                reason=recover.REASON_PREFIX + '2024-05-01T12:00:03Z')))
        self.assertIsNone(recover.recovered_since(_service(
            status='disabled', reason='maintenance: BIOS')))
        self.assertIsNone(recover.recovered_since(_service(
            status='enabled',
            reason=recover.REASON_PREFIX + '2024-05-01T12:00:03Z')))


class CheckTest(testtools.TestCase):

    def _run(self, service, **kwargs):
        return recover.Recover(_Compute(service), 'h1', **kwargs).run(
            dry_run=True)

    def test_up_host_refused_even_forced(self):
        for force in (False, True):
            exc = self.assertRaises(recover.Refused, self._run,
                                    _service(state='up'), force=force)
            self.assertIn('the nova-compute service of host h1 is up: '
                          'refusing', str(exc))

    def test_maintenance_refused_unless_forced(self):
        service = _service(status='disabled', reason='Maintenance: BIOS')
        exc = self.assertRaises(recover.Refused, self._run, service)
        self.assertIn('host h1 is in maintenance', str(exc))
        self.assertTrue(self._run(service, force=True).dry_run)

    def test_own_reason_and_other_reasons_go_on(self):
        for reason in (recover.REASON_PREFIX + '2024-05-01T12:00:03Z',
                       'failure: data port down', None):
            report = self._run(_service(status='disabled', reason=reason))
            self.assertEqual([], report.instances)


class PlanTest(testtools.TestCase):

    def test_every_case(self):
        actions, events = {}, {}
        for name, args in (('reported', ('active', 1)),
                           ('retried', ('active', 1, 'resetState',
                                        'evacuate')),
                           ('was-paused', ('paused', 3))):
            actions[name], events_of = _reported(name, *args)
            events.update(events_of)
        actions['started-since'] = _reported('started-since', 'active', 1,
                                             'start')[0]
        servers = [
            _server('reported', 'stopped'),
            _server('retried', 'error'),
            _server('was-paused', 'stopped'),
            _server('stopped', 'stopped'),
            _server('error', 'error'),
            _server('started-since', 'stopped'),
            _server('busy', 'stopped', task='rebuilding'),
            _server('resized', 'resized'),
        ]
        compute = _Compute(_service(), servers, actions, events)
        report = recover.Recover(compute, 'h1').run(dry_run=True)
        self.assertEqual(
            [('reported', 'active', None, None),
             ('retried', 'active', None, None),
             ('was-paused', 'paused', None,
              'was paused: its guest state died with the host, left '
              'stopped for its owner to start'),
             ('stopped', 'stopped', None, None),
             ('error', 'error', None, None),
             # An action after the report: its state now stands.
             ('started-since', 'stopped', None, None),
             ('busy', 'stopped', 'skipped', 'in a task (rebuilding)'),
             ('resized', 'resized', 'skipped',
              'vm_state resized cannot be evacuated')],
            [(o.name, o.from_state, o.result, o.reason)
             for o in report.instances])
        self.assertFalse(report.succeeded)  # two would be skipped
        self.assertEqual([], compute.changes)

    def test_only_ha_enabled(self):
        servers = [_server('tagged', 'active', metadata={'HA_Enabled':
                                                          'True'}),
                   _server('plain', 'active'),
                   _server('off', 'active', metadata={'HA_Enabled':
                                                       'False'})]
        report = recover.Recover(_Compute(_service(), servers), 'h1',
                                 only_ha_enabled=True).run(dry_run=True)
        self.assertEqual({'tagged': None, 'plain': 'skipped',
                          'off': 'skipped'},
                         {o.name: o.result for o in report.instances})
        # Skipped by the rule asked for: not a failure.
        self.assertTrue(report.succeeded)


class UsageTest(testtools.TestCase):

    def _parse(self, *argv):
        parser = argparse.ArgumentParser()
        host_cmd.add_parser(parser.add_subparsers())
        return parser.parse_args(['host'] + list(argv))

    def test_bad_concurrency(self):
        err = io.StringIO()
        self.patch(__import__('sys'), 'stderr', err)
        self.assertRaises(SystemExit, self._parse, 'recover', 'h1',
                          '--concurrency', '0')
        self.assertIn("--concurrency must be a whole number of at least 1, "
                      "got '0'", err.getvalue())

    def test_defaults(self):
        args = self._parse('recover', 'h1')
        self.assertEqual((4, False, False), (args.concurrency, args.force,
                                             args.dry_run))
        self.assertFalse(self._parse('report-down', 'h1').clear)
        self.assertTrue(self._parse('report-down', 'h1', '--clear').clear)

    def test_missing_config_file(self):
        args = self._parse('recover', 'h1', '--config-file',
                           '/nonexistent/nova.conf')
        out, err = io.StringIO(), io.StringIO()
        self.assertEqual(2, args.run(args, out, err, conn=object()))
        self.assertIn('nova-wrs-lm host recover: error: cannot read the '
                      'configuration:', err.getvalue())
