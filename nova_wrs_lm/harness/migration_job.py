"""Scripted libvirt migration jobs on Nova's fake libvirt.

Nova's fake ``Domain.migrateToURI3`` always fails, and its ``jobStats``
reports whatever a test last set (``nova.tests.fixtures.libvirt``, Nova
34.0.0).  :class:`ScriptedJobs` replaces ``migrateToURI3``, ``jobStats``,
``migrateSetMaxDowntime`` and ``abortJob`` with one job per instance that
behaves as a real libvirt job does, as far as the migration monitor can
see, and that ends as the test scripted it:

- :meth:`~ScriptedJobs.converges` (the default): the guest moves to the
  destination, at once or after a given number of polls of the job;
- :meth:`~ScriptedJobs.fails`: the job fails at once, the guest stays on
  the source;
- :meth:`~ScriptedJobs.fails_and_hangs`: the job fails at once but the
  ``migrateToURI3`` call blocks (a dead destination, until libvirt's
  keepalive fires) until :meth:`~ScriptedJobs.end`;
- :meth:`~ScriptedJobs.abort_fails`: ``abortJob()`` raises a libvirt
  error (the job goes on);
- :meth:`~ScriptedJobs.never_converges`: the job runs (dirty pages keep it
  from converging) until ``abortJob()`` or :meth:`~ScriptedJobs.end`;
  then, as libvirt, ``migrateToURI3`` raises "operation aborted" and the
  guest is still running on the source.

While a job runs, ``jobStats`` reports memory figures as libvirt does:
1 GiB in all, the bytes copied growing with each poll, and the bytes
remaining falling to 0 over the polls of a converging job, or stuck at a
quarter of the memory for one that never converges (what a drain watches,
through the figures Nova saves on the migration record).

It records what each domain was asked: the flags and parameters of
``migrateToURI3``, every max downtime set, whether the job was aborted,
how many times it was polled.

Every wait is event-driven (a condition notified by each poll, abort and
end), with :data:`nova_wrs_lm.harness.waits.SAFETY_LIMIT` only as a guard
against a hang.  :meth:`ScriptedJobs.end_all` ends every job still running;
the test bases call it before the computes stop, so that no migration
outlives its test into Nova's graceful shutdown of the service.
"""

import collections
import threading

import fixtures
from nova.tests.fixtures import libvirt as fakelibvirt

from nova_wrs_lm.harness import waits

_COMPLETES = 'completes'
_FAILS = 'fails'
_NEVER_CONVERGES = 'never-converges'
_FAILS_AND_HANGS = 'fails-and-hangs'

#: libvirt's virErrorNumber for an aborted job (Nova's fake lacks it).
_VIR_ERR_OPERATION_ABORTED = 78

_DOMAIN = 'nova.tests.fixtures.libvirt.Domain.'

#: Memory of a scripted guest, in bytes (as jobStats reports it).
_MEMORY = 1 << 30


