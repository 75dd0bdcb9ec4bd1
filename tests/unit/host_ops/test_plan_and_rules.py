"""Edge cases of the host commands that need no cloud: the drain's plan
by server state, what ``host enable`` recovers, the CLI's usage errors."""

import argparse
import io

import testtools

from nova_wrs_lm.cloud.connection import CloudError
from nova_wrs_lm.cmd import host as host_cmd
from nova_wrs_lm.host_ops import drain
from nova_wrs_lm.host_ops import enable


def _server(name, status, task=None, fault=None):
    server = {'id': 'id-' + name, 'name': name, 'status': status,
              'OS-EXT-STS:task_state': task,
              'OS-EXT-SRV-ATTR:host': 'h1'}
    if fault:
        server['fault'] = {'message': fault}
    return server


class PlanTest(testtools.TestCase):

    def test_every_state(self):
        steps = drain.plan([
            _server('err', 'ERROR', fault='boom'),
            _server('act', 'ACTIVE'),
            _server('busy', 'ACTIVE', task='migrating'),
            _server('off', 'SHUTOFF'),
            _server('paused', 'PAUSED'),
            _server('shelved', 'SHELVED'),
            _server('resized', 'VERIFY_RESIZE'),
        ])
        self.assertEqual(
            [('act', 'live', None), ('off', 'cold', None),
             ('paused', 'live', None),
             ('err', 'skip', 'in ERROR: boom'),
             ('busy', 'skip', 'in a task (migrating)'),
             ('shelved', 'skip', 'status SHELVED cannot be moved'),
             ('resized', 'skip', 'status VERIFY_RESIZE cannot be moved')],
            [(o.name, o.action, o.reason) for _, o in steps])
        self.assertEqual({'skipped'}, {o.result for _, o in steps
                                       if o.action == 'skip'})

    def test_bad_arguments(self):
        self.assertRaises(ValueError, drain.Drain, None, 'h', 'lock')
        self.assertRaises(ValueError, drain.Drain, None, 'h', 'failure',
                          concurrency=0)


class _Actions:

    def __init__(self, actions):
        self._actions = actions

    def actions(self, server_id):
        return [{'action': a} for a in self._actions]


class EnableRuleTest(testtools.TestCase):

    def test_driver_rollback_fault(self):
        server = _server('a', 'ERROR', fault=(
            'Live migration to h2 rolled back to source host h1, whose '
            'compute service is forced down: ...'))
        self.assertIn('rolled back', enable.left_by_a_failed_move(
            _Actions([]), server, 'h1'))
        # The fault of a rollback off another host does not count.
        self.assertIsNone(enable.left_by_a_failed_move(
            _Actions([]), server, 'h9'))

    def test_reset_state_right_after_a_failed_move(self):
        server = _server('a', 'ERROR', fault='No valid host was found.')
        for actions, expected in (
                (['resetState', 'live-migration', 'create'], True),
                (['resetState', 'migrate', 'create'], True),
                (['resetState', 'create'], False),
                (['reboot', 'resetState', 'live-migration'], False),
                (['live-migration', 'create'], False)):
            found = enable.left_by_a_failed_move(_Actions(actions), server,
                                                 'h1')
            self.assertEqual(expected, found is not None, actions)


class CliTest(testtools.TestCase):

    def _parse(self, *argv):
        parser = host_cmd.add_parser(
            argparse.ArgumentParser().add_subparsers())
        return parser.parse_args(list(argv))

    def test_concurrency_must_be_positive(self):
        err = io.StringIO()
        self.patch(argparse.ArgumentParser, '_print_message',
                   lambda self, message, file=None: err.write(message))
        for value in ('0', '-1', 'two'):
            self.assertRaises(SystemExit, self._parse, 'drain', 'h', '--for',
                              'failure', '--concurrency', value)
        self.assertIn('--concurrency must be a whole number of at least 1',
                      err.getvalue())

    def test_cloud_errors_exit_2_with_the_reason(self):
        class Unreachable:
            def __getattr__(self, name):
                raise CloudError('no cloud to read from: x')

        class Conn:
            compute = Unreachable()

        args = self._parse('drain', 'h', '--for', 'failure')
        err = io.StringIO()
        self.assertEqual(2, host_cmd.run_drain(args, io.StringIO(), err,
                                               conn=Conn()))
        self.assertIn('nova-wrs-lm host drain: error: ', err.getvalue())
