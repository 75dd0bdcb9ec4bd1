"""Bring a host back (``nova-wrs-lm host enable``).

Enables the host's compute service (its ``disabled_reason`` cleared), then
recovers, by a hard reboot on the host (seed 000 §4: "Reboot (hard-reboot)
issued by the system"), the instances on it left in ERROR by a failed
move, identified by what Nova recorded, never by guessing:

* the driver's fault of a rollback off a failed host (``Live migration to
  ... rolled back to source host HOST``, :mod:`nova_wrs_lm.virt.rollback`);
* or, as a failure drain leaves an instance whose move failed before the
  driver was involved, a ``resetState`` instance action right after a
  ``live-migration`` or ``migrate`` action.

Every other ERROR instance is listed and left alone.
"""

import dataclasses
import time

from nova_wrs_lm.cloud.connection import CloudError
from nova_wrs_lm.host_ops import results

RECOVERED, FAILED, LEFT = 'recovered', 'failed', 'left'

_MOVES = ('live-migration', 'migrate')


@dataclasses.dataclass
class Outcome:
    id: str
    name: str
    result: str
    reason: str | None = None
    seconds: float | None = None

    def as_dict(self):
        return {'id': self.id, 'name': self.name, 'result': self.result,
                'reason': self.reason,
                'seconds': results.rounded(self.seconds)}


@dataclasses.dataclass
class Report:
    host: str
    service: dict
    instances: list

    def count(self, result):
        return sum(1 for o in self.instances if o.result == result)

    @property
    def succeeded(self):
        return not self.count(FAILED)

    def as_dict(self):
        return {'host': self.host, 'service': dict(self.service),
                'instances': [o.as_dict() for o in self.instances],
                'recovered': self.count(RECOVERED),
                'failed': self.count(FAILED), 'left': self.count(LEFT)}


def left_by_a_failed_move(compute, server, host):
    """Why ``server`` (in ERROR on ``host``) was left there by a failed
    move, or None."""
    fault = (server.get('fault') or {}).get('message') or ''
    if 'rolled back to source host %s' % host in fault:
        return 'live migration rolled back: %s' % fault
    actions = [a['action'] for a in compute.actions(server['id'])]
    if len(actions) >= 2 and actions[0] == 'resetState' and \
            actions[1] in _MOVES:
        return 'set to ERROR after a failed %s' % actions[1] + (
            ': %s' % fault if fault else '')
    return None


class Enable:
    """Enable ``host`` and recover its instances (see the module
    docstring)."""

    def __init__(self, compute, host, progress=lambda line: None,
                 clock=time.monotonic, sleep=time.sleep, poll_interval=1.0,
                 wait_limit=600.0):
        self.compute = compute
        self.host = host
        self._progress = progress
        self._clock = clock
        self._sleep = sleep
        self.poll_interval = poll_interval
        self.wait_limit = wait_limit

    def run(self):
        start = self._clock()
        service = self.compute.compute_service(self.host)
        was = service['status']
        service = self.compute.update_service(service['id'],
                                              status='enabled')
        outcomes, rebooting = [], []
        for server in self.compute.servers_on(self.host):
            if server.get('status') != 'ERROR':
                continue
            outcome = Outcome(server['id'], server.get('name'), LEFT)
            outcomes.append(outcome)
            why = left_by_a_failed_move(self.compute, server, self.host)
            if why is None:
                fault = (server.get('fault') or {}).get('message')
                outcome.reason = ('ERROR not left by a failed move' +
                                  (' (fault: %s)' % fault if fault else ''))
                continue
            outcome.reason = why
            try:
                self.compute.action(server['id'], {'reboot': {
                    'type': 'HARD'}})
            except CloudError as exc:
                outcome.result, outcome.reason = FAILED, str(exc)
                continue
            self._progress('%s (%s): hard reboot issued (%s)' % (
                outcome.name, outcome.id, why))
            rebooting.append(outcome)
        self._wait(rebooting, start)
        return Report(self.host, {'id': service['id'],
                                  'status': service['status'],
                                  'disabled_reason': service.get(
                                      'disabled_reason'), 'was': was},
                      outcomes)

    def _wait(self, rebooting, start):
        while rebooting and self._clock() - start < self.wait_limit:
            self._sleep(self.poll_interval)
            for outcome in list(rebooting):
                try:
                    server = self.compute.server(outcome.id)
                except CloudError as exc:
                    outcome.result, outcome.reason = FAILED, str(exc)
                    rebooting.remove(outcome)
                    continue
                if server.get('OS-EXT-STS:task_state'):
                    continue
                outcome.seconds = self._clock() - start
                if server.get('status') == 'ACTIVE':
                    outcome.result = RECOVERED
                    self._progress('%s (%s): ACTIVE again' % (
                        outcome.name, outcome.id))
                else:
                    outcome.result = FAILED
                    outcome.reason = 'still %s after the hard reboot' % (
                        server.get('status'))
                rebooting.remove(outcome)
        for outcome in rebooting:
            outcome.result = FAILED
            outcome.reason = 'not ACTIVE within %d s' % self.wait_limit
