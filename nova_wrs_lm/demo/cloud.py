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
import json
import logging
import os
import sys
import time
import urllib.parse
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Where the api-paste.ini with the ``wrs_lm`` filter is looked for: the
#: source tree first, then the data files of the installed distribution.
API_PASTE_CANDIDATES = (
    os.path.join(os.path.dirname(_PACKAGE_DIR), 'etc', 'nova',
                 'api-paste.ini'),
    os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini'),
)

#: The compute driver of this package, as a deployer sets it.
WRS_DRIVER = 'wrs_lm.LibvirtDriver'

#: Outcomes a live migration's libvirt job can be given.
JOB_COMPLETES = 'completes'
JOB_FAILS = 'fails'
JOB_NEVER_CONVERGES = 'never-converges'

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
    """The api-paste.ini carrying the ``wrs_lm`` filter, or ``None``."""
    for path in API_PASTE_CANDIDATES:
        if os.path.exists(path):
            with open(path) as handle:
                if 'wrs_lm' in handle.read():
                    return os.path.abspath(path)
    return None


def driver_available():
    """Whether ``compute_driver = wrs_lm.LibvirtDriver`` can be loaded."""
    try:
        with _quiet_imports():
            import nova.virt.wrs_lm  # noqa: F401
    except ImportError:
        return False
    return True


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
            for group, options in self.cloud.overrides.items():
                self.flags(group=group, **options)
            super()._setup_services()

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
    services start (``{'wrs_lm': {'host_down_instance_state': 'error'}}``).
    """

    def __init__(self, hosts=('compute-1', 'compute-2'), verbose=False,
                 progress=None, overrides=None, compute_driver=None):
        self.hosts = tuple(hosts)
        self.verbose = verbose
        self.progress = progress or (lambda line: None)
        self.overrides = overrides or {}
        self.compute_driver = compute_driver or WRS_DRIVER
        self.api_paste = find_api_paste()
        self.jobs = {}
        #: (server, destination URI, libvirt flags, outcome) per job.
        self.migrations = []
        self._harness = None
        self._log_handler = None

    # -- life cycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        self.progress('loading Nova (its functional-test services)')
        harness = _harness_class()(self)
        self._harness = harness
        with _quiet_imports() if not self.verbose else _noop():
            harness.setUp()
        self._stream_log()
        harness.useFixture(_fixture_patch(
            'nova.tests.fixtures.libvirt.Domain.migrateToURI3',
            self._migrate))
        self._install_image_endpoint()
        for host in self.hosts:
            self._start_compute(host)
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
            logging.disable(previous)
            if self._log_handler is not None:
                logging.getLogger().removeHandler(self._log_handler)

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

    @property
    def helpers(self):
        """Nova's functional-test helpers (``_create_server`` & co.)."""
        return self._harness

    @property
    def glance(self):
        return self._harness.glance

    @property
    def log(self):
        """Nova's log so far (what ``--verbose`` streams)."""
        return self._harness.stdlog.logger.output

    def compute(self, host):
        return self._harness.computes[host]

    def conf_group(self, name):
        from nova import conf
        return getattr(conf.CONF, name)

    def set_job(self, server_id, outcome):
        """Script the libvirt job of the next live migration of a server."""
        self.jobs[server_id] = outcome

    def domain(self, host, server_id):
        conn = self.compute(host).driver._host.get_connection()
        return conn.lookupByUUIDString(server_id)

    def sdk_connection(self, microversion=None):
        """An openstacksdk Connection to this cloud's API, as admin.

        The in-process API has no Keystone; its stub reads the user, the
        project and the roles from headers, which the session adds.
        """
        from keystoneauth1 import session as ks_session
        from keystoneauth1 import noauth
        import openstack.connection

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
            compute_api_version=microversion or '2.1',
            image_api_version='2',
        ))

    # -- internals ----------------------------------------------------------

    def _start_compute(self, host):
        self._harness.start_compute(hostname=host)

    def _stream_log(self):
        if not self.verbose:
            return
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(
            '%(asctime)s %(levelname)s [%(name)s] %(message)s'))
        logging.getLogger().addHandler(handler)
        self._log_handler = handler

    def _migrate(self, domain, destination, params, flags):
        """``Domain.migrateToURI3`` of Nova's fake libvirt, per the job
        outcome scripted for the server (default: completes)."""
        server_id = domain.UUIDString()
        outcome = self.jobs.pop(server_id, JOB_COMPLETES)
        self.migrations.append((server_id, destination, flags, outcome))
        if outcome == JOB_FAILS:
            domain.fail_job()
            return
        if outcome == JOB_NEVER_CONVERGES:
            # The job stays VIR_DOMAIN_JOB_UNBOUNDED: the monitor sees a
            # migration that never finishes.
            return
        dest = urllib.parse.urlparse(destination).hostname
        self.compute(dest).driver._host.get_connection().createXML(
            params['destination_xml'],
            'fake-createXML-doesnt-care-about-flags')
        domain.complete_job()

    def _install_image_endpoint(self):
        from wsgi_intercept import interceptor
        intercept = interceptor.RequestsInterceptor(
            lambda: _ImageEndpoint(self._harness.glance),
            url=IMAGE_ENDPOINT.rsplit('/', 1)[0] + '/')
        intercept.install_intercept()
        self._harness.addCleanup(intercept.uninstall_intercept)


@contextlib.contextmanager
def _noop():
    yield


def _fixture_patch(target, replacement):
    import fixtures
    return fixtures.MonkeyPatch(target, replacement)


class _SdkEndpoints:
    """A Connection whose endpoint lookups work in the in-process cloud.

    Nova's ``OpenStackSDKFixture`` (part of every Nova test set-up) mocks
    ``openstack.proxy.Proxy.get_endpoint`` for Nova's own service clients;
    the real method is restored around each call of this connection's
    proxies.
    """

    _REAL_GET_ENDPOINT = None

    def __init__(self, connection):
        self._connection = connection

    def __getattr__(self, name):
        return getattr(self._connection, name)

    @contextlib.contextmanager
    def real_endpoints(self):
        import openstack.proxy
        from unittest import mock
        with mock.patch.object(openstack.proxy.Proxy, 'get_endpoint',
                               _real_get_endpoint()):
            yield self._connection


def _real_get_endpoint():
    from keystoneauth1 import adapter
    import openstack.proxy
    own = openstack.proxy.Proxy.__dict__.get('get_endpoint')
    if own is not None and not hasattr(own, 'assert_called'):
        return own
    return adapter.Adapter.get_endpoint


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
        if (environ['REQUEST_METHOD'] != 'GET' or len(parts) != 3 or
                parts[:2] != ['v2', 'images']):
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
