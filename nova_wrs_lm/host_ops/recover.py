"""Recover a failed host: evacuate its instances inside its failover
segment (``nova-wrs-lm host recover``, seeds 002, 003 and 004).

Refused (:class:`Refused`, nothing changed) unless the host's
``nova-compute`` service is down (reported down with ``host_down_reported``
or timed out): an instance is evacuated only when its host cannot run it
any more, so that it never runs twice (seed 003: the host is fenced
first).  Refused too for a host whose service is disabled with a
``maintenance:`` reason (HA is off during maintenance, seed 003) unless
``force``; the reason this module sets itself
(:data:`REASON_PREFIX`) is no maintenance of an operator's, so that a
re-run goes on.

A run:

1. reads the service, every server on the host and, for each, the state
   it had before the host failed: the ``vm_state`` the host-down report
   kept (:mod:`nova_wrs_lm.recovery_state`), else its state now;
2. disables the service with ``maintenance: recovered by nova-wrs-lm at
   <time>`` (seed 004's ``on_maintenance``: not used again until an
   operator enables it); a re-run keeps the reason and its time;
3. evacuates each instance, ``concurrency`` at a time, with no target host
   (the scheduler's ``FailoverSegmentFilter`` and ``FailoverSegmentWeigher``
   choose inside the host's segment by its recovery method), or only those
   whose metadata ``HA_Enabled`` is true (``only_ha_enabled``, ``[wrs_lm]
   recover_only_ha_enabled``, Masakari's tag);
4. restores each evacuated instance's state from before the failure
   (:data:`TARGETS`): ACTIVE (one the report recorded stopped is set back
   to active just before its evacuation, so that Nova spawns it running;
   started if Nova still left it stopped), STOPPED left stopped, ERROR set
   back to ERROR (Masakari's rule);
5. releases each reserved host that took an instance: it leaves every
   aggregate carrying ``failover_segment_reserved=true`` (Masakari's
   ``reserved=False``), first joining an aggregate of the same segment
   where that aggregate also made it a member of a segment, so that it
   stays in the segment and takes ordinary load from then on.

A failed evacuation leaves the instance in ERROR with its fault (Nova's
conductor sets it for no valid host; ``os-resetState`` otherwise) and the
run goes on.  Re-running continues: the instances still on the host are
evacuated (those a failed evacuation left in ERROR again, with the state
kept from before the failure), those a stopped run evacuated but did not
restore yet are restored (their newest instance action is the
``evacuate``), the reserved hosts they landed on are released; when there
is nothing left, the run changes nothing and says so
(:attr:`Report.nothing_to_do`).
"""

import dataclasses
import datetime
import time

from oslo_utils import strutils

from nova_wrs_lm import recovery_state
from nova_wrs_lm.cloud.connection import CloudError
from nova_wrs_lm.host_ops import moves
from nova_wrs_lm.host_ops import results
from nova_wrs_lm.scheduler import segments

RECOVERED, FAILED, SKIPPED = 'recovered', 'failed', 'skipped'

#: The service's disabled_reason a recovery sets, then the time (UTC).
REASON_PREFIX = 'maintenance: recovered by nova-wrs-lm at '
_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
#: The instance metadata key of Masakari's HA tag.
HA_KEY = 'HA_Enabled'

#: vm_state before the failure -> (server status to end in, how).
TARGETS = {
    'active': 'ACTIVE',
    'stopped': 'SHUTOFF',
    'error': 'ERROR',
}
#: vm_states whose guest state (memory) died with the host: the instance
#: ends stopped, for its owner to start.
_LOST_STATE = ('paused', 'suspended', 'rescued')
#: vm_states Nova 34's evacuate accepts (``compute.api.API.evacuate``).
EVACUABLE = ('active', 'stopped', 'error')
#: Statuses of an evacuation record that end it.
EVACUATION_DONE = ('done', 'completed')
EVACUATION_FINAL = EVACUATION_DONE + ('failed', 'error')
#: Instance actions an earlier failed attempt leaves above the report's.
_ATTEMPT_ACTIONS = ('evacuate', 'resetState')