class ScriptedJobs(fixtures.Fixture):
    """The live-migration jobs of Nova's fake libvirt domains, scripted
    per instance.

    :param destination: ``destination(instance_uuid)`` returns the driver
        of the compute a running migration goes to (its connection receives
        the migrated domain).
    """

    def __init__(self, destination):
        super().__init__()
        self._destination = destination

    def _setUp(self):
        #: instance UUID -> {'flags', 'params'} of its last migrateToURI3.
        self.calls = {}
        #: instance UUID -> max downtimes set, in order (ms).
        self.downtimes = collections.defaultdict(list)
        #: instance UUID -> set once abortJob() was called.
        self.aborted = collections.defaultdict(threading.Event)
        #: instance UUID -> jobStats() calls (the monitor's polls).
        self.polls = collections.defaultdict(int)
        self._scripts = {}
        #: instance UUID -> (outcome, first poll, polls to converge) of its
        #: running job, for its memory figures.
        self._memory = {}
        self._abort_fails = set()
        self._running = set()
        self._ending = set()
        self._changed = threading.Condition()
        for name, stub in (('migrateToURI3', self._migrate),
                           ('jobStats', self._job_stats),
                           ('migrateSetMaxDowntime', self._set_max_downtime),
                           ('abortJob', self._abort)):
            self.useFixture(fixtures.MonkeyPatch(_DOMAIN + name, stub))
        self.addCleanup(self.end_all)

    # -- what a test says ----------------------------------------------

    def converges(self, instance_uuid, after_polls=0):
        """The instance's next job completes after ``after_polls`` polls
        (without a script: at once)."""
        self._scripts[instance_uuid] = (_COMPLETES, after_polls)

    def fails(self, instance_uuid):
        """The instance's next job fails at once."""
        self._scripts[instance_uuid] = (_FAILS, 0)

    def fails_and_hangs(self, instance_uuid):
        """The instance's next job fails at once, and its migrateToURI3
        call returns only when :meth:`end` is called."""
        self._scripts[instance_uuid] = (_FAILS_AND_HANGS, 0)

    def abort_fails(self, instance_uuid):
        """``abortJob()`` of the instance raises a libvirt error."""
        self._abort_fails.add(instance_uuid)

    def hanging(self, instance_uuid):
        """Whether a migrateToURI3 call of the instance is still blocked."""
        with self._changed:
            return instance_uuid in self._running

    def never_converges(self, instance_uuid):
        """The instance's next job runs until it is aborted or ended."""
        self._scripts[instance_uuid] = (_NEVER_CONVERGES, 0)

    def end(self, instance_uuid):
        """End the instance's running job as libvirt ends an aborted one
        (what an admin's ``virsh domjobabort`` does); the monitor sees the
        migration fail."""
        with self._changed:
            if instance_uuid in self._running:
                self._ending.add(instance_uuid)
                self._changed.notify_all()

    def end_all(self):
        """End every running job (before the computes stop)."""
        with self._changed:
            self._ending.update(self._running)
            self._changed.notify_all()

    # -- the stubs ------------------------------------------------------

    def _migrate(self, domain, destination, params, flags):
        uuid = domain.UUIDString()
        outcome, converge_after = self._scripts.pop(uuid, (_COMPLETES, 0))
        self.calls[uuid] = {'flags': flags, 'params': params}
        if outcome == _FAILS:
            domain.fail_job()
            return
        if outcome == _FAILS_AND_HANGS:
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_FAILED
            self._run_until(uuid, lambda: False)
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_NONE
            raise fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError,
                'internal error: connection closed due to keepalive '
                'timeout', error_code=1,
                error_domain=fakelibvirt.VIR_FROM_QEMU)
        if outcome == _NEVER_CONVERGES or converge_after:
            start = self.polls[uuid]

            def converged():
                return (outcome == _COMPLETES and
                        self.polls[uuid] >= start + converge_after)

            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED
            self._memory[uuid] = (outcome, start, converge_after)
            if not self._run_until(uuid, converged):
                # As libvirt after abortJob: no job, the guest still
                # running on the source, and this call fails.
                domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_NONE
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError,
                    'operation aborted: migration out job: canceled by '
                    'client', error_code=_VIR_ERR_OPERATION_ABORTED,
                    error_domain=fakelibvirt.VIR_FROM_QEMU)
        # Mirrors LibvirtMigrationMixin._migrate_stub (Nova 34.0.0); the
        # destination comes from the migration, not from the test.
        self._destination(uuid)._host.get_connection().createXML(
            params['destination_xml'],
            'fake-createXML-doesnt-care-about-flags')
        domain.complete_job()

    def _run_until(self, uuid, converged):
        """Keep the job running until ``converged()`` (True) or it is
        ended (False)."""
        with self._changed:
            self._running.add(uuid)
            try:
                self._changed.wait_for(
                    lambda: converged() or uuid in self._ending,
                    timeout=waits.SAFETY_LIMIT)
                return converged() and uuid not in self._ending
            finally:
                self._running.discard(uuid)
                self._ending.discard(uuid)

    def _job_stats(self, domain, flags=0):
        uuid = domain.UUIDString()
        with self._changed:
            self.polls[uuid] += 1
            self._changed.notify_all()
        stats = {'type': domain._job_type}
        if (domain._job_type == fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED and
                uuid in self._memory):
            stats.update(self._memory_figures(uuid))
        return stats

    def _memory_figures(self, uuid):
        outcome, start, converge_after = self._memory[uuid]
        done = self.polls[uuid] - start
        if outcome == _NEVER_CONVERGES:
            remaining = _MEMORY // 4
        else:
            remaining = _MEMORY - _MEMORY * done // max(converge_after, 1)
        # Never 0 while the job runs: Nova 34's response schema of GET
        # /servers/{id}/migrations refuses 0 bytes (minimum 1), which its
        # test configuration ([api] response_validation = error) turns
        # into a 400.
        return {'memory_total': _MEMORY,
                'memory_remaining': max(1, remaining),
                'memory_processed': (done + 1) * (_MEMORY // 16),
                'disk_total': _MEMORY, 'disk_processed': _MEMORY,
                'disk_remaining': 1}

    def _set_max_downtime(self, domain, downtime):
        self.downtimes[domain.UUIDString()].append(downtime)

    def _abort(self, domain):
        uuid = domain.UUIDString()
        if uuid in self._abort_fails:
            raise fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError,
                'Requested operation is not valid: no job is active',
                error_code=55, error_domain=fakelibvirt.VIR_FROM_QEMU)
        self.aborted[uuid].set()
        self.end(uuid)
