"""An embedded Nova cloud: Nova's own in-process services, in this process.

The services are the ones Nova's functional tests run (``nova.tests``):
the API (through wsgi-intercept, no socket), conductor, scheduler, the
placement fixture and several ``nova-compute`` services on Nova's fake
libvirt, with an sqlite database and in-memory messaging.  Nova assembles
them in ``_IntegratedTestBase.setUp()``; :class:`EmbeddedCloud` reuses that
set-up (a test case object serves as the container of fixtures, no test
runner is involved) and adds:

- ``compute_driver = wrs_lm.LibvirtDriver`` on every compute;
- the api-paste.ini this package ships (with the ``wrs_lm`` filter);
- a scripted outcome for each live migration's libvirt job (complete,
  fail, or keep running without converging);
- a read-only image endpoint serving the Glance fixture's images, so that
  openstacksdk can read image properties as it would from Glance;
- Nova's log kept in memory (or streamed to stderr with ``verbose``).
"""

import contextlib
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import urllib.parse
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Where the api-paste.ini with the ``wrs_lm`` filter is looked for: the
#: source tree first, then the data files of the installed distribution.
API_PASTE_CANDIDATES = (
    os.path.join(os.path.dirname(_PACKAGE_DIR), 'etc', 'nova',
                 'api-paste.ini'),
    os.path.join(sys.prefix, 'share', 'nova-wrs-lm', 'etc', 'nova',
                 'api-paste.ini'),
)
#: Nova's own api-paste.ini (a data file of the nova wheel): used, without
#: the ``wrs_lm`` filter, when this package's is not installed.
NOVA_API_PASTE = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')

#: The compute driver of this package, as a deployer sets it.
WRS_DRIVER = 'wrs_lm.LibvirtDriver'

#: Outcomes a live migration's libvirt job can be given.
JOB_COMPLETES = 'completes'
JOB_FAILS = 'fails'
JOB_NEVER_CONVERGES = 'never-converges'

#: Real seconds a never-converging job runs at most if nothing aborts it.
_NEVER_CONVERGES_FOR = 30.0

#: libvirt's virErrorNumber for an aborted job (Nova's fake lacks it).
_VIR_ERR_OPERATION_ABORTED = 78

#: Host name of the in-process image endpoint.
IMAGE_ENDPOINT = 'http://image.wrs-lm-demo/v2'


@contextlib.contextmanager
def _quiet_imports():
    """Nova and eventlet warn on import (deprecations); the demo is not
    the place for those unless asked."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        previous = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(previous)


def _import_nova_harness():
    with _quiet_imports():
        from nova.tests.functional import integrated_helpers
        from nova.tests.functional.libvirt import base as libvirt_base
    return integrated_helpers, libvirt_base


def find_api_paste():
    """``(path, has_filter)``: the api-paste.ini carrying the ``wrs_lm``
    filter when this package's is found, else Nova's own."""
    for path in API_PASTE_CANDIDATES + (NOVA_API_PASTE,):
        if os.path.exists(path):
            with open(path) as handle:
                has_filter = 'wrs_lm' in handle.read() and _filter_loads()
            if has_filter or path == NOVA_API_PASTE:
                return os.path.abspath(path), has_filter
    return None, False


def _filter_loads():
    return _findable('nova_wrs_lm.api.filter')


def _findable(module):
    """Whether ``module`` can be imported, without importing it (Nova must
    not be imported before eventlet's monkey-patching, which starting the
    cloud does)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def driver_available():
    """Whether ``compute_driver = wrs_lm.LibvirtDriver`` can be found."""
    return (_findable('nova.virt.wrs_lm') and
            _findable('nova_wrs_lm.virt.driver'))


