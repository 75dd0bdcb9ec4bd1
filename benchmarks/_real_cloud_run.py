"""What the real-cloud benchmarks (``real_cloud.py``, ``instance_ha.py``,
``host_recover_real.py``) share: a wait with one limit, and the cloud for
the run with the machine's load printed before and after."""

import contextlib
import os
import time

from nova_wrs_lm.harness import waits
from nova_wrs_lm.realcloud import deploy


def wait(predicate, what, timeout, interval):
    """``predicate``'s first true value, polled every ``interval`` s; a
    RuntimeError naming ``what`` after ``timeout`` s."""
    try:
        return waits.until(what, predicate, limit=timeout, interval=interval)
    except TimeoutError:
        raise RuntimeError('timed out waiting for %s' % what) from None


@contextlib.contextmanager
def cloud_for(name):
    """The running cloud for the block (brought up when it is not running,
    and then down after the block), or None when it cannot run here (the
    reason printed, as ``NAME: cannot run here: ...``).  Prints the
    machine's CPUs and load average before, the cloud's up time, and the
    load average and total time after."""
    reason = deploy.unavailable()
    if reason:
        print('%s: cannot run here: %s' % (name, reason))
        yield None
        return
    t0 = time.monotonic()
    print('machine: %d CPUs, load average at start %.2f %.2f %.2f' % (
        (os.cpu_count() or 0,) + os.getloadavg()))
    cloud = deploy.Cloud(say=lambda text: None)
    owned = not all(row.pid for row in cloud.status())
    start = time.monotonic()
    cloud.up()
    print('cloud up in %.0f s (%s)' % (time.monotonic() - start,
                                      'started' if owned else 'running'))
    try:
        yield cloud
    finally:
        if owned:
            cloud.down()
    print('machine: load average at end %.2f %.2f %.2f; total %.0f s' % (
        os.getloadavg() + (time.monotonic() - t0,)))
