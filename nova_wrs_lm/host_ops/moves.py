"""One instance's move off a host, watched through the compute API.

A :class:`LiveMove` (``os-migrateLive``, no destination,
``block_migration: auto``) or a :class:`ColdMove` (``migrate``, then
``confirmResize``) is started once and then polled; :meth:`Move.poll`
returns None while it is in progress and a :class:`Done` once its
migration record is final and the server has no task any more (Nova's
rollback, and the driver's ERROR, come after the record's status).
Time is injected (``clock``) so that a drain can run on any clock.
"""

import dataclasses

from nova_wrs_lm.cloud import compute as compute_api
from nova_wrs_lm.cloud.connection import CloudError


@dataclasses.dataclass(frozen=True)
class Done:
    """How a move ended."""

    moved: bool
    to: str | None = None
    #: Why it did not move (the migration's status, the fault, the
    #: scheduler's message), None when it moved.
    reason: str | None = None
    #: The server as it is now.
    server: dict | None = None
    #: The move was aborted by the drain (see :meth:`LiveMove.abort`).
    aborted: bool = False


def set_error(compute, outcome, say):
    """``os-resetState`` to ERROR for the instance of ``outcome`` (an
    outcome with ``id`` and ``reason``) whose move failed before Nova set
    anything, so that the failure (the conductor's fault) shows on the
    server; ``say(outcome, text)`` reports it, or the API's refusal is
    added to the outcome's reason."""
    try:
        compute.action(outcome.id, {'os-resetState': {'state': 'error'}})
    except CloudError as exc:
        outcome.reason += '; could not set ERROR: %s' % exc
        return
    say(outcome, 'set to ERROR (os-resetState)')


class Move:
    """Common part: the migration record this move created."""

    kind = None
    final = ()

    def __init__(self, compute, server, clock):
        self.compute = compute
        self.server = server
        self.source = server['OS-EXT-SRV-ATTR:host']
        self._clock = clock
        self.started_at = None
        self.migration = None
        self._known = set()
        self._request_failed = None

    @property
    def server_id(self):
        return self.server['id']

    def elapsed(self):
        return self._clock() - self.started_at

    def start(self):
        self._known = {m['id'] for m in self.compute.migrations(
            self.server_id)}
        self.started_at = self._clock()
        try:
            self._request()
        except CloudError as exc:
            self._request_failed = str(exc)

    def _record(self):
        """The migration record this move created, once there is one."""
        new = [m for m in self.compute.migrations(self.server_id)
               if m['id'] not in self._known and
               m['migration_type'] in self.types]
        if new:
            self.migration = new[-1]
        return self.migration

    def poll(self):
        if self._request_failed:
            # Refused by the API, or failed while it waited for the
            # conductor: the failed event says why, when there is one.
            detail = self._failed_event()
            reason = self._request_failed + (
                ': %s' % detail if detail else '')
            return Done(False, reason=reason,
                        server=self.compute.server(self.server_id))
        migration = self._record()
        if migration is None:
            return None
        return self._poll(migration)

    def _settled(self):
        """The server once it has no task, else None."""
        server = self.compute.server(self.server_id)
        return None if server.get('OS-EXT-STS:task_state') else server

    def _failure(self, migration, server):
        """Why the move failed: the fault an ERROR server shows, else the
        failed event of the move's instance action (the conductor's or
        compute's message, e.g. the scheduler's NoValidHost)."""
        text = 'migration %s' % migration['status']
        fault = (server.get('fault') or {}).get('message')
        if server.get('status') == 'ERROR' and fault:
            return '%s: %s' % (text, fault)
        detail = self._failed_event()
        return '%s: %s' % (text, detail) if detail else text

    def _failed_event(self):
        for action in self.compute.actions(self.server_id):
            if action['action'] not in self.actions:
                continue
            for event in self.compute.action_events(
                    self.server_id, action['request_id']):
                if (event.get('result') or '').lower() == 'error':
                    return event.get('details') or event['event']
            return None
        return None


class LiveMove(Move):
    kind = 'live'
    types = ('live-migration',)
    actions = ('live-migration',)

    def __init__(self, compute, server, clock):
        super().__init__(compute, server, clock)
        self.aborted = False
        #: (time, memory_remaining_bytes) of the best progress seen.
        self.best = None

    def _request(self):
        self.compute.action(self.server_id, {'os-migrateLive': {
            'host': None, 'block_migration': 'auto'}})

    def _poll(self, migration):
        if migration['status'] not in compute_api.LIVE_FINAL:
            return None
        server = self._settled()
        if server is None:
            return None
        host = server.get('OS-EXT-SRV-ATTR:host')
        if migration['status'] == 'completed' and host != self.source:
            return Done(True, to=host, server=server)
        return Done(False, reason=self._failure(migration, server),
                    server=server, aborted=self.aborted)

    def progress(self):
        """Record the migration's memory progress; returns seconds since
        the last improvement of ``memory_remaining_bytes``, or None when
        the migration reports no figures (not running, or not known)."""
        if self.migration is None or self.migration['status'] != 'running':
            return None
        running = self.compute.running_migration(self.server_id,
                                                 self.migration['id'])
        if not running or not running.get('memory_total_bytes'):
            return None
        remaining = running.get('memory_remaining_bytes') or 0
        now = self._clock()
        if self.best is None or remaining < self.best[1]:
            self.best = (now, remaining)
        return now - self.best[0]

    def abort(self):
        """Abort the migration (``DELETE /servers/{id}/migrations/{id}``):
        the guest stays on the source, ACTIVE (an operator's abort never
        errors an instance, whatever the host's state)."""
        self.aborted = True
        self.compute.abort_migration(self.server_id, self.migration['id'])


class ColdMove(Move):
    kind = 'cold'
    types = ('migration', 'resize')
    actions = ('migrate', 'resize')

    def __init__(self, compute, server, clock):
        super().__init__(compute, server, clock)
        self._confirming = False

    def _request(self):
        self.compute.action(self.server_id, {'migrate': None})

    def _poll(self, migration):
        status = migration['status']
        if status not in compute_api.COLD_FINAL:
            return None
        server = self._settled()
        if server is None:
            return None
        if status == 'finished' and not self._confirming:
            if server.get('status') != 'VERIFY_RESIZE':
                return None
            self._confirming = True
            try:
                self.compute.action(self.server_id, {'confirmResize': None})
            except CloudError as exc:
                return Done(False, reason='confirm failed: %s' % exc,
                            server=server)
            return None
        if status == 'confirmed':
            return Done(True, to=server.get('OS-EXT-SRV-ATTR:host'),
                        server=server)
        if status == 'finished':
            return None  # confirming
        return Done(False, reason=self._failure(migration, server),
                    server=server)


#: Which move a server's status takes (task_state None).
BY_STATUS = {'ACTIVE': LiveMove, 'PAUSED': LiveMove, 'SHUTOFF': ColdMove}
