"""Drain a host: move every instance off it (``nova-wrs-lm host drain``).

Seed 000's two cases, by ``purpose``:

* ``maintenance`` (a lock): the compute service is disabled with
  ``disabled_reason`` ``maintenance: TEXT``; at the first move that fails
  no new move is started, those in flight are waited for, the service is
  enabled again if the drain disabled it, and the drain fails.  No
  instance is put in ERROR (the driver keeps a rollback off a host
  disabled for maintenance ACTIVE).
* ``failure``: the service is disabled with ``failure: TEXT``; the drain
  never stops early.  An instance whose move failed and that is still on
  the host ends in ERROR with the reason in its fault: the driver does that
  for a rollback (``[wrs_lm] failure_disabled_reason_prefixes``), the
  drain itself (``os-resetState``) for a move that failed before the
  driver was involved (no valid host, a refused pre-check), so that the
  conductor's fault shows on the server.  The service stays disabled.

What each instance gets, by its state (:func:`plan`): ACTIVE and PAUSED a
live migration (no destination: the scheduler and the failover-segment
plugins choose; ``block_migration: auto``), SHUTOFF a cold migration and
its confirmation; anything else (ERROR, in a task, ...) is skipped with
the reason.  Re-running a drain continues it: instances gone are not
listed, those left in ERROR by an earlier failure drain are skipped.

No head-of-line blocking: Nova runs the live migrations of one source one
at a time (``[DEFAULT] max_concurrent_live_migrations``, default 1), so an
instance that cannot converge would hold up every other one until its
timeout.  The drain watches each running live migration's memory figures
(``GET /servers/{id}/migrations/{id}``, saved by the driver every
``[libvirt] live_migration_monitor_interval``): one whose remaining memory
has not reached a new low for ``stall_seconds`` while other instances wait
is aborted (``DELETE``, the guest keeps running on the source, ACTIVE) and
tried again once, at the end of the queue, with its whole policy (timeout,
downtime ramp, auto-converge).  Force-complete is never used: it pauses
the guest for as long as the copy takes, which the instance's maximum
downtime forbids.
"""

import dataclasses
import time

from nova_wrs_lm.cloud.connection import CloudError
from nova_wrs_lm.host_ops import moves
from nova_wrs_lm.host_ops import results

MAINTENANCE = 'maintenance'
FAILURE = 'failure'
PURPOSES = (MAINTENANCE, FAILURE)

LIVE, COLD, SKIP = 'live', 'cold', 'skip'
MOVED, FAILED, SKIPPED = 'moved', 'failed', 'skipped'

#: Default reason text after the ``maintenance:``/``failure:`` prefix.
DEFAULT_REASON = 'drained by nova-wrs-lm'


@dataclasses.dataclass
class Outcome:
    """One instance of the drain."""

    id: str
    name: str
    action: str
    result: str | None = None
    to: str | None = None
    seconds: float | None = None
    reason: str | None = None

    def as_dict(self):
        return {'id': self.id, 'name': self.name, 'action': self.action,
                'result': self.result, 'to': self.to,
                'seconds': results.rounded(self.seconds),
                'reason': self.reason}


@dataclasses.dataclass
class Report:
    host: str
    purpose: str
    #: ``{'id', 'status', 'disabled_reason', 'was'}``: the service as the
    #: drain left it, and its status before.
    service: dict
    instances: list
    dry_run: bool = False

    def count(self, result):
        return sum(1 for o in self.instances if o.result == result)

    @property
    def succeeded(self):
        """Every instance moved (a dry run: nothing would be skipped)."""
        if self.dry_run:
            return all(o.action != SKIP for o in self.instances)
        return all(o.result == MOVED for o in self.instances)

    def as_dict(self):
        return {'host': self.host, 'for': self.purpose,
                'service': dict(self.service), 'dry_run': self.dry_run,
                'instances': [o.as_dict() for o in self.instances],
                'moved': self.count(MOVED), 'failed': self.count(FAILED),
                'skipped': self.count(SKIPPED)}


def plan(servers):
    """``[(server, Outcome)]``: what the drain does with each server, in
    order (live and cold moves first, as listed; skipped ones last)."""
    planned, skipped = [], []
    for server in servers:
        outcome = Outcome(server['id'], server.get('name'), SKIP)
        task = server.get('OS-EXT-STS:task_state')
        status = server.get('status')
        if task:
            outcome.reason = 'in a task (%s)' % task
        elif status in moves.BY_STATUS:
            outcome.action = moves.BY_STATUS[status].kind
        elif status == 'ERROR':
            fault = (server.get('fault') or {}).get('message')
            outcome.reason = 'in ERROR' + (': %s' % fault if fault else '')
        else:
            outcome.reason = 'status %s cannot be moved' % status
        if outcome.action == SKIP:
            outcome.result = SKIPPED
            skipped.append((server, outcome))
        else:
            planned.append((server, outcome))
    return planned + skipped


