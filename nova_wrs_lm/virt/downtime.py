"""The schedule of maximum-downtime steps of one live migration.

A step is ``(elapsed_seconds, downtime_ms)``: once the migration has run
longer than ``elapsed_seconds`` the monitor raises the guest's maximum
downtime to ``downtime_ms`` (as Nova's ``update_downtime`` does).
"""

#: Fraction of the timeout at which the ramp reaches the maximum downtime.
REACH_MAX_AT = 2 / 3

#: Nova counts at least 2 GB of data per migration (RAM below 2 GB is
#: rounded up), so its step delay is at least twice the per-GB delay.
MIN_DATA_GB = 2


def steps(max_downtime_ms, timeout_s, conf, data_gb=MIN_DATA_GB):
    """Return the downtime steps of one migration, in increasing order.

    :param max_downtime_ms: the instance's maximum downtime; no step
        exceeds it.
    :param timeout_s: the instance's timeout in seconds, 0 for none.
    :param conf: a ConfigOpts with Nova's ``[libvirt]`` group; its
        ``live_migration_downtime_steps`` is the number of steps.
    :param data_gb: GB of RAM and disk to copy (only used when
        ``timeout_s`` is 0, as Nova's step delay is per GB).

    With a timeout, ``live_migration_downtime_steps`` equal increments
    from ``max/steps`` reach ``max_downtime_ms`` at two thirds of the
    timeout, leaving the last third to converge at the maximum.  Without
    one, Nova's own schedule (``live_migration_downtime`` reached after
    ``steps * live_migration_downtime_delay * data_gb`` seconds) is used,
    capped at ``max_downtime_ms``.
    """
    libvirt = conf.libvirt
    count = libvirt.live_migration_downtime_steps
    if timeout_s:
        target = max_downtime_ms
        delay = timeout_s * REACH_MAX_AT / count
    else:
        target = libvirt.live_migration_downtime
        delay = int(libvirt.live_migration_downtime_delay *
                    max(data_gb, 0))
    base = target / count
    offset = (target - base) / count
    schedule = []
    for i in range(count + 1):
        ms = target if i == count else int(base + offset * i)
        schedule.append((int(delay * i), min(ms, max_downtime_ms)))
    return schedule