def _harness_class():
    """Build the fixture container class (Nova's test base is imported
    lazily: importing it monkey-patches the process with eventlet)."""
    integrated_helpers, libvirt_base = _import_nova_harness()

    class _Harness(libvirt_base.ServersTestBase,
                   integrated_helpers.InstanceHelperMixin):
        ADMIN_API = True
        REQUIRES_LOCKING = True
        microversion = 'latest'

        def __init__(self, cloud):
            super().__init__('runTest')
            self.cloud = cloud

        def runTest(self):
            """Never run: the object only holds the fixtures."""

        # unittest.TestCase.id: Nova names its thread pools after it.
        def id(self):
            return 'nova-wrs-lm-demo'

        # ServersTestBase._setup_compute_service (Nova 34.0.0) selects
        # libvirt.LibvirtDriver and starts nothing; ours selects our driver.
        def _setup_compute_service(self):
            self.flags(compute_driver=self.cloud.compute_driver)

        # _IntegratedTestBase._setup_services (Nova 34.0.0): point the API
        # at a real api-paste.ini first (the wheel's own is not found).
        def _setup_services(self):
            if self.cloud.api_paste:
                self.flags(api_paste_config=self.cloud.api_paste,
                           group='wsgi')
            from nova_wrs_lm import conf  # noqa: F401 (registers [wrs_lm])
            overrides = self.cloud.overrides
            if callable(overrides):
                overrides = overrides()
            for group, options in overrides.items():
                self.flags(group=group, **options)
            self.cloud.progress('sqlite databases, placement, in-memory '
                                'messaging and fake Neutron/Glance/Cinder '
                                'ready')
            super()._setup_services()
            self.cloud.progress('API up (api-paste.ini: %s)' % (
                self.cloud.api_paste))

        # TestCase.start_service (Nova 34.0.0), timed for the progress line.
        def start_service(self, name, host=None, **kwargs):
            started = time.monotonic()
            self.cloud.progress('starting %s%s' % (
                name, ' on %s' % host if host else ''))
            service = super().start_service(name, host=host, **kwargs)
            self.cloud.progress('  %s%s up (%.1f s)' % (
                name, ' on %s' % host if host else '',
                time.monotonic() - started))
            return service

    return _Harness


