"""Nova's libvirt driver with a per-instance live-migration policy.

Loaded by Nova as ``compute_driver = wrs_lm.LibvirtDriver`` (through the
thin ``nova.virt.wrs_lm`` package).  Each override below names the Nova
method it wraps or replaces (read from Nova 34.0.0) and what differs; the
rest is Nova's.
"""

import dataclasses
import time
from collections import deque

import nova.conf
from nova import exception
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import migration as libvirt_migrate
from nova.virt.libvirt import vif as libvirt_vif
from oslo_log import log as logging

from nova_wrs_lm import conf  # noqa: F401 (registers [wrs_lm])
from nova_wrs_lm.virt import downtime
from nova_wrs_lm.virt import ha_host
from nova_wrs_lm.virt import instance_ha
from nova_wrs_lm.virt import instance_policy
from nova_wrs_lm.virt import libvirt_module
from nova_wrs_lm.virt import migration_flags
from nova_wrs_lm.virt import monitor as lm_monitor
from nova_wrs_lm.virt import rollback

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def _monotonic():
    return time.monotonic()


def _sleep(seconds):
    time.sleep(seconds)


@dataclasses.dataclass
class _Migration:
    """What the driver keeps about one running live migration."""

    policy: object
    #: Whether the record is in the driver's table (made by
    #: live_migration()), or made for one call that Nova's code (or one of
    #: Nova's tests) makes without live_migration() around it.
    tracked: bool = True
    #: Why the migration rolled back, for the fault (set by the monitor).
    why: str | None = None
    #: The exception of the migration operation thread, if any.
    operation_error: BaseException | None = None
    #: Set when an operator aborted the migration (live_migration_abort).
    cancelled: bool = False


class _PolicyGuest:
    """The guest as ``_live_migration_operation`` sees it: ``migrate()``
    gets the instance's flags; when tunnelled, no migrate URI and no disk
    list (as Nova does for its global tunnelling)."""

    def __init__(self, guest, policy):
        self._guest = guest
        self._policy = policy

    def __getattr__(self, name):
        return getattr(self._guest, name)

    # It stands for the guest everywhere but migrate(): what Nova's code
    # hands on (to get_updated_guest_xml, ...) compares equal to the
    # guest it was given.
    def __eq__(self, other):
        if isinstance(other, _PolicyGuest):
            other = other._guest
        return self._guest == other

    def __hash__(self):
        return hash(self._guest)

    def migrate(self, destination, migrate_uri=None, migrate_disks=None,
                destination_xml=None, flags=0, bandwidth=0, parallel=0):
        libvirt = libvirt_module.get()
        flags = migration_flags.apply(flags, self._policy, libvirt)
        # Mirrors Nova 34.0.0 `LibvirtDriver._live_migration_operation`
        # (its "migrate_uri will have a value only in the case that ... we
        # propose a non tunneled migration" and "we can safely remove
        # migrate_disks when tunnelling is on" blocks), which Nova applies
        # to its global flags before calling migrate(); here the flags are
        # the instance's, known only now.
        if flags & libvirt.VIR_MIGRATE_TUNNELLED:
            migrate_uri = None
            migrate_disks = []
        LOG.debug('Live migration flags %d (policy sets %s, clears %s)',
                  flags, *migration_flags.changes(self._policy))
        return self._guest.migrate(
            destination, migrate_uri=migrate_uri,
            migrate_disks=migrate_disks, destination_xml=destination_xml,
            flags=flags, bandwidth=bandwidth, parallel=parallel)


