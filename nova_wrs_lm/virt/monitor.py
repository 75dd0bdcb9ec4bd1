"""Watch one running live migration and enforce its policy.

:class:`MigrationMonitor` needs only a Nova ``Guest`` (real or fake libvirt
domain) and a resolved :class:`nova_wrs_lm.resolver.Policy`: it polls the
migration job, raises the maximum downtime step by step, and aborts (or
forces to complete) a migration that outlives the policy's timeout.  Time is
injected (``clock``, ``sleep``) so that long timeouts can be run instantly.
Given a ``refresh_policy`` callable, it asks it for the instance's policy
again every ``refresh_interval`` seconds (never on every poll) and applies
a changed timeout or maximum downtime to the migration already running.

The libvirt driver subclasses it to add Nova's bookkeeping (progress,
force-complete requests); everything else can drive it directly.
"""

import dataclasses
import time

import nova.conf
from nova.virt.libvirt import migration as libvirt_migrate
from oslo_log import log as logging

from nova_wrs_lm import spec_table
from nova_wrs_lm.virt import downtime
from nova_wrs_lm.virt import libvirt_module

LOG = logging.getLogger(__name__)

COMPLETED = 'completed'
ABORTED = 'aborted'
FAILED = 'failed'
CANCELLED = 'cancelled'
FORCE_COMPLETED = 'force_completed'

#: Settings a running migration applies when they change (the timeout and
#: the maximum downtime, as the spec table says).
_CHANGEABLE = tuple(s.name for s in spec_table.SETTINGS
                    if s.changes_during_migration)

#: Values of ``[libvirt] live_migration_timeout_action``.
ABORT = 'abort'
FORCE_COMPLETE = 'force_complete'


@dataclasses.dataclass
class MonitorResult:
    """How one monitored migration ended."""

    #: completed, aborted, failed, cancelled or force_completed.
    outcome: str
    #: Seconds from the start of monitoring to the end of the job.
    elapsed: float
    #: ``(elapsed_seconds, downtime_ms)`` of each downtime change made.
    downtime_applied: list = dataclasses.field(default_factory=list)
    #: Elapsed seconds at which the timeout action was taken, or None.
    aborted_at: float | None = None
    #: The last libvirt job type seen (``VIR_DOMAIN_JOB_*``).
    job_type: int | None = None

    @property
    def rolled_back(self):
        """True when the guest stayed on the source."""
        return self.outcome in (ABORTED, FAILED, CANCELLED)


