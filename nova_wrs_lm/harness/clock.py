"""Simulated time for the migration monitor.

The driver's monitor reads ``monitor_clock()`` and waits with
``monitor_sleep(seconds)`` (see :class:`nova_wrs_lm.virt.driver.
LibvirtDriver`).  :class:`SimulatedClock` gives each thread its own
monotonic time, advanced by that thread's sleeps: a monitor's elapsed time
is then the sum of its poll intervals, whatever the machine's speed, and a
120 s timeout is 240 polls, never 120 real seconds.
"""

import threading
import time

from nova_wrs_lm.harness import waits


class SimulatedClock:
    """Monotonic time per thread, advanced by that thread's sleeps.

    ``hold(at)`` makes a sleep that would pass ``at`` wait until
    ``release()`` (``held`` is set when one does), so that a test can act
    in the middle of a migration; a hold nobody releases ends after
    :data:`nova_wrs_lm.harness.waits.SAFETY_LIMIT` real seconds.

    :param speed_up: simulated seconds per real second: each sleep also
        sleeps ``seconds / speed_up`` real seconds, which lets the other
        (green) threads of the process run.  ``None``: sleeps take no real
        time at all (one thread, e.g. a benchmark of the loop).
    """

    def __init__(self, speed_up=None):
        self.speed_up = speed_up
        # Green-thread local once eventlet has monkey-patched threading.
        self._local = threading.local()
        self._changed = threading.Condition()
        self._hold_at = None
        self.held = threading.Event()

    def now(self):
        return getattr(self._local, 'now', 0.0)

    def sleep(self, seconds):
        target = getattr(self._local, 'now', 0.0) + seconds
        with self._changed:
            if self._holds(target):
                self.held.set()
                self._changed.wait_for(lambda: not self._holds(target),
                                       timeout=waits.SAFETY_LIMIT)
        self._local.now = target
        if self.speed_up:
            time.sleep(seconds / self.speed_up)

    def _holds(self, target):
        return self._hold_at is not None and target > self._hold_at

    def hold(self, at):
        """Hold every sleep that would pass ``at``; a sleep already held
        at an earlier time goes on up to ``at`` (``held`` is set again
        when it gets there)."""
        with self._changed:
            self._hold_at = at
            self.held.clear()
            self._changed.notify_all()

    def release(self):
        with self._changed:
            self._hold_at = None
            self._changed.notify_all()

    def install(self, driver):
        """Run ``driver``'s migration monitors on this clock."""
        driver.monitor_clock = self.now
        driver.monitor_sleep = self.sleep
