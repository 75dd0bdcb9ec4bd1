"""Which of Nova 34's tests are run against our driver, and how our class
is put where Nova's is.

- **Unit** (``nova.tests.unit.virt.libvirt.test_driver``, the tests whose
  names contain ``live_migrat``): they build the driver themselves as
  ``nova.virt.libvirt.driver.LibvirtDriver(...)``, so that name (and
  ``nova.virt.libvirt.LibvirtDriver``) is our class.
- **Functional** (the libvirt functional tests that live-migrate or
  evacuate): Nova's harness starts its computes with ``compute_driver =
  libvirt.LibvirtDriver``; here every such setting reads ``compute_driver
  = wrs_lm.LibvirtDriver``, as a deployer sets it, and Nova's own
  ``load_compute_driver`` imports ``nova.virt.wrs_lm``.

``driver='stock'`` loads the same tests without the substitution (the
baseline ``tools/run-nova-suite.py --stock`` runs).
"""

import importlib
import unittest

from nova_wrs_lm.harness import settings

UNIT_MODULE = 'nova.tests.unit.virt.libvirt.test_driver'
UNIT_NAME_PART = 'live_migrat'

FUNCTIONAL_MODULES = (
    'nova.tests.functional.libvirt.test_live_migration',
    'nova.tests.functional.libvirt.test_evacuate',
    'nova.tests.functional.libvirt.test_numa_live_migration',
    'nova.tests.functional.libvirt.test_migration_addr',
    # nova/tests/functional/regressions/ on libvirt that live-migrate or
    # evacuate.
    'nova.tests.functional.regressions.test_bug_1595962',
    'nova.tests.functional.regressions.test_bug_1741364',
    'nova.tests.functional.regressions.test_bug_1888395',
    'nova.tests.functional.regressions.test_bug_1899835',
    'nova.tests.functional.regressions.test_bug_1939545',
    'nova.tests.functional.regressions.test_bug_1944619',
    'nova.tests.functional.regressions.test_bug_2085975',
    'nova.tests.functional.regressions.test_bug_2139351',
    'nova.tests.functional.regressions.test_bug_2152697',
    'nova.tests.functional.regressions.test_bug_2153425',
)

#: What Nova's tests set; a deployer sets settings.WRS_DRIVER instead.
STOCK_COMPUTE_DRIVER = 'libvirt.LibvirtDriver'


def _tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _tests(item)
        else:
            yield item


def _reader_preferring_lock():
    """Nova's ``CellDatabases`` lock, with the readers' preference it was
    written for.

    ``nova.tests.fixtures.nova.CellDatabases`` holds a read lock across
    every ``target_cell`` block and takes the write lock to switch the
    global database to another cell (a scatter-gather over cell0 and
    cell1, e.g. ``GET /os-migrations``).  fasteners 0.20 (the version in
    Nova 34's constraints) makes a *new* reader wait while a writer is
    pending.  Nova's ``NUMALiveMigrationRollbackTests`` run
    ``_run_periodics()`` (a read lock held in ``target_cell``) from inside
    the migration, and ``update_available_resource`` waits there for a
    future whose green thread reads the database (a new reader); when the
    test's own polling of the migration's status becomes a pending writer
    at that moment, nobody can go on: the writer waits for the outer
    reader, the outer reader for its future, the future for the writer.
    Whether the poll lands in that window is timing alone, with either
    driver (doc/nova-tests.md).  Here a new reader waits only for an
    active writer, and a writer whose wait is interrupted (the test's
    timeout) leaves the queue instead of blocking every later one.
    """
    # (``from nova.tests.fixtures import nova`` is the top package: the
    # fixtures package imports ``nova`` itself.)
    nova_fixtures = importlib.import_module('nova.tests.fixtures.nova')
    if getattr(nova_fixtures.ReaderWriterLock, 'prefers_readers', False):
        return nova_fixtures, nova_fixtures.ReaderWriterLock

    class ReaderPreferringLock(nova_fixtures.ReaderWriterLock):
        prefers_readers = True

        def _acquire_read_lock(self, me):
            with self._cond:
                while self._writer is not None and self._writer != me:
                    self._cond.wait()
                self._readers[me] = self._readers.get(me, 0) + 1

        def _acquire_write_lock(self, me):
            try:
                super()._acquire_write_lock(me)
            except BaseException:
                with self._cond:
                    if me in self._pending_writers:
                        self._pending_writers.remove(me)
                    self._cond.notify_all()
                raise

    return nova_fixtures, ReaderPreferringLock