class Drain:
    """One drain of ``host``.

    :param compute: a :class:`nova_wrs_lm.cloud.compute.Compute`
    :param progress: called with one line per instance state change
    :param stall_seconds: a running live migration whose remaining memory
        has not reached a new low for this long, while others wait, is
        aborted and retried at the end of the queue (0: never)
    """

    def __init__(self, compute, host, purpose, reason=None, concurrency=2,
                 progress=lambda line: None, clock=time.monotonic,
                 sleep=time.sleep, poll_interval=1.0, stall_seconds=60.0):
        if purpose not in PURPOSES:
            raise ValueError('purpose must be one of %s' % ', '.join(
                PURPOSES))
        if concurrency < 1:
            raise ValueError('concurrency must be at least 1')
        self.compute = compute
        self.host = host
        self.purpose = purpose
        self.reason = '%s: %s' % (purpose, reason or DEFAULT_REASON)
        self.concurrency = concurrency
        self._progress = progress
        self._clock = clock
        self._sleep = sleep
        self.poll_interval = poll_interval
        self.stall_seconds = stall_seconds
        self._start = None

    def _say(self, outcome, text):
        self._progress('[%7.1f s] %s (%s): %s' % (
            self._clock() - self._start, outcome.name, outcome.id, text))

    def run(self, dry_run=False):
        """Drain the host; returns the :class:`Report`.

        :raises CloudError: the host's service cannot be read or changed
        """
        self._start = self._clock()
        service = self.compute.compute_service(self.host)
        was = service['status']
        steps = plan(self.compute.servers_on(self.host))
        instances = [outcome for _, outcome in steps]
        if dry_run:
            return Report(self.host, self.purpose, _service(service, was),
                          instances, dry_run=True)
        service = self.compute.update_service(
            service['id'], status='disabled', disabled_reason=self.reason)
        queue = [(server, outcome) for server, outcome in steps
                 if outcome.action != SKIP]
        for _, outcome in steps:
            if outcome.action == SKIP:
                self._say(outcome, 'skipped: %s' % outcome.reason)
        self._move_all(queue)
        if (self.purpose == MAINTENANCE and was == 'enabled' and
                any(o.result == FAILED for o in instances)):
            service = self.compute.update_service(service['id'],
                                                  status='enabled')
        return Report(self.host, self.purpose, _service(service, was),
                      instances)

    def _move_all(self, queue):
        in_flight = []
        retried = set()
        stop = False
        while in_flight or (queue and not stop):
            while queue and not stop and len(in_flight) < self.concurrency:
                server, outcome = queue.pop(0)
                move = moves.BY_STATUS[server['status']](
                    self.compute, server, self._clock)
                move.start()
                self._say(outcome, '%s migration started' % move.kind)
                in_flight.append((move, outcome))
            self._sleep(self.poll_interval)
            for move, outcome in list(in_flight):
                done = self._poll(move, outcome, waiting=bool(queue) or
                                  len(in_flight) > 1, retried=retried)
                if done is None:
                    continue
                in_flight.remove((move, outcome))
                if done.aborted and outcome.id not in retried:
                    retried.add(outcome.id)
                    self._say(outcome, 'aborted (no progress for %d s while '
                                       'others wait); tried again at the '
                                       'end of the queue' %
                              self.stall_seconds)
                    queue.append((done.server or move.server, outcome))
                    continue
                self._finish(move, outcome, done)
                if outcome.result == FAILED and self.purpose == MAINTENANCE:
                    if queue:
                        self._say(outcome, 'maintenance drain stops: no new '
                                           'migration is started')
                    stop = True
        for _, outcome in queue:
            outcome.result = SKIPPED
            outcome.reason = 'not started: the maintenance drain stopped'

    def _poll(self, move, outcome, waiting, retried):
        try:
            done = move.poll()
            if (done is None and isinstance(move, moves.LiveMove) and
                    self.stall_seconds and waiting and
                    outcome.id not in retried and not move.aborted):
                stalled = move.progress()
                if stalled is not None and stalled >= self.stall_seconds:
                    move.abort()
            return done
        except CloudError as exc:
            # The API failed for this instance: reported, never left
            # waiting; other instances go on.
            return moves.Done(False, reason=str(exc))

    def _finish(self, move, outcome, done):
        outcome.seconds = move.elapsed()
        if done.moved:
            outcome.result, outcome.to = MOVED, done.to
            self._say(outcome, 'moved to %s in %.1f s' % (
                done.to, outcome.seconds))
            return
        outcome.result, outcome.reason = FAILED, done.reason
        self._say(outcome, 'failed: %s' % done.reason)
        if self.purpose != FAILURE:
            return
        server = done.server or {}
        if (server.get('OS-EXT-SRV-ATTR:host') == self.host and
                server.get('status') != 'ERROR'):
            # Failed before the driver was involved (no valid host, a
            # pre-check).
            moves.set_error(self.compute, outcome, self._say)


def _service(service, was):
    return {'id': service['id'], 'status': service['status'],
            'disabled_reason': service.get('disabled_reason'), 'was': was}
