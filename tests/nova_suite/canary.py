"""Checks that the run loads the driver it says it loads: a run whose
substitution silently did nothing would pass Nova's tests with Nova's
class."""

import importlib
import os

import eventlet
from nova.tests.functional.libvirt import base
from nova.virt.libvirt import driver as libvirt_driver

from nova_wrs_lm.virt import driver as wrs_driver


def _expected():
    if os.environ.get('WRS_LM_NOVA_SUITE') == 'stock':
        # Nova's class, whatever the module attribute says now.
        return wrs_driver.LibvirtDriver.__bases__[0]
    return wrs_driver.LibvirtDriver


class DriverLoadedTest(base.ServersTestBase):
    """The class Nova's unit tests build and the class Nova's functional
    harness loads for ``compute_driver = libvirt.LibvirtDriver``."""

    def test_unit_tests_build_the_class(self):
        self.assertIs(_expected(), libvirt_driver.LibvirtDriver)

    def test_harness_computes_load_the_class(self):
        self.start_compute('canary')
        driver = self.computes['canary'].driver
        self.assertIs(_expected(), type(driver))


class CellLockTest(base.ServersTestBase):
    """The cell database fixture's lock lets a new reader in while a
    writer waits (tests/nova_suite/selection.py, _reader_preferring_lock),
    and a writer whose wait is interrupted leaves the queue."""

    def _lock(self):
        fixtures = importlib.import_module('nova.tests.fixtures.nova')
        return fixtures.CellDatabases()._cell_lock

    def _limit(self):
        return eventlet.Timeout(10, AssertionError('blocked for 10 s'))

    @staticmethod
    def _write(lock):
        with lock.write_lock():
            return 'wrote'

    @staticmethod
    def _read(lock):
        with lock.read_lock():
            return 'read'

    def test_new_reader_does_not_wait_for_a_pending_writer(self):
        lock = self._lock()
        with lock.read_lock():
            writer = eventlet.spawn(self._write, lock)
            eventlet.sleep(0)
            self.assertTrue(lock.has_pending_writers)
            reader = eventlet.spawn(self._read, lock)
            with self._limit():
                self.assertEqual('read', reader.wait())
        with self._limit():
            self.assertEqual('wrote', writer.wait())

    def test_interrupted_writer_leaves_the_queue(self):
        lock = self._lock()
        with lock.read_lock():
            writer = eventlet.spawn(self._write, lock)
            eventlet.sleep(0)
            writer.kill()
            self.assertFalse(lock.has_pending_writers)
        with self._limit():
            self.assertEqual('wrote', self._write(lock))