class Refused(Exception):
    """The host may not be recovered; ``str()`` says why and what to do."""


@dataclasses.dataclass
class Outcome:
    """One instance of the recovery."""

    id: str
    name: str
    from_state: str | None
    result: str | None = None
    to: str | None = None
    seconds: float | None = None
    reason: str | None = None
    #: Skipped by the HA rule, as asked: not a failure of the run.
    by_rule: bool = False

    def as_dict(self):
        return {'id': self.id, 'name': self.name,
                'from_state': self.from_state, 'result': self.result,
                'to': self.to, 'seconds': results.rounded(self.seconds),
                'reason': self.reason}


@dataclasses.dataclass
class Report:
    host: str
    #: ``{'id', 'status', 'state', 'disabled_reason', 'was'}``.
    service: dict
    instances: list
    #: ``{'host', 'removed_from', 'added_to'}`` per reserved host released.
    released: list = dataclasses.field(default_factory=list)
    dry_run: bool = False
    #: Set when the run had nothing to do (what it found, for the user).
    nothing_to_do: str | None = None

    def count(self, result):
        return sum(1 for o in self.instances if o.result == result)

    @property
    def succeeded(self):
        """No instance failed or was skipped but by the HA rule."""
        return all(o.result in (RECOVERED, None) or o.by_rule
                   for o in self.instances)

    def as_dict(self):
        return {'host': self.host, 'service': dict(self.service),
                'dry_run': self.dry_run,
                'instances': [o.as_dict() for o in self.instances],
                'reserved_hosts_released': list(self.released),
                'nothing_to_do': self.nothing_to_do,
                'recovered': self.count(RECOVERED),
                'failed': self.count(FAILED),
                'skipped': self.count(SKIPPED)}


def target_status(from_state):
    """The server status an instance that had ``from_state`` before the
    failure ends in, and why (None when it is the plain rule)."""
    if from_state in TARGETS:
        return TARGETS[from_state], None
    if from_state in _LOST_STATE:
        return 'SHUTOFF', ('was %s: its guest state died with the host, '
                           'left stopped for its owner to start'
                           % from_state)
    return 'SHUTOFF', 'was %s: left stopped' % from_state


def ha_enabled(server):
    value = (server.get('metadata') or {}).get(HA_KEY)
    return strutils.bool_from_string(value, default=False)


def kept_state(compute, server_id, actions=None, skip=_ATTEMPT_ACTIONS):
    """The ``vm_state`` the host-down report kept for the server, or None:
    read from its newest ``host_down_reported`` action when only actions
    in ``skip`` (an earlier failed attempt) came after it.  Returns
    ``(vm_state or None, attempts)``: how many actions were skipped."""
    actions = compute.actions(server_id) if actions is None else actions
    attempts = 0
    for action in actions:
        if action['action'] == recovery_state.ACTION:
            for event in compute.action_events(server_id,
                                               action['request_id']):
                if event.get('event') == recovery_state.EVENT:
                    kept = recovery_state.parse(event.get('details'))
                    if kept is not None:
                        return kept[0], attempts
            return None, attempts
        if action['action'] not in skip:
            return None, attempts
        attempts += 1
    return None, attempts


def recovered_since(service):
    """The time in the service's disabled_reason when a recovery set it
    (UTC, naive), else None."""
    reason = (service.get('disabled_reason') or '').strip()
    if service.get('status') != 'disabled' or \
            not reason.startswith(REASON_PREFIX):
        return None
    try:
        return datetime.datetime.strptime(reason[len(REASON_PREFIX):],
                                          _TIME_FORMAT)
    except ValueError:
        return None


def _parse_time(text):
    return datetime.datetime.fromisoformat(
        text.replace('Z', '')[:26]).replace(tzinfo=None)


