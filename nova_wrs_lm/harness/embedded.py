"""The in-process cloud as a context manager: the demo's cloud.

:class:`EmbeddedCloud` runs :class:`nova_wrs_lm.harness.cloud.
LibvirtTestCase` outside a test runner (the case only holds the fixtures),
with the api-paste.ini carrying the ``wrs_lm`` filter and this package's
scheduler plugins, several computes, read-only image and block-storage
endpoints for openstacksdk, and Nova's log kept in memory (or streamed to
stderr with ``verbose``).  Its methods are the vocabulary of the demo's
steps: each is one API call, or one wait for what Nova answers.

Nova's harness is imported by :meth:`EmbeddedCloud.start`, not on import:
importing it monkey-patches the process with eventlet, which the other
commands of the CLI must not pay for.
"""

import contextlib
import logging
import sys
import time

from nova_wrs_lm.harness import outside_runner
from nova_wrs_lm.harness import settings
from nova_wrs_lm.harness import waits


class Answer:
    """Nova's answer to one request, whatever its status."""

    def __init__(self, response):
        self.status = response.status
        self.body = response.body if isinstance(response.body, dict) else {}
        self.message = None
        if self.status >= 400:
            try:
                self.message = next(iter(self.body.values()))['message']
            except (KeyError, StopIteration, TypeError):
                self.message = response.content


def _case_class(cloud):
    """The test case holding the cloud's fixtures (built on first start:
    Nova's harness is imported here)."""
    from nova_wrs_lm.harness import cloud as harness_cloud

    class _Case(harness_cloud.LibvirtTestCase):
        REQUIRES_LOCKING = True
        API_PASTE = cloud.api_paste or settings.NOVA_API_PASTE
        SPEED_UP = cloud.speed_up

        def runTest(self):
            """Never run: the object only holds the fixtures."""

        # unittest.TestCase.id: Nova names its thread pools after it.
        def id(self):
            return 'nova-wrs-lm-demo'

        # Wraps _IntegratedTestBase._setup_services (Nova 34.0.0, through
        # the harness's): nova.conf overrides first, progress lines around.
        def _setup_services(self):
            overrides = cloud.overrides
            if callable(overrides):
                overrides = overrides()
            for group, options in overrides.items():
                self.flags(group=group, **options)
            cloud.progress('sqlite databases, placement, in-memory '
                           'messaging and fake Neutron/Glance/Cinder ready')
            super()._setup_services()
            cloud.progress('API up (api-paste.ini: %s)' % cloud.api_paste)

        # Wraps TestCase.start_service (Nova 34.0.0, through the
        # harness's), timed for the progress line.
        def start_service(self, name, host=None, **kwargs):
            started = time.monotonic()
            where = ' on %s' % host if host else ''
            cloud.progress('starting %s%s' % (name, where))
            service = super().start_service(name, host=host, **kwargs)
            cloud.progress('  %s%s up (%.1f s)' % (
                name, where, time.monotonic() - started))
            return service

    return _Case


