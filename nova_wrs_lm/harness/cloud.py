"""Nova's in-process cloud with this package installed: the test cases.

The services are the ones Nova's functional tests run (``nova.tests``,
Nova 34.0.0): the API through wsgi-intercept, conductor, scheduler, the
placement fixture and ``nova-compute`` services, with sqlite databases and
in-memory messaging.  The cases below are Nova's, with:

- a real api-paste.ini (:data:`~nova_wrs_lm.harness.settings.
  NOVA_API_PASTE`, or ``API_PASTE = WRS_LM_API_PASTE`` for the one with
  the ``wrs_lm`` filter);
- on :class:`LibvirtTestCase`, ``compute_driver = wrs_lm.LibvirtDriver`` on
  Nova's fake libvirt, every compute's migration monitor on one
  :class:`~nova_wrs_lm.harness.clock.SimulatedClock` (``self.clock``) and
  the libvirt job of every live migration scripted
  (:class:`~nova_wrs_lm.harness.migration_job.ScriptedJobs`,
  ``self.jobs``);
- Nova's waits (10 polls of 0.5 s) lengthened to
  :data:`nova_wrs_lm.harness.waits.SAFETY_LIMIT`: a loaded machine is slow,
  not wrong;
- what Nova logs after its log capture is gone (thread pools shutting
  down) kept out of the test run's output.

Importing this module imports ``nova.tests``, which monkey-patches the
process with eventlet: only tests, benchmarks and the demo's cloud do.
"""

import logging
import os

import fixtures
from nova import context as nova_context
from nova import objects
from nova.tests.functional import integrated_helpers
from nova.tests.functional.libvirt import base as libvirt_base

from nova_wrs_lm.harness import clock as harness_clock
from nova_wrs_lm.harness import migration_job
from nova_wrs_lm.harness import settings
from nova_wrs_lm.harness import waits

#: Nova's StandardLogging format.
_LOG_FORMAT = '%(asctime)s %(levelname)s [%(name)s] %(message)s'

#: Retries of Nova's 0.5 s waits that make up the safety limit.
_RETRIES = int(waits.SAFETY_LIMIT / 0.5)


class _LogAfterNova(fixtures.Fixture):
    """Nova's log once its StandardLogging fixture is gone, captured.

    ``nova.test`` sets up oslo.log on import (a handler printing to stdout);
    Nova's fixtures that outlive StandardLogging (the thread pools, shut
    down last) would log there, into the test run's output.  Set up before
    Nova's fixtures, this keeps that log with the test (a detail, shown
    when the test fails).
    """

    def _setUp(self):
        stream = self.useFixture(fixtures.StringStream(
            "pythonlogging:'' after Nova's log capture")).stream
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        self.useFixture(fixtures.LogHandler(handler, level=None))


class _Harness:
    """What every case of the harness adds to Nova's."""

    #: The api-paste.ini the API loads.
    API_PASTE = settings.NOVA_API_PASTE

    def setUp(self):
        # First, so that it outlives Nova's fixtures.
        self.useFixture(_LogAfterNova())
        super().setUp()

    # Wraps _IntegratedTestBase._setup_services (Nova 34.0.0): points the
    # API at a real api-paste.ini first (Nova's ConfFixture looks under
    # $state_path, where an installed wheel has none).
    def _setup_services(self):
        self.flags(api_paste_config=os.path.abspath(self.API_PASTE),
                   group='wsgi')
        super()._setup_services()

    # Wraps InstanceHelperMixin._wait_for_server_parameter (Nova 34.0.0):
    # retries up to the safety limit, not 10 times.
    def _wait_for_server_parameter(self, server, expected_params,
                                   max_retries=_RETRIES, api=None,
                                   wait_for_fault_key=True):
        return super()._wait_for_server_parameter(
            server, expected_params, max_retries, api=api,
            wait_for_fault_key=wait_for_fault_key)

    # Wraps InstanceHelperMixin._wait_for_state_change (Nova 34.0.0): the
    # same, for its own default of 10.
    def _wait_for_state_change(self, server, expected_status,
                               max_retries=_RETRIES,
                               wait_for_fault_key=True):
        return super()._wait_for_state_change(
            server, expected_status, max_retries,
            wait_for_fault_key=wait_for_fault_key)

    # Replaces InstanceHelperMixin._wait_for_migration_status (Nova
    # 34.0.0): waits.migration up to the safety limit, not 10 x 0.5 s;
    # looks at the server's latest migration (Nova: at any of them).
    def _wait_for_migration_status(self, server, expected_statuses):
        api = getattr(self, 'admin_api', self.api)
        try:
            return waits.migration(api, server['id'], expected_statuses)
        except TimeoutError as exc:
            self.fail(str(exc))


class ApiTestCase(_Harness, integrated_helpers._IntegratedTestBase):
    """Nova's in-process cloud (API, conductor, scheduler, placement and
    one compute on Nova's fake driver) with a real api-paste.ini."""

    REQUIRES_LOCKING = False
    ADMIN_API = True


class LibvirtTestCase(_Harness, libvirt_base.ServersTestBase,
                      integrated_helpers.InstanceHelperMixin):
    """Nova's in-process cloud whose computes (started by the test with
    ``start_compute(hostname=...)``) run ``compute_driver =
    wrs_lm.LibvirtDriver`` on Nova's fake libvirt; ``self.clock`` runs their
    migration monitors and ``self.jobs`` scripts their migration jobs."""

    ADMIN_API = True
    microversion = 'latest'
    #: Simulated seconds per real second of the monitors' clock.
    SPEED_UP = 5000

    def setUp(self):
        self.clock = harness_clock.SimulatedClock(speed_up=self.SPEED_UP)
        super().setUp()
        self.jobs = self.useFixture(
            migration_job.ScriptedJobs(self._destination_driver))

    # Replaces ServersTestBase._setup_compute_service (Nova 34.0.0): selects
    # this package's driver (Nova's: libvirt.LibvirtDriver); it starts no
    # compute either.
    def _setup_compute_service(self):
        self.flags(compute_driver=settings.WRS_DRIVER)

    # Wraps TestCase.start_service (Nova 34.0.0): a compute's migration
    # monitors run on self.clock, and before it stops every scripted job
    # still running ends (with the clock released), so that no migration
    # outlives the test into the service's graceful shutdown.
    def start_service(self, name, host=None, **kwargs):
        service = super().start_service(name, host=host, **kwargs)
        if name == 'compute':
            self.clock.install(service.manager.driver)
            self.addCleanup(self._end_migrations)
        return service

    def _end_migrations(self):
        self.clock.release()
        self.jobs.end_all()

    def _destination_driver(self, instance_uuid):
        """The driver of the compute the instance's running live migration
        goes to (its migration record says)."""
        ctxt = nova_context.get_admin_context()
        cell = objects.InstanceMapping.get_by_instance_uuid(
            ctxt, instance_uuid).cell_mapping
        with nova_context.target_cell(ctxt, cell) as cctxt:
            migration = objects.Migration.get_by_instance_and_status(
                cctxt, instance_uuid, 'running')
        return self.computes[migration.dest_compute].driver