class MigrationMonitor:
    """Poll one migration job until it ends, applying one policy.

    :param guest: a ``nova.virt.libvirt.guest.Guest``.
    :param policy: the instance's resolved policy (timeout, max downtime).
    :param timeout_action: ``abort`` or ``force_complete`` (Nova's
        ``[libvirt] live_migration_timeout_action``).
    :param downtime_steps: ``[(elapsed_seconds, downtime_ms), ...]``;
        default: :func:`nova_wrs_lm.virt.downtime.steps` of the policy.
    :param clock: returns seconds (monotonic).
    :param sleep: sleeps seconds.
    :param poll_interval: seconds between two polls of the job.
    :param timeout: seconds, overrides ``policy.timeout`` (0: none).
    :param instance_uuid: for log lines.
    :param steps_for: ``steps_for(policy)`` returns the downtime steps of a
        policy (default: :func:`nova_wrs_lm.virt.downtime.steps`); used for
        a policy that changes during the migration.
    :param refresh_policy: returns the instance's policy as it is now (or
        None: unchanged); called every ``refresh_interval`` seconds of the
        migration, never when that is 0.  Whatever it raises is logged and
        the policy stays as it was.
    """

    def __init__(self, guest, policy, *, timeout_action=ABORT,
                 downtime_steps=None, clock=time.monotonic,
                 sleep=time.sleep, poll_interval=0.5, timeout=None,
                 instance_uuid=None, steps_for=None, refresh_policy=None,
                 refresh_interval=0):
        self.guest = guest
        self.policy = policy
        self.timeout = policy.timeout if timeout is None else timeout
        self.max_downtime = policy.max_downtime
        self._steps_for = steps_for or (lambda p: downtime.steps(
            p.max_downtime, p.timeout, nova.conf.CONF))
        if downtime_steps is None:
            downtime_steps = self._steps_for(policy)
        self._set_steps(downtime_steps)
        self.timeout_action = timeout_action
        self.poll_interval = poll_interval
        self.instance_uuid = instance_uuid
        self._clock = clock
        self._sleep = sleep
        self._downtime = None
        self._paused = False
        self._refresh_policy = refresh_policy
        self._refresh_interval = refresh_interval if refresh_policy else 0
        self._next_refresh = refresh_interval

    def _set_steps(self, downtime_steps):
        self.downtime_steps = [(t, min(ms, self.max_downtime))
                               for t, ms in sorted(downtime_steps)]

    # -- hooks for subclasses -------------------------------------------

    def _log_kwargs(self):
        return {'instance_uuid': self.instance_uuid}

    def _on_running(self, info, elapsed):
        """Called on each poll while the job runs (before the timeout
        check)."""

    def _timeout_allowed(self):
        """False when the timeout must not be acted on (post-copy)."""
        return True

    def _force_complete(self):
        """Make the migration finish now: pause the guest so that it
        stops dirtying memory (resumed if the migration then fails)."""
        try:
            self.guest.pause()
            self._paused = True
        except Exception as exc:
            LOG.warning('Failed to pause instance during live-migration %s',
                        exc, **self._log_kwargs())

    def _after_rollback(self):
        if self._paused:
            try:
                self.guest.resume()
            except Exception as exc:
                LOG.warning('Failed to resume paused instance after '
                            'live-migration rollback %s', exc,
                            **self._log_kwargs())

    # -- the loop -------------------------------------------------------

    def run(self, is_operation_alive=lambda: True):
        """Poll until the job completes, fails or is cancelled, or the
        migration operation is no longer alive; return a
        :class:`MonitorResult`."""
        libvirt = libvirt_module.get()
        start = self._clock()
        result = MonitorResult(outcome=FAILED, elapsed=0.0)
        while True:
            info = self.guest.get_job_info()
            job_type = info.type
            if (job_type == libvirt.VIR_DOMAIN_JOB_NONE and
                    not is_operation_alive()):
                job_type = libvirt_migrate.find_job_type(self.guest, None)
            result.job_type = job_type
            result.elapsed = self._clock() - start

            if job_type == libvirt.VIR_DOMAIN_JOB_UNBOUNDED:
                self._on_running(info, result.elapsed)
                self._maybe_refresh(result)
                if result.aborted_at is None:
                    self._check_timeout(result)
                self._update_downtime(result)
            elif job_type == libvirt.VIR_DOMAIN_JOB_COMPLETED:
                result.outcome = (FORCE_COMPLETED if self._acted(
                    result, FORCE_COMPLETE) else COMPLETED)
                break
            elif job_type == libvirt.VIR_DOMAIN_JOB_FAILED:
                result.outcome = (ABORTED if self._acted(result, ABORT)
                                  else FAILED)
                break
            elif job_type == libvirt.VIR_DOMAIN_JOB_CANCELLED:
                result.outcome = (ABORTED if self._acted(result, ABORT)
                                  else CANCELLED)
                break
            elif job_type != libvirt.VIR_DOMAIN_JOB_NONE:
                LOG.warning('Unexpected migration job type: %d', job_type,
                            **self._log_kwargs())
            self._sleep(self.poll_interval)
        if result.rolled_back:
            self._after_rollback()
        return result

    def _maybe_refresh(self, result):
        """Every ``refresh_interval`` seconds: re-read the policy and apply
        a changed timeout or maximum downtime."""
        if (not self._refresh_interval or
                result.elapsed < self._next_refresh):
            return
        self._next_refresh = result.elapsed + self._refresh_interval
        try:
            policy = self._refresh_policy()
        except Exception as exc:
            LOG.warning('Could not re-read the live migration policy (%s); '
                        'the migration goes on with the one it has.', exc,
                        **self._log_kwargs())
            return
        if policy is not None:
            self.apply_policy(policy, result)

    def apply_policy(self, policy, result):
        """Apply ``policy``'s timeout and maximum downtime from now on: the
        timeout counts from the start of the migration (one already acted
        on stays acted on); the downtime ramp is the new policy's, so the
        next poll sets the step it reaches at this elapsed time."""
        old = self.policy
        changes = ['%s %s -> %s (from %s)' % (
            name, old[name].value, policy[name].value, policy[name].source)
            for name in _CHANGEABLE
            if old[name].value != policy[name].value]
        self.policy = policy
        if not changes:
            return
        LOG.info('Live migration policy changed during the migration, '
                 'after %(elapsed)d sec: %(changes)s',
                 {'elapsed': result.elapsed, 'changes': '; '.join(changes)},
                 **self._log_kwargs())
        if old.timeout != policy.timeout:
            self.timeout = policy.timeout
        self.max_downtime = policy.max_downtime
        self._set_steps(self._steps_for(policy))

    def _acted(self, result, action):
        return (result.aborted_at is not None and
                self.timeout_action == action)

    def _check_timeout(self, result):
        if (not self.timeout or result.elapsed <= self.timeout or
                not self._timeout_allowed()):
            return
        LOG.warning('Live migration not completed after %d sec',
                    self.timeout, **self._log_kwargs())
        result.aborted_at = result.elapsed
        if self.timeout_action == FORCE_COMPLETE:
            self._force_complete()
            return
        try:
            self.guest.abort_job()
        except libvirt_module.get().libvirtError as exc:
            LOG.warning('Failed to abort migration %s', exc,
                        **self._log_kwargs())
            raise

    def _update_downtime(self, result):
        step = None
        for candidate in self.downtime_steps:
            if result.elapsed > candidate[0]:
                step = candidate
        if step is None or step[1] == self._downtime:
            return
        waited, ms = step
        LOG.info('Increasing downtime to %(downtime)d ms after '
                 '%(waittime)d sec elapsed time',
                 {'downtime': ms, 'waittime': waited}, **self._log_kwargs())
        # Whatever the update raises (a libvirtError, libvirt-python's
        # OverflowError for a value past 2^63, ...), the migration goes
        # on with the downtime last applied; the step is not retried.
        self._downtime = ms
        try:
            self.guest.migrate_configure_max_downtime(ms)
        except Exception as exc:
            LOG.warning('Unable to increase max downtime to %(time)d ms: '
                        '%(e)s', {'time': ms, 'e': exc},
                        **self._log_kwargs())
            return
        result.downtime_applied.append((result.elapsed, ms))