def prepare():
    """What Nova's tests need from an installed Nova (both runs): Nova's
    ConfFixture looks for api-paste.ini under ``$state_path``, where the
    wheel has none (it is the wheel's own file); the cell database
    fixture's lock prefers readers (:func:`_reader_preferring_lock`)."""
    from nova.tests.fixtures import conf as conf_fixture

    nova_fixtures, lock = _reader_preferring_lock()
    nova_fixtures.ReaderWriterLock = lock

    set_up = conf_fixture.ConfFixture.setUp
    if getattr(set_up, 'wrs_lm_prepared', False):
        return

    def conf_set_up(self):
        set_up(self)
        self.conf.set_default('api_paste_config', settings.NOVA_API_PASTE,
                              group='wsgi')

    conf_set_up.wrs_lm_prepared = True
    conf_fixture.ConfFixture.setUp = conf_set_up


def substitute():
    """Put our class where Nova's tests and harness look for Nova's."""
    from nova import test
    from nova.virt import libvirt
    from nova.virt.libvirt import driver as libvirt_driver

    from nova_wrs_lm.virt import driver as wrs_driver

    libvirt_driver.LibvirtDriver = wrs_driver.LibvirtDriver
    libvirt.LibvirtDriver = wrs_driver.LibvirtDriver

    flags = test.TestCase.flags
    if getattr(flags, 'wrs_lm_substituted', False):
        return

    def deployer_flags(self, **kw):
        if (kw.get('compute_driver') == STOCK_COMPUTE_DRIVER and
                not kw.get('group')):
            kw['compute_driver'] = settings.WRS_DRIVER
        return flags(self, **kw)

    deployer_flags.wrs_lm_substituted = True
    test.TestCase.flags = deployer_flags


def suite(loader, driver='ours'):
    """The selected tests (``driver``: ``ours`` or ``stock``)."""
    install_dump_handler()
    prepare()
    if driver != 'stock':
        substitute()
    tests = unittest.TestSuite()
    for test in _tests(loader.loadTestsFromName(UNIT_MODULE)):
        if UNIT_NAME_PART in test.id().rsplit('.', 1)[-1]:
            tests.addTest(test)
    for name in FUNCTIONAL_MODULES:
        tests.addTests(_tests(loader.loadTestsFromName(name)))
    from tests.nova_suite import canary
    tests.addTests(_tests(loader.loadTestsFromModule(canary)))
    return tests


def dump_greenthreads(signum=None, frame=None):
    """Write the stack of every green thread (and OS thread) of this
    process to ``$WRS_LM_NOVA_SUITE_DUMP_DIR/greenthreads-PID.txt``
    (``kill -USR2 PID`` of a worker that hangs)."""
    import gc
    import os
    import sys
    import traceback

    import greenlet

    path = os.path.join(os.environ.get('WRS_LM_NOVA_SUITE_DUMP_DIR', '/tmp'),
                        'greenthreads-%d.txt' % os.getpid())
    with open(path, 'w') as out:
        for ident, stack in sys._current_frames().items():
            out.write('--- OS thread %s\n' % ident)
            traceback.print_stack(stack, file=out)
        for obj in gc.get_objects():
            if isinstance(obj, greenlet.greenlet) and obj.gr_frame:
                out.write('--- greenlet %r\n' % obj)
                traceback.print_stack(obj.gr_frame, file=out)


def install_dump_handler():
    import signal
    signal.signal(signal.SIGUSR2, dump_greenthreads)
