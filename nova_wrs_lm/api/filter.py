"""The ``wrs_lm`` paste filter: routes requests, does no work itself.

Placed after ``keystonecontext`` in Nova's ``/v2`` and ``/v2.1`` keystone
pipelines (see ``etc/nova/api-paste.ini``), it

* answers ``PUT /os-hosts/{host_name}`` when the body carries
  ``host_down_reported`` (:mod:`nova_wrs_lm.host_down`), at any microversion;
* rejects, with the spec table's message, an invalid live-migration value
  in instance metadata (``/servers/{id}/metadata[/{key}]``), server create
  and rebuild, and flavor extra specs below microversion 2.86, where Nova
  itself does not validate them (:mod:`.metadata_validation`).

Everything else, and every request whose body is not JSON Nova would
read, goes to Nova untouched.
"""

import re

import microversion_parse
import nova.conf
import webob
import webob.dec
import webob.exc
from nova import exception
from nova.api import wsgi as base_wsgi
from nova.api.openstack import api_version_request
from nova.api.openstack import wsgi
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_wrs_lm import conf  # noqa: F401 (registers [wrs_lm])
from nova_wrs_lm.api import faults
from nova_wrs_lm import host_down as force_down
from nova_wrs_lm.api import metadata_validation
from nova_wrs_lm.api import policies
from nova_wrs_lm.api import schemas
from nova_wrs_lm.spec_types import Boolean

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

#: First microversion at which Nova validates flavor extra specs itself.
_NOVA_VALIDATES_EXTRA_SPECS = api_version_request.APIVersionRequest('2.86')

# Paths as Nova's router sees them, with or without the project id.
_PROJECT = r'^(?:/[^/]+)?'
_ID = r'/([^/]+)'


def _path(pattern):
    return re.compile(_PROJECT + pattern + r'/?$')


def _metadata_under(name):
    """Where server create (``server``) and rebuild (``rebuild``) bodies
    carry the user's metadata."""
    def find(body):
        inner = body.get(name)
        return inner.get('metadata') if isinstance(inner, dict) else None
    return find


_BOOLEAN = Boolean()

_METADATA = 'metadata'
_EXTRA_SPECS = 'extra_specs'

# (method, path, where the user's items are in the body, which rule)
_VALIDATED = (
    ('POST', _path('/servers'), _metadata_under('server'), _METADATA),
    ('POST', _path('/servers' + _ID + '/action'), _metadata_under('rebuild'),
     _METADATA),
    ('POST', _path('/servers' + _ID + '/metadata'),
     lambda body: body.get('metadata'), _METADATA),
    ('PUT', _path('/servers' + _ID + '/metadata'),
     lambda body: body.get('metadata'), _METADATA),
    ('PUT', _path('/servers' + _ID + '/metadata' + _ID),
     lambda body: body.get('meta'), _METADATA),
    ('POST', _path('/flavors' + _ID + '/os-extra_specs'),
     lambda body: body.get('extra_specs'), _EXTRA_SPECS),
    ('PUT', _path('/flavors' + _ID + '/os-extra_specs' + _ID),
     lambda body: body, _EXTRA_SPECS),
)
_OS_HOST = _path('/os-hosts' + _ID)


class _Filter(base_wsgi.Middleware):

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        method, path = req.method, req.path_info
        if method == 'PUT':
            match = _OS_HOST.match(path)
            if match:
                return self._os_host(req, match.group(1))
        for rule_method, pattern, items_of, rule in _VALIDATED:
            if method == rule_method and pattern.match(path):
                return self._validated(req, items_of, rule)
        return self.application

    def _os_host(self, req, host):
        body = _json_body(req)
        if isinstance(body, webob.exc.HTTPException):
            return faults.from_http_error(body)
        if not schemas.is_host_down_report(body):
            return self.application  # Nova's own os-hosts update
        try:
            down = _BOOLEAN.parse(schemas.validate_host_down_report(body))
        except schemas.InvalidBody as exc:
            return faults.bad_request(str(exc))
        context = req.environ.get('nova.context')
        if context is None:
            LOG.error('The wrs_lm filter must come after keystonecontext '
                      'in the api-paste.ini pipeline.')
            return faults.from_http_error(webob.exc.HTTPInternalServerError(
                explanation='The API is misconfigured.'))
        try:
            policies.authorize(context, policies.HOST_DOWN_REPORTED)
        except exception.Forbidden as exc:
            return faults.forbidden(exc.format_message())
        try:
            report = force_down.report(
                context, host, down, CONF.wrs_lm.host_down_instance_state)
        except exception.HostNotFound as exc:
            return faults.not_found(exc.format_message())
        return _json_response({'host': {
            'host': report.host,
            'host_down_reported': report.host_down_reported,
            'status': report.status,
            'instances_marked_down': report.instances_marked_down}})

    def _validated(self, req, items_of, rule):
        if rule == _EXTRA_SPECS and not _below_2_86(req):
            return self.application  # Nova validates with our validators
        body = _json_body(req)
        if isinstance(body, webob.exc.HTTPException):
            return faults.from_http_error(body)
        if not isinstance(body, dict):
            return self.application  # Nova rejects the body itself
        items = items_of(body)
        if rule == _METADATA:
            message = metadata_validation.metadata_error(items)
        else:
            message = metadata_validation.extra_specs_error(items)
        if message:
            return faults.bad_request(message)
        return self.application


def _json_body(req):
    """The decoded body, or None when it is not JSON; the webob HTTP error
    to answer with when Nova would refuse the request for its content type
    (or the size limiter refuses its length)."""
    try:
        # Nova's Resource reads the body as JSON when the content type is
        # absent, text/plain or one of its JSON types, and answers 415 for
        # others -- after routes' middleware has parsed form content types,
        # which fails with a 500 on e.g. "multipart/form-data" without a
        # boundary.  The same 415 is answered here first.
        req.get_content_type()
    except exception.InvalidContentType:
        return webob.exc.HTTPUnsupportedMediaType(
            explanation='Unsupported Content-Type')
    try:
        raw = req.body
    except webob.exc.HTTPException as exc:
        return exc
    if not raw:
        return None
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        # Nova's Resource._process_stack decodes the body as UTF-8 to log
        # it and fails with a 500; what it means to answer is this.
        return webob.exc.HTTPBadRequest(explanation='Malformed request body')
    try:
        return jsonutils.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None  # Nova answers "Malformed request body" itself


def _below_2_86(req):
    """Whether Nova will treat ``req`` as older than 2.86.  An unparsable
    version counts as not below: Nova rejects the request itself."""
    script = req.script_name.rstrip('/')
    if script.endswith('/v2'):
        return True  # legacy v2: LegacyV2CompatibleWrapper drops versions
    try:
        text = microversion_parse.get_version(
            req.headers, service_type='compute',
            legacy_headers=[wsgi.LEGACY_API_VERSION_REQUEST_HEADER])
        if text is None:
            version = api_version_request.APIVersionRequest(
                api_version_request.DEFAULT_API_VERSION)
        elif text == 'latest':
            return False
        else:
            version = api_version_request.APIVersionRequest(text)
    except (ValueError, TypeError, exception.InvalidAPIVersionString):
        return False
    return version < _NOVA_VALIDATES_EXTRA_SPECS


def _json_response(body):
    response = webob.Response(status=200, content_type='application/json',
                              charset='UTF-8')
    response.text = jsonutils.dumps(body)
    return response


def filter_factory(global_conf, **local_conf):
    """Entry point of ``paste.filter_factory`` (``egg:nova-wrs-lm#wrs_lm``).
    """
    def _factory(app):
        return _Filter(app)
    return _factory