class _NovaMonitor(lm_monitor.MigrationMonitor):
    """The monitor with the bookkeeping of Nova's own loop: queued tasks
    (force-complete requests), progress saved on the migration and the
    instance, periodic progress logs, no timeout action in post-copy."""

    def __init__(self, guest, policy, *, driver, instance, migration,
                 on_migration_failure, post_copy, **kwargs):
        super().__init__(guest, policy, instance_uuid=_uuid(instance),
                         **kwargs)
        self._driver = driver
        self._instance = instance
        self._migration = migration
        self._on_migration_failure = on_migration_failure
        self._post_copy = post_copy
        self._polls = 0
        # Progress is saved every live_migration_monitor_interval seconds.
        self._progress_every = max(1, int(
            CONF.libvirt.live_migration_monitor_interval /
            self.poll_interval))
        self._last_info_elapsed = 0.0

    def _log_kwargs(self):
        return {'instance': self._instance}

    def _timeout_allowed(self):
        return self._migration.status != 'running (post-copy)'

    def _force_complete(self):
        # As Nova's loop: queue a force-complete (post-copy switch or
        # pause, undone by the recover tasks) for run_tasks.
        self._driver.live_migration_force_complete(self._instance)

    def _on_running(self, info, elapsed):
        libvirt_migrate.run_tasks(self.guest, self._instance,
                                  self._driver.active_migrations,
                                  self._on_migration_failure,
                                  self._migration, self._post_copy)
        if self._polls % self._progress_every == 0:
            self._save_progress(info, elapsed)
        self._polls += 1

    # Mirrors Nova 34.0.0 `LibvirtDriver._live_migration_monitor`, the block
    # under "if (n % divisor) == 0" in its VIR_DOMAIN_JOB_UNBOUNDED branch:
    # the same progress saved and the same log line, at the same interval.
    def _save_progress(self, info, elapsed):
        remaining = 100
        if info.memory_total != 0:
            remaining = round(info.memory_remaining * 100 /
                              info.memory_total)
        libvirt_migrate.save_stats(self._instance, self._migration, info,
                                   remaining)
        disk_remaining = 100
        if info.disk_total != 0:
            disk_remaining = round(info.disk_remaining * 100 /
                                   info.disk_total)
        lg = LOG.debug
        if elapsed - self._last_info_elapsed >= 30:
            lg = LOG.info
            self._last_info_elapsed = elapsed
        lg('Migration running for %(secs)d secs, memory %(remaining)d%% '
           'remaining (bytes processed=%(processed_memory)d, '
           'remaining=%(remaining_memory)d, total=%(total_memory)d); '
           'disk %(disk_remaining)d%% remaining (bytes '
           'processed=%(processed_disk)d, remaining=%(remaining_disk)d, '
           'total=%(total_disk)d).',
           {'secs': elapsed, 'remaining': remaining,
            'processed_memory': info.memory_processed,
            'remaining_memory': info.memory_remaining,
            'total_memory': info.memory_total,
            'disk_remaining': disk_remaining,
            'processed_disk': info.disk_processed,
            'remaining_disk': info.disk_remaining,
            'total_disk': info.disk_total}, instance=self._instance)


def _why(result, policy, error):
    """Why a migration rolled back, for the instance fault."""
    if result.outcome == lm_monitor.ABORTED:
        timeout = policy['live_migration_timeout']
        text = ('live migration not completed after %d sec (timeout from '
                '%s), aborted' % (timeout.value, timeout.source))
    elif result.outcome == lm_monitor.CANCELLED:
        text = 'live migration cancelled'
    else:
        text = 'live migration failed'
    if error is not None:
        text += ' (%s)' % error
    return text


def _uuid(instance):
    """The instance's UUID; None for what is not an instance (some of
    Nova's tests pass a dict or None where Nova's code never reads it)."""
    return getattr(instance, 'uuid', None)