def _is_operator_maintenance(service):
    reason = (service.get('disabled_reason') or '').strip()
    return (service.get('status') == 'disabled' and
            reason.lower().startswith('maintenance:') and
            not reason.startswith(REASON_PREFIX))


class _Restore:
    """Brings an evacuated server to its target status and waits for it."""

    def __init__(self, compute, server, target):
        self.compute = compute
        self.server_id = server['id']
        self.target = target
        self.issued = None

    def start(self, server):
        """Issues what the server needs; a Done when nothing is to wait
        for, else None."""
        status = server.get('status')
        if status == self.target:
            return moves.Done(True, to=server.get('OS-EXT-SRV-ATTR:host'),
                              server=server)
        if self.target == 'ERROR':
            body, self.issued = {'os-resetState': {'state': 'error'}}, \
                'set back to ERROR'
        elif self.target == 'ACTIVE' and status == 'SHUTOFF':
            body, self.issued = {'os-start': None}, 'started'
        elif self.target == 'SHUTOFF' and status == 'ACTIVE':
            body, self.issued = {'os-stop': None}, 'stopped'
        else:
            return moves.Done(False, reason='evacuated, but %s where %s was '
                              'expected' % (status, self.target),
                              server=server)
        try:
            self.compute.action(self.server_id, body)
        except CloudError as exc:
            return moves.Done(False, reason='evacuated, but could not be '
                              '%s: %s' % (self.issued, exc), server=server)
        return None

    def poll(self):
        server = self.compute.server(self.server_id)
        if server.get('OS-EXT-STS:task_state'):
            return None
        status = server.get('status')
        host = server.get('OS-EXT-SRV-ATTR:host')
        if status == self.target:
            return moves.Done(True, to=host, server=server)
        if status == 'ERROR':
            fault = (server.get('fault') or {}).get('message')
            return moves.Done(False, reason='evacuated, then ERROR when %s'
                              % self.issued + (': %s' % fault if fault
                                               else ''), server=server)
        return None


class _Evacuation(moves.Move):
    """``evacuate`` with no host, then the :class:`_Restore`."""

    kind = 'evacuate'
    types = ('evacuation',)
    actions = ('evacuate',)

    def __init__(self, compute, server, clock, target):
        super().__init__(compute, server, clock)
        self.target = target
        self.restore = None

    def _request(self):
        if self.target == 'ACTIVE' and \
                self.server.get('OS-EXT-STS:vm_state') == 'stopped':
            # Recorded stopped by the report, ACTIVE before it: set back
            # to active first, so that Nova's evacuation (microversion
            # 2.84) spawns it running instead of stopping it on its new
            # host (one power-on fewer).  Only the database changes: the
            # service is down, nothing runs it.  A run stopped right after
            # this resumes from the report's kept state (resetState is an
            # attempt's action).
            self.compute.action(self.server_id,
                                {'os-resetState': {'state': 'active'}})
        self.compute.action(self.server_id, {'evacuate': {}})

    def poll(self):
        if self.restore is not None:
            return self.restore.poll()
        if not self._request_failed and self.compute.server(
                self.server_id).get('OS-EXT-STS:task_state'):
            # Rebuilding: one read per poll until the server settles; the
            # migration record is read then.
            return None
        return super().poll()

    def _poll(self, migration):
        if migration['status'] not in EVACUATION_FINAL:
            return None
        server = self._settled()
        if server is None:
            return None
        host = server.get('OS-EXT-SRV-ATTR:host')
        if migration['status'] in EVACUATION_DONE and host != self.source:
            self.restore = _Restore(self.compute, server, self.target)
            return self.restore.start(server)
        return moves.Done(False, reason=self._failure(migration, server),
                          server=server)


