"""openstacksdk against the in-process cloud, as against a deployed one.

:func:`connection` is an admin Connection to the in-process compute API;
:func:`install_image_endpoint` serves the Glance fixture's images as a
read-only Glance v2 endpoint (Nova's harness has no Glance service), so
that openstacksdk reads image properties as it would from Glance;
:func:`install_volume_endpoint` likewise serves the Cinder fixture's
volumes as a read-only block-storage v3 endpoint.
"""

import contextlib
import json
from unittest import mock

import openstack.connection
import openstack.proxy
from keystoneauth1 import adapter
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from wsgi_intercept import interceptor

#: The in-process image endpoint.
IMAGE_ENDPOINT = 'http://image.wrs-lm-demo/v2'
#: The in-process block-storage endpoint (Cinder's URLs carry the project).
VOLUME_ENDPOINT = 'http://volume.wrs-lm-demo/v3'


def connection(api_fixture, microversion=None):
    """An openstacksdk Connection to the cloud's API, as admin.

    The in-process API has no Keystone; its stub reads the user, the
    project and the roles from headers, which the session adds.
    """
    admin = api_fixture.admin_api
    session = ks_session.Session(
        auth=noauth.NoAuth(),
        additional_headers={
            'X-Auth-User': admin.auth_user,
            'X-Auth-Project-Id': admin.project_id,
            'X-Roles': ','.join(admin.roles),
        })
    endpoint = api_fixture.base_url.rsplit('/', 1)[0]
    return _SdkEndpoints(openstack.connection.Connection(
        session=session,
        compute_endpoint_override=endpoint + '/v2.1',
        image_endpoint_override=IMAGE_ENDPOINT,
        block_storage_endpoint_override='%s/%s' % (VOLUME_ENDPOINT,
                                                   admin.project_id),
        compute_api_version=microversion or '2',
        image_api_version='2',
        block_storage_api_version='3',
    ))


def install_image_endpoint(case):
    """Serve ``case.glance``'s images at :data:`IMAGE_ENDPOINT` until the
    case's cleanups."""
    intercept = interceptor.RequestsInterceptor(
        lambda: _ImageEndpoint(case.glance),
        url=IMAGE_ENDPOINT.rsplit('/', 1)[0] + '/')
    intercept.install_intercept()
    case.addCleanup(intercept.uninstall_intercept)


def install_volume_endpoint(case):
    """Serve ``case.cinder``'s volumes at :data:`VOLUME_ENDPOINT` until the
    case's cleanups."""
    intercept = interceptor.RequestsInterceptor(
        lambda: _VolumeEndpoint(case.cinder),
        url=VOLUME_ENDPOINT.rsplit('/', 1)[0] + '/')
    intercept.install_intercept()
    case.addCleanup(intercept.uninstall_intercept)


class _SdkEndpoints:
    """A Connection whose endpoint lookups work in the in-process cloud.

    Nova's ``OpenStackSDKFixture`` (part of every Nova test set-up) mocks
    ``openstack.proxy.Proxy.get_endpoint`` for Nova's own service clients;
    :meth:`real_endpoints` gives the connection with the real method
    (``Proxy`` inherits it from keystoneauth's ``Adapter``) back.
    """

    def __init__(self, conn):
        self._connection = conn

    def __getattr__(self, name):
        return getattr(self._connection, name)

    @contextlib.contextmanager
    def real_endpoints(self):
        with mock.patch.object(openstack.proxy.Proxy, 'get_endpoint',
                               adapter.Adapter.get_endpoint):
            yield self._connection


class _ImageEndpoint:
    """``GET /v2/images/{id}`` of the Glance image API, read-only, over
    the Glance fixture's images.

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


class _VolumeEndpoint:
    """``GET /v3/{project_id}/volumes/{id}`` of the block-storage API,
    read-only, over the volumes created in the Cinder fixture
    (``CinderFixture.volumes``).

    The fixture's ``fake_get`` answers Nova for any volume id (it fakes
    the ones never created); this endpoint answers 404 for those, as
    Cinder does for a volume the caller's project cannot see.
    """

    def __init__(self, cinder):
        self._cinder = cinder

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        parts = [p for p in path.split('/') if p]
        reply = _ImageEndpoint._reply
        if environ['REQUEST_METHOD'] != 'GET':
            return reply(start_response, '405 Method Not Allowed',
                         {'message': 'read-only'})
        if len(parts) <= 2 and parts[:1] in ([], ['v3']):
            # The version document keystoneauth's discovery asks for
            # (with no microversions: openstacksdk then sends none).
            return reply(start_response, '200 OK', {'versions': [{
                'id': 'v3.0', 'status': 'CURRENT',
                'links': [{'rel': 'self',
                           'href': VOLUME_ENDPOINT + '/'}],
            }]})
        if len(parts) != 4 or parts[0] != 'v3' or parts[2] != 'volumes':
            return reply(start_response, '404 Not Found',
                         {'itemNotFound': {'message': 'not served: %s' %
                                           path, 'code': 404}})
        if parts[3] not in self._cinder.volumes:
            return reply(start_response, '404 Not Found', {'itemNotFound': {
                'message': 'Volume %s could not be found.' % parts[3],
                'code': 404}})
        volume = self._cinder.fake_get(None, parts[3])
        return reply(start_response, '200 OK', {'volume': _cinder_v3(
            volume)})


def _glance_v2(image):
    shown = {k: v for k, v in image.items()
             if k not in ('properties', 'deleted', 'deleted_at',
                          'is_public')}
    shown.update(image.get('properties') or {})
    return shown


def _cinder_v3(volume):
    # The fixture keeps Nova's view of a volume (display_name,
    # attach_status); Cinder's v3 API shows name and a bootable string.
    shown = {k: v for k, v in volume.items()
             if k not in ('display_name', 'display_description')}
    shown['name'] = volume.get('display_name')
    shown['description'] = volume.get('display_description')
    shown['bootable'] = 'true' if volume.get('bootable') else 'false'
    return shown