class LibvirtDriver(libvirt_driver.LibvirtDriver):
    """Nova's libvirt driver; each live migration follows its instance's
    resolved policy (see :mod:`nova_wrs_lm.resolver`)."""

    #: Time source and sleep of the migration monitor (injectable).
    monitor_clock = staticmethod(_monotonic)
    monitor_sleep = staticmethod(_sleep)
    #: Seconds between two polls of a migration job (Nova's is 0.5).
    monitor_poll_interval = 0.5

    # Wraps LibvirtDriver.__init__ (Nova 34.0.0): adds the table of running
    # migrations (one entry per instance, nothing shared between them), and
    # for instance HA puts ha_host.Host (Nova's Host, with libvirt's STOPPED
    # reason and the instance_ha.EventGate in front of its 15 s delay) in
    # place of the Host Nova's __init__ made, with the same arguments, and
    # the VIF driver Nova builds on it (the only object that keeps it).
    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        self._wrs_migrations = {}
        self._host = ha_host.Host(self._uri(), read_only,
                                  lifecycle_event_handler=self.emit_event,
                                  conn_event_handler=self._handle_conn_event)
        self.vif_driver = libvirt_vif.LibvirtGenericVIFDriver(self._host)
        self._wrs_ha = instance_ha.InstanceHA(self, CONF)
        self._host.gate = instance_ha.EventGate(
            self._host._nova_emit_delayed, self._wrs_ha.handle, CONF)

    # Wraps LibvirtDriver.init_host (Nova 34.0.0): instance HA learns the
    # compute's host name (the instances' host).
    def init_host(self, host):
        self._wrs_ha.host = host
        super().init_host(host)

    # Wraps LibvirtDriver.process_instances_at_startup (Nova 34.0.0, called
    # by ComputeManager.init_host before _init_instance): a tagged ACTIVE
    # instance whose guest died while nova-compute was not running is
    # restarted here under the instance-HA rule, whatever [DEFAULT]
    # resume_guests_state_on_host_boot says, so that _init_instance finds
    # it running and no power-state sync stops it.
    def process_instances_at_startup(self, context, instances):
        instances = super().process_instances_at_startup(context, instances)
        self._wrs_ha.at_startup(context, instances)
        return instances

    # Replaces LibvirtDriver._handle_live_migration_tunnelled (Nova 34.0.0):
    # tunnelling is decided per instance (its default is this very option),
    # so the global flags never carry VIR_MIGRATE_TUNNELLED.
    def _handle_live_migration_tunnelled(self, migration_flags):
        return migration_flags

    def _record(self, instance):
        """The record of the instance's live migration: the one
        live_migration() put in the table, or, where a step is entered
        without it (Nova's own tests call the steps directly), one made
        from the instance now and not kept (``tracked`` False)."""
        record = self._wrs_migrations.get(_uuid(instance))
        if record is None:
            record = _Migration(instance_policy.resolve(instance, CONF),
                                tracked=False)
        return record

    # Wraps LibvirtDriver.check_can_live_migrate_source (Nova 34.0.0): Nova
    # refuses a tunnelled block migration with mapped volumes when its
    # global flags tunnel; here when the instance's policy does.
    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        data = super().check_can_live_migrate_source(
            context, instance, dest_check_data, block_device_info)
        bdm = (block_device_info or {}).get('block_device_mapping')
        if data.block_migration and bdm:
            policy = self._record(instance).policy
            if policy.tunnel:
                choice = policy['live_migration_tunnel']
                msg = ('Cannot block migrate instance %(uuid)s with mapped '
                       'volumes. Selective block device migration is not '
                       'supported with tunnelled block migrations '
                       '(live_migration_tunnel is true from %(source)s).'
                       % {'uuid': instance.uuid, 'source': choice.source})
                LOG.error('%s', msg, instance=instance)
                raise exception.MigrationPreCheckError(reason=msg)
        return data

    # Wraps LibvirtDriver.live_migration (Nova 34.0.0): resolves and logs
    # the instance's policy once, and wraps recover_method so that a
    # rollback off a failed source host (forced down, or disabled for a
    # failure: nova_wrs_lm.virt.rollback) ends in ERROR.
    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        policy = instance_policy.resolve(instance, CONF)
        instance_policy.log(policy, instance)
        record = _Migration(policy)
        self._wrs_migrations[_uuid(instance)] = record

        def recover(context, instance, dest, migrate_data=None, **kwargs):
            recover_method(context, instance, dest, migrate_data, **kwargs)
            if record.cancelled:
                # Aborted through Nova's API (live_migration_abort): an
                # operator's decision, never a failure.
                return
            rollback.error_if_source_failed(
                context, instance, dest,
                record.why or 'live migration failed',
                CONF.wrs_lm.failure_disabled_reason_prefixes)

        try:
            super().live_migration(context, instance, dest, post_method,
                                   recover, block_migration, migrate_data)
        finally:
            self._wrs_migrations.pop(_uuid(instance), None)

    # Wraps LibvirtDriver.live_migration_abort (Nova 34.0.0, called for
    # DELETE /servers/{id}/migrations/{id}): remembers the operator's
    # abort, so that the rollback that follows never errors the instance
    # (libvirt may report the aborted job as failed, not cancelled).
    def live_migration_abort(self, instance):
        record = self._wrs_migrations.get(_uuid(instance))
        if record is not None:
            record.cancelled = True
        super().live_migration_abort(instance)

    # Wraps LibvirtDriver._live_migration_copy_disk_paths (Nova 34.0.0):
    # Nova leaves the volumes in the list of disks to copy (it does not
    # look them up) when its global flags tunnel; here when the instance's
    # policy does (the global flags never do).
    def _live_migration_copy_disk_paths(self, context, instance, guest):
        if not self._record(instance).policy.tunnel:
            return super()._live_migration_copy_disk_paths(
                context, instance, guest)
        # Mirrors the rest of Nova 34.0.0's method, no device excluded.
        disk_paths = []
        device_names = []
        for dev in guest.get_all_disks():
            if dev.readonly or dev.shareable:
                continue
            if dev.source_type not in ["file", "block"]:
                continue
            disk_paths.append(dev.source_path)
            device_names.append(dev.target_dev)
        return (disk_paths, device_names)

    # Wraps LibvirtDriver._live_migration_operation (Nova 34.0.0): migrate()
    # gets the instance's flags (_PolicyGuest); an exception is kept for the
    # monitor instead of failing the future, see _live_migration_monitor.
    def _live_migration_operation(self, context, instance, dest,
                                  block_migration, migrate_data, guest,
                                  device_names):
        record = self._record(instance)
        try:
            super()._live_migration_operation(
                context, instance, dest, block_migration, migrate_data,
                _PolicyGuest(guest, record.policy), device_names)
        except Exception as exc:
            if not record.tracked:
                raise
            record.operation_error = exc

    # Replaces LibvirtDriver._live_migration_monitor (Nova 34.0.0): same
    # callbacks and bookkeeping (_NovaMonitor), but the loop is
    # MigrationMonitor with the instance's absolute timeout and a downtime
    # ramp to its max, both re-read from the instance's metadata every
    # [wrs_lm] live_migration_policy_refresh_interval seconds.  Differs:
    # the operation's exception (e.g. libvirt's "operation aborted" after a
    # timeout) is raised only when the migration did not roll back; Nova 34
    # would raise it after a complete rollback and put the instance running
    # on the source in ERROR.  As Nova's, the rollback does not wait for
    # the migrateToURI3 call.
    def _live_migration_monitor(self, context, instance, guest,
                                dest, post_method,
                                recover_method, block_migration,
                                migrate_data, future,
                                disk_paths):
        record = self._record(instance)
        policy = record.policy
        on_migration_failure = deque()
        data_gb = self._live_migration_data_gb(instance, disk_paths)
        migration = migrate_data.migration

        flags = migration_flags.apply(
            self._get_migration_flags(migrate_data.block_migration),
            policy, libvirt_module.get())
        post_copy = self._is_post_copy_enabled(flags)
        # vpmem does not support post copy
        post_copy &= not bool(self._get_vpmems(instance))

        monitor = _NovaMonitor(
            guest, policy, driver=self, instance=instance,
            migration=migration, on_migration_failure=on_migration_failure,
            post_copy=post_copy,
            timeout_action=CONF.libvirt.live_migration_timeout_action,
            steps_for=lambda p: downtime.steps(
                p.max_downtime, p.timeout, CONF, data_gb=data_gb),
            # A change of the instance's metadata (nova meta during the
            # migration) applies within the refresh interval.
            refresh_policy=(
                (lambda: instance_policy.refresh(context, instance, CONF))
                if record.tracked else None),
            refresh_interval=(
                CONF.wrs_lm.live_migration_policy_refresh_interval),
            clock=self.monitor_clock, sleep=self.monitor_sleep,
            poll_interval=self.monitor_poll_interval)
        try:
            result = monitor.run(
                is_operation_alive=lambda: not future.done())
        except Exception:
            # As Nova 34.0.0's loop when abort_job() fails at the timeout:
            # the active_migrations entry goes before the error is raised.
            self._clear_empty_migration(instance)
            raise
        finally:
            record.policy = policy = monitor.policy

        if not result.rolled_back:
            # Migration is all done
            LOG.info('Migration operation has completed', instance=instance)
            post_method(context, instance, dest, block_migration,
                        migrate_data)
        else:
            # Roll back first, as Nova does: the migrateToURI3 call may
            # still block (a dead destination, until libvirt's keepalive
            # fires) although the job has ended.  Its error explains the
            # failure in the fault when it is already known.
            record.why = _why(result, policy, record.operation_error
                              if future.done() else None)
            if result.outcome == lm_monitor.CANCELLED:
                # Migration was stopped by admin
                LOG.warning('Migration operation was cancelled',
                            instance=instance)
                kwargs = {'migration_status': 'cancelled'}
            else:
                LOG.error('Migration operation has aborted',
                          instance=instance)
                kwargs = {}
            libvirt_migrate.run_recover_tasks(self._host, guest, instance,
                                              on_migration_failure)
            recover_method(context, instance, dest, migrate_data, **kwargs)
        self._clear_empty_migration(instance)

        future.result()
        error = record.operation_error
        if error is not None:
            if not result.rolled_back:
                raise error
            LOG.info('Live migration operation ended with "%s"; the '
                     'migration was rolled back.', error, instance=instance)