class Recover:
    """One recovery of ``host`` (see the module docstring).

    :param compute: a :class:`nova_wrs_lm.cloud.compute.Compute`
    :param only_ha_enabled: evacuate only instances whose metadata
        ``HA_Enabled`` is true (``[wrs_lm] recover_only_ha_enabled``)
    :param force: recover a host disabled with a ``maintenance:`` reason
    :param progress: called with one line per instance state change
    :param now: returns the current UTC time, naive (for the service's
        reason)
    """

    def __init__(self, compute, host, concurrency=4, only_ha_enabled=False,
                 force=False, progress=lambda line: None,
                 clock=time.monotonic, sleep=time.sleep, poll_interval=1.0,
                 now=None):
        if concurrency < 1:
            raise ValueError('concurrency must be at least 1')
        self.compute = compute
        self.host = host
        self.concurrency = concurrency
        self.only_ha_enabled = only_ha_enabled
        self.force = force
        self._progress = progress
        self._clock = clock
        self._sleep = sleep
        self.poll_interval = poll_interval
        self._now = now or (lambda: datetime.datetime.now(
            datetime.UTC).replace(tzinfo=None))
        self._start = None

    def _say(self, outcome, text):
        self._progress('[%7.1f s] %s (%s): %s' % (
            self._clock() - self._start, outcome.name, outcome.id, text))

    # -- checks -------------------------------------------------------------

    def check(self, service):
        """Raises :class:`Refused` unless the host may be recovered."""
        if service.get('state') != 'down':
            raise Refused(
                'the nova-compute service of host %s is up: refusing to '
                'evacuate its instances, which may still be running there '
                '(an instance must never run twice). Fence the host, then '
                'report it down (nova-wrs-lm host report-down %s) or wait '
                'until its service is down.' % (self.host, self.host))
        if _is_operator_maintenance(service) and not self.force:
            raise Refused(
                'host %s is in maintenance (its nova-compute service is '
                'disabled: %r): HA is off during maintenance. Use --force '
                'to recover it anyway.' % (
                    self.host, service.get('disabled_reason')))

    # -- the run ------------------------------------------------------------

    def run(self, dry_run=False):
        """Recover the host; returns the :class:`Report`.

        :raises Refused: the host may not be recovered (nothing changed)
        :raises CloudError: the host's service cannot be read or changed
        """
        self._start = self._clock()
        service = self.compute.compute_service(self.host)
        self.check(service)
        was = service['status']
        since = recovered_since(service)
        steps = [self._plan(server)
                 for server in self.compute.servers_on(self.host)]
        pending = self._pending(since) if since is not None else []
        instances = [outcome for _, outcome, _ in steps] + [
            outcome for _, outcome, _ in pending]
        if dry_run:
            return Report(self.host, _service(service, was), instances,
                          dry_run=True)
        queue = [step for step in steps if step[1].result is None]
        for _, outcome, _ in steps:
            if outcome.result == SKIPPED:
                self._say(outcome, 'skipped: %s' % outcome.reason)
        landed = {step[1].to for step in pending if step[1].to}
        landed.update(self._landed_before(since))
        to_release = self._reserved(landed)
        if since is not None and not queue and not pending and \
                not to_release:
            left = len(steps)
            return Report(
                self.host, _service(service, was), instances,
                nothing_to_do=(
                    'host %s was recovered (%s); %s: nothing changed' % (
                        self.host, service.get('disabled_reason'),
                        'no instance is left on it' if not left else
                        '%d instance(s) left on it cannot be recovered '
                        '(see their reasons)' % left)))
        if since is None:
            service = self.compute.update_service(
                service['id'], status='disabled',
                disabled_reason=REASON_PREFIX + self._now().strftime(
                    _TIME_FORMAT))
            self._progress('host %s: service disabled (%s)' % (
                self.host, service.get('disabled_reason')))
        self._evacuate_all(list(queue))
        self._restore_all(pending)
        landed.update(o.to for _, o, _ in queue if o.result == RECOVERED)
        released = self._release(self._reserved(landed))
        return Report(self.host, _service(service, was), instances,
                      released=released)

    def _plan(self, server):
        """``(server, Outcome, target status)``; the outcome's result is
        already SKIPPED for an instance that is not evacuated."""
        vm_state = server.get('OS-EXT-STS:vm_state')
        task = server.get('OS-EXT-STS:task_state')
        outcome = Outcome(server['id'], server.get('name'), vm_state)
        if self.only_ha_enabled and not ha_enabled(server):
            outcome.result, outcome.by_rule = SKIPPED, True
            outcome.reason = ('not HA-enabled (metadata %s is not true; '
                              '[wrs_lm] recover_only_ha_enabled)' % HA_KEY)
            return server, outcome, None
        if task:
            outcome.result = SKIPPED
            outcome.reason = 'in a task (%s)' % task
            return server, outcome, None
        if vm_state not in EVACUABLE:
            outcome.result = SKIPPED
            outcome.reason = 'vm_state %s cannot be evacuated' % vm_state
            return server, outcome, None
        kept, attempts = kept_state(self.compute, server['id'])
        note = None
        if kept is not None:
            outcome.from_state = kept
        elif attempts and vm_state == 'error':
            note = ('its state before the failure was not kept and an '
                    'earlier evacuation failed: kept in ERROR')
        target, why = target_status(outcome.from_state)
        outcome.reason = note or why
        return server, outcome, target

    def _pending(self, since):
        """``(server, Outcome, target)`` of each instance a run since
        ``since`` evacuated from the host and left before restoring it:
        its newest instance action is the evacuation."""
        uuids = {}
        for migration in self.compute.evacuations_from(self.host):
            if migration['status'] in EVACUATION_DONE and \
                    _parse_time(migration['created_at']) >= since:
                uuids[migration['instance_uuid']] = None
        found = []
        for uuid in uuids:
            try:
                server = self.compute.server(uuid)
            except CloudError:
                continue  # deleted since
            host = server.get('OS-EXT-SRV-ATTR:host')
            if host in (None, self.host) or server.get(
                    'OS-EXT-STS:task_state'):
                continue
            actions = self.compute.actions(uuid)
            if not actions or actions[0]['action'] != 'evacuate':
                continue  # restored, or changed by someone since
            kept, _ = kept_state(self.compute, uuid, actions[1:])
            if kept is None:
                continue  # Nova's evacuation kept its state
            target, why = target_status(kept)
            if server.get('status') == target:
                continue
            outcome = Outcome(uuid, server.get('name'), kept, to=host,
                              reason=why)
            found.append((server, outcome, target))
        return found

    def _landed_before(self, since):
        """Hosts that instances evacuated from the host by a run since
        ``since`` are still on."""
        if since is None:
            return set()
        hosts = set()
        for migration in self.compute.evacuations_from(self.host):
            if migration['status'] in EVACUATION_DONE and \
                    _parse_time(migration['created_at']) >= since:
                hosts.add(migration['dest_compute'])
        return hosts - {None, self.host}

    # -- evacuations and restores -----------------------------------------

    def _evacuate_all(self, queue):
        in_flight = []
        while in_flight or queue:
            while queue and len(in_flight) < self.concurrency:
                server, outcome, target = queue.pop(0)
                move = _Evacuation(self.compute, server, self._clock, target)
                move.start()
                self._say(outcome, 'evacuation started')
                in_flight.append((move, outcome))
            self._sleep(self.poll_interval)
            for move, outcome in list(in_flight):
                try:
                    done = move.poll()
                except CloudError as exc:
                    done = moves.Done(False, reason=str(exc))
                if done is None:
                    continue
                in_flight.remove((move, outcome))
                self._finish(move, outcome, done)

    def _finish(self, move, outcome, done):
        outcome.seconds = move.elapsed()
        if done.moved:
            outcome.result, outcome.to = RECOVERED, done.to
            issued = move.restore.issued if move.restore else None
            self._say(outcome, 'recovered on %s (%s) in %.1f s' % (
                done.to, done.server.get('status') if done.server else '',
                outcome.seconds) + (', %s' % issued if issued else ''))
            return
        outcome.result, outcome.reason = FAILED, done.reason
        outcome.to = None if move.restore is None else (
            (done.server or {}).get('OS-EXT-SRV-ATTR:host'))
        self._say(outcome, 'failed: %s' % done.reason)
        server = done.server or {}
        if move.restore is None and server and \
                server.get('status') != 'ERROR' and \
                not server.get('OS-EXT-STS:task_state'):
            # Refused before Nova set anything (a 409, ...).
            moves.set_error(self.compute, outcome, self._say)

    def _restore_all(self, pending):
        for server, outcome, target in pending:
            started = self._clock()
            restore = _Restore(self.compute, server, target)
            self._say(outcome, 'evacuated by an earlier run to %s, %s; '
                               'restoring %s' % (outcome.to,
                                                 server.get('status'),
                                                 target))
            try:
                done = restore.start(server)
                while done is None:
                    self._sleep(self.poll_interval)
                    done = restore.poll()
            except CloudError as exc:
                done = moves.Done(False, reason=str(exc))
            outcome.seconds = self._clock() - started
            if done.moved:
                outcome.result = RECOVERED
                self._say(outcome, 'recovered on %s' % outcome.to)
            else:
                outcome.result, outcome.reason = FAILED, done.reason
                self._say(outcome, 'failed: %s' % done.reason)

    # -- reserved hosts -------------------------------------------------

    def _reserved(self, hosts):
        """``{host: [aggregate]}`` of the hosts among ``hosts`` that an
        aggregate still makes reserved."""
        if not hosts:
            return {}
        found = {}
        for aggregate in self.compute.aggregates():
            if not _flag(aggregate, segments.RESERVED):
                continue
            for host in set(aggregate.get('hosts') or ()) & set(hosts):
                found.setdefault(host, []).append(aggregate)
        return found

    def _release(self, reserved):
        released = []
        for host in sorted(reserved):
            entry = {'host': host, 'removed_from': [], 'added_to': []}
            try:
                self._release_one(host, reserved[host], entry)
            except CloudError as exc:
                entry['error'] = str(exc)
                self._progress('reserved host %s: could not release it: %s'
                               % (host, exc))
            released.append(entry)
        return released

    def _release_one(self, host, reserved, entry):
        aggregates = self.compute.aggregates()
        member_of = {_flag(a, segments.SEGMENT) for a in aggregates
                     if host in (a.get('hosts') or ()) and
                     not _flag(a, segments.RESERVED)}
        for aggregate in reserved:
            segment = _flag(aggregate, segments.SEGMENT)
            if segment is not None and segment not in member_of:
                # Joins the segment through an aggregate that does not
                # reserve, before it leaves the one that did.
                home = next((a for a in aggregates
                             if _flag(a, segments.SEGMENT) == segment and
                             not _flag(a, segments.RESERVED)), None)
                if home is None:
                    home = self.compute.create_aggregate(
                        'failover-segment-%s' % segment)
                    self.compute.aggregate_action(home['id'], {
                        'set_metadata': {'metadata': {
                            segments.SEGMENT.name: segment}}})
                self.compute.aggregate_action(
                    home['id'], {'add_host': {'host': host}})
                entry['added_to'].append(home['name'])
                member_of.add(segment)
            self.compute.aggregate_action(
                aggregate['id'], {'remove_host': {'host': host}})
            entry['removed_from'].append(aggregate['name'])
        self._progress('reserved host %s released: no longer reserved '
                       '(left %s)%s' % (
                           host, ', '.join(entry['removed_from']),
                           '; joined %s' % ', '.join(entry['added_to'])
                           if entry['added_to'] else ''))


def _flag(aggregate, key):
    """The aggregate's value of the segment metadata ``key`` (parsed), or
    None (unset or invalid: the scheduler ignores it too)."""
    raw = (aggregate.get('metadata') or {}).get(key.name)
    if raw is None:
        return None
    try:
        return key.parse(raw)
    except (ValueError, KeyError):
        return None


def _service(service, was):
    return {'id': service['id'], 'status': service['status'],
            'state': service.get('state'),
            'disabled_reason': service.get('disabled_reason'), 'was': was}