class EmbeddedCloud:
    """Nova's in-process cloud with this package's pieces installed.

    Use as a context manager; ``progress`` receives one line per service
    start.  ``overrides`` maps a nova.conf group to options set before the
    services start (``{'wrs_lm': {'host_down_instance_state': 'error'}}``),
    or a callable returning that mapping once Nova's options exist.
    """

    def __init__(self, hosts=('compute-1', 'compute-2'), verbose=False,
                 progress=None, overrides=None, compute_driver=None):
        self.hosts = tuple(hosts)
        self.verbose = verbose
        self.progress = progress or (lambda line: None)
        self.overrides = overrides or {}
        self.compute_driver = compute_driver or WRS_DRIVER
        self.api_paste, self.api_filter = find_api_paste()
        self.jobs = {}
        #: (server, destination URI, libvirt flags, outcome) per job.
        self.migrations = []
        self._aborts = {}
        self._harness = None

    # -- life cycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        self.progress('loading Nova (its functional-test services)')
        # Nova's services set up oslo.log: a root handler and an
        # excepthook that logs.  Both are put back as they were by stop().
        self._saved = (list(logging.getLogger().handlers), sys.excepthook)
        harness = _harness_class()(self)
        self._harness = harness
        try:
            quiet = (contextlib.nullcontext() if self.verbose
                     else _quiet_imports())
            with quiet:
                harness.setUp()
            self._stream_log()
            harness.useFixture(_fixture_patch(
                'nova.tests.fixtures.libvirt.Domain.migrateToURI3',
                self._migrate))
            harness.useFixture(_fixture_patch(
                'nova.tests.fixtures.libvirt.Domain.abortJob',
                self._abort_job))
            self._install_image_endpoint()
            for host in self.hosts:
                harness.start_compute(hostname=host)
        except BaseException:
            self.stop()
            raise
        self.progress('cloud ready: %d computes (%.1f s)' % (
            len(self.hosts), time.monotonic() - started))

    def stop(self):
        if self._harness is None:
            return
        harness, self._harness = self._harness, None
        # Nova's services log while they shut down, after the log capture
        # fixture is gone: keep that off the terminal.
        previous = logging.root.manager.disable
        if not self.verbose:
            logging.disable(logging.CRITICAL)
        try:
            harness.doCleanups()
        finally:
            handlers, sys.excepthook = self._saved
            logging.getLogger().handlers[:] = handlers
            logging.disable(previous)

    # -- what the steps use -------------------------------------------------

    @property
    def api(self):
        """Nova's API client, as admin, at the latest microversion."""
        return self._harness.api

    def api_at(self, microversion, admin=True):
        """A client pinned to ``microversion``."""
        from nova.tests.functional.api import client
        fixture = self._harness.api_fixture
        base = fixture.admin_api if admin else fixture.api
        pinned = client.TestOpenStackClient(
            base.auth_user, base.base_url, project_id=base.project_id,
            roles=base.roles)
        pinned.microversion = microversion
        return pinned

    def server_request(self, name, flavor_id, image_id=None, host=None,
                       metadata=None):
        """A server create body (no network), as Nova's helpers build it,
        on ``host`` when given (microversion 2.74 and later)."""
        server = self._harness._build_server(
            name=name, flavor_id=flavor_id, image_uuid=image_id,
            networks='none')
        if host:
            server['host'] = host
        if metadata:
            server['metadata'] = dict(metadata)
        return server

    @property
    def glance(self):
        return self._harness.glance

    @property
    def log(self):
        """Nova's log so far (what ``--verbose`` streams)."""
        return self._harness.stdlog.logger.output

    def compute(self, host):
        return self._harness.computes[host]

    def wait_for(self, what, check, timeout=60.0, interval=0.1):
        """Poll ``check()`` until it returns something true; raise
        TimeoutError naming ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError('%s: not after %.0f s' % (what, timeout))
            time.sleep(interval)

    def wait_for_server(self, server_id, status, host=None):
        """The server once it has ``status`` (and is on ``host``); an
        ERROR server is returned once its fault is recorded."""
        def check():
            server = self.api.get_server(server_id)
            if server['status'] != status:
                return None
            if host and server['OS-EXT-SRV-ATTR:host'] != host:
                return None
            if status == 'ERROR' and 'fault' not in server:
                return None
            return server
        return self.wait_for('server %s %s' % (server_id, status), check)

    def wait_for_migration(self, server_id, statuses):
        """The server's latest migration once its status is one of
        ``statuses``."""
        def check():
            migrations = self.api.api_get(
                '/os-migrations?instance_uuid=%s' % server_id
            ).body['migrations']
            if not migrations:
                return None
            latest = max(migrations, key=lambda m: m['id'])
            return latest if latest['status'] in statuses else None
        return self.wait_for('migration of %s %s' % (
            server_id, '/'.join(statuses)), check)

    def accelerate(self, speed_up):
        """Run every compute's migration monitor on simulated time: each
        poll interval passes at once (1/``speed_up`` of it really)."""
        for host in self.hosts:
            driver = self.compute(host).driver
            if not hasattr(driver, 'monitor_clock'):
                continue
            clock = {'now': 0.0}

            def now(clock=clock):
                return clock['now']

            def sleep(seconds, clock=clock):
                clock['now'] += seconds
                time.sleep(seconds / speed_up)

            driver.monitor_clock = now
            driver.monitor_sleep = sleep

    def set_job(self, server_id, outcome):
        """Script the libvirt job of the next live migration of a server."""
        self.jobs[server_id] = outcome

    def sdk_connection(self, microversion=None):
        """An openstacksdk Connection to this cloud's API, as admin.

        The in-process API has no Keystone; its stub reads the user, the
        project and the roles from headers, which the session adds.
        """
        import openstack.connection
        from keystoneauth1 import noauth
        from keystoneauth1 import session as ks_session

        fixture = self._harness.api_fixture
        admin = fixture.admin_api
        session = ks_session.Session(
            auth=noauth.NoAuth(),
            additional_headers={
                'X-Auth-User': admin.auth_user,
                'X-Auth-Project-Id': admin.project_id,
                'X-Roles': ','.join(admin.roles),
            })
        endpoint = fixture.base_url.rsplit('/', 1)[0]
        return _SdkEndpoints(openstack.connection.Connection(
            session=session,
            compute_endpoint_override=endpoint + '/v2.1',
            image_endpoint_override=IMAGE_ENDPOINT,
            compute_api_version=microversion or '2',
            image_api_version='2',
        ))

    # -- internals ----------------------------------------------------------

    def _stream_log(self):
        if not self.verbose:
            return
        # What Nova logged while the services started, then the rest.
        sys.stderr.write(self.log)
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(
            '%(asctime)s %(levelname)s [%(name)s] %(message)s'))
        logging.getLogger().addHandler(handler)

    def _migrate(self, domain, destination, params, flags):
        """``Domain.migrateToURI3`` of Nova's fake libvirt, per the job
        outcome scripted for the server (default: completes)."""
        from nova.tests.fixtures import libvirt as fakelibvirt
        server_id = domain.UUIDString()
        outcome = self.jobs.pop(server_id, JOB_COMPLETES)
        self.migrations.append((server_id, destination, flags, outcome))
        if outcome == JOB_FAILS:
            domain.fail_job()
            return
        if outcome == JOB_NEVER_CONVERGES:
            # As libvirt: the job runs (dirty pages keep it from
            # converging) until someone aborts it, then this call fails.
            aborted = threading.Event()
            self._aborts[server_id] = aborted
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED
            aborted.wait(_NEVER_CONVERGES_FOR)
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_CANCELLED
            raise fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError,
                'operation aborted: migration out job: canceled by client',
                error_code=_VIR_ERR_OPERATION_ABORTED,
                error_domain=fakelibvirt.VIR_FROM_QEMU)
        dest = urllib.parse.urlparse(destination).hostname
        self.compute(dest).driver._host.get_connection().createXML(
            params['destination_xml'],
            'fake-createXML-doesnt-care-about-flags')
        domain.complete_job()

    def _abort_job(self, domain):
        """``Domain.abortJob`` of Nova's fake libvirt: ends a running
        scripted job."""
        aborted = self._aborts.pop(domain.UUIDString(), None)
        if aborted is not None:
            aborted.set()

    def _install_image_endpoint(self):
        from wsgi_intercept import interceptor
        intercept = interceptor.RequestsInterceptor(
            lambda: _ImageEndpoint(self._harness.glance),
            url=IMAGE_ENDPOINT.rsplit('/', 1)[0] + '/')
        intercept.install_intercept()
        self._harness.addCleanup(intercept.uninstall_intercept)


def _fixture_patch(target, replacement):
    import fixtures
    return fixtures.MonkeyPatch(target, replacement)


class _SdkEndpoints:
    """A Connection whose endpoint lookups work in the in-process cloud.

    Nova's ``OpenStackSDKFixture`` (part of every Nova test set-up) mocks
    ``openstack.proxy.Proxy.get_endpoint`` for Nova's own service clients;
    :meth:`real_endpoints` gives the connection with the real method
    (``Proxy`` inherits it from keystoneauth's ``Adapter``) back.
    """

    def __init__(self, connection):
        self._connection = connection

    def __getattr__(self, name):
        return getattr(self._connection, name)

    @contextlib.contextmanager
    def real_endpoints(self):
        from unittest import mock

        import openstack.proxy
        from keystoneauth1 import adapter
        with mock.patch.object(openstack.proxy.Proxy, 'get_endpoint',
                               adapter.Adapter.get_endpoint):
            yield self._connection


class _ImageEndpoint:
    """``GET /v2/images/{id}`` of the Glance image API, read-only, over
    the Glance fixture's images (Nova's harness has no Glance service).

    Glance v2 shows an image's properties as top-level fields.
    """

    def __init__(self, glance):
        self._glance = glance

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        parts = [p for p in path.split('/') if p]
        if environ['REQUEST_METHOD'] != 'GET':
            return self._reply(start_response, '405 Method Not Allowed',
                               {'message': 'read-only'})
        if parts in ([], ['v2']):
            # The version document keystoneauth's discovery asks for.
            return self._reply(start_response, '200 OK', {'versions': [{
                'id': 'v2.0', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': IMAGE_ENDPOINT + '/'}],
            }]})
        if len(parts) != 3 or parts[:2] != ['v2', 'images']:
            return self._reply(start_response, '404 Not Found',
                               {'message': 'not served: %s' % path})
        image = self._glance.images.get(parts[2])
        if image is None:
            return self._reply(start_response, '404 Not Found',
                               {'message': 'no image %s' % parts[2]})
        return self._reply(start_response, '200 OK', _glance_v2(image))

    @staticmethod
    def _reply(start_response, status, body):
        data = json.dumps(body, default=str).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(data)))])
        return [data]


def _glance_v2(image):
    shown = {k: v for k, v in image.items()
             if k not in ('properties', 'deleted', 'deleted_at',
                          'is_public')}
    shown.update(image.get('properties') or {})
    return shown