class EmbeddedCloud:
    """Nova's in-process cloud with this package's pieces installed.

    Use as a context manager; ``progress`` receives one line per service
    start.  ``overrides`` maps a nova.conf group to options set before the
    services start (``{'wrs_lm': {'host_down_instance_state': 'error'}}``),
    or a callable returning that mapping once Nova's options exist.
    ``speed_up`` is how many simulated seconds the migration monitors'
    clock runs per real second.
    """

    def __init__(self, hosts=('compute-1', 'compute-2'), verbose=False,
                 progress=None, overrides=None, speed_up=400):
        self.hosts = tuple(hosts)
        self.verbose = verbose
        self.progress = progress or (lambda line: None)
        self.overrides = overrides or {}
        self.speed_up = speed_up
        self.compute_driver = settings.WRS_DRIVER
        self.api_paste, self.api_filter = settings.find_api_paste()
        self._case = None
        self._stack = None

    # -- life cycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        self.progress('loading Nova (its functional-test services)')
        with outside_runner.quiet():
            case = _case_class(self)()
            from nova_wrs_lm.harness import sdk
        self._stack = contextlib.ExitStack()
        try:
            self._case = self._stack.enter_context(
                outside_runner.started(case, verbose=self.verbose))
            self._stream_log()
            sdk.install_image_endpoint(case)
            sdk.install_volume_endpoint(case)
            for host in self.hosts:
                case.start_compute(hostname=host)
        except BaseException:
            self.stop()
            raise
        self.progress('cloud ready: %d computes (%.1f s)' % (
            len(self.hosts), time.monotonic() - started))

    def stop(self):
        stack, self._stack = self._stack, None
        self._case = None
        if stack is not None:
            stack.close()

    # -- the API ------------------------------------------------------------

    @property
    def api(self):
        """Nova's API client, as admin, at the latest microversion."""
        return self._case.api

    def api_at(self, microversion):
        """An admin client pinned to ``microversion``."""
        from nova.tests.functional.api import client
        base = self._case.api_fixture.admin_api
        pinned = client.TestOpenStackClient(
            base.auth_user, base.base_url, project_id=base.project_id,
            roles=base.roles)
        pinned.microversion = microversion
        return pinned

    def request(self, method, uri, body, api=None):
        """One POST or PUT; Nova's :class:`Answer`, whatever its status."""
        api = api or self.api
        call = {'POST': api.api_post, 'PUT': api.api_put}[method]
        return Answer(call(uri, body, check_response_status=None))

    def flavor(self, name, extra_specs=None):
        """A new flavor (512 MB, 1 VCPU, 1 GB) with ``extra_specs``; its
        id."""
        flavor = self.api.post_flavor({'flavor': {
            'name': name, 'ram': 512, 'vcpus': 1, 'disk': 1}})
        if extra_specs:
            self.api.post_extra_spec(flavor['id'],
                                     {'extra_specs': extra_specs})
        return flavor['id']

    def image(self, name, properties):
        """A new public raw image with ``properties``; its id."""
        return self._case.glance.create(None, {
            'name': name, 'status': 'active', 'container_format': 'raw',
            'disk_format': 'raw', 'visibility': 'public',
            'properties': dict(properties)})['id']

    def boot(self, name, flavor_id, host=None, image_id=None,
             metadata=None):
        """Create a server (no network), on ``host`` when given; the server
        once ACTIVE."""
        server = self._case._build_server(
            name=name, flavor_id=flavor_id, image_uuid=image_id,
            networks='none')
        if host:
            server['host'] = host
        if metadata:
            server['metadata'] = dict(metadata)
        created = self.api.post_server({'server': server})
        return self.wait_for_server(created['id'], 'ACTIVE')

    def live_migrate(self, server_id, host):
        """``nova live-migration --block-migrate auto SERVER HOST``."""
        self.api.post_server_action(server_id, {'os-migrateLive': {
            'host': host, 'block_migration': 'auto'}})

    def evacuate(self, server_id):
        """``nova evacuate SERVER`` (the scheduler chooses the host)."""
        self.api.post_server_action(server_id, {'evacuate': {}})

    def service(self, host):
        """The nova-compute service of ``host``."""
        return [s for s in self.api.get_services(binary='nova-compute')
                if s['host'] == host][0]

    def failover_segment(self, name, hosts, reserved, metadata):
        """An aggregate ``name`` of ``hosts`` with ``metadata``, and one
        ``name-reserved`` of ``reserved`` with ``failover_segment_reserved
        = true``."""
        from nova_wrs_lm.scheduler import segments
        members = self.api.post_aggregate({'aggregate': {'name': name}})
        self.api.post_aggregate_action(members['id'], {'set_metadata': {
            'metadata': dict(metadata)}})
        spare = self.api.post_aggregate({'aggregate': {
            'name': name + '-reserved'}})
        self.api.post_aggregate_action(spare['id'], {'set_metadata': {
            'metadata': {segments.RESERVED.name: 'true'}}})
        for host in hosts:
            self.api.add_host_to_aggregate(members['id'], host)
        for host in reserved:
            self.api.add_host_to_aggregate(spare['id'], host)

    def wait_for_server(self, server_id, status, host=None):
        return waits.server(self.api, server_id, status, host)

    def wait_for_migration(self, server_id, statuses):
        return waits.migration(self.api, server_id, statuses)

    def sdk_connection(self, microversion=None):
        """An openstacksdk Connection to this cloud's API, as admin (see
        :func:`nova_wrs_lm.harness.sdk.connection`)."""
        from nova_wrs_lm.harness import sdk
        return sdk.connection(self._case.api_fixture, microversion)

    # -- what Nova's fakes saw ---------------------------------------------

    @property
    def glance(self):
        return self._case.glance

    @property
    def log(self):
        """Nova's log so far (what ``--verbose`` streams)."""
        return self._case.stdlog.logger.output

    @property
    def jobs(self):
        """The scripted libvirt migration jobs
        (:class:`~nova_wrs_lm.harness.migration_job.ScriptedJobs`)."""
        return self._case.jobs

    def migration_flags(self, server_id):
        """The libvirt flags of the server's last ``migrateToURI3``."""
        return self.jobs.calls[server_id]['flags']

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
