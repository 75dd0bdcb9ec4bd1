"""The ``wrs_lm`` paste filter: routes requests, does no work itself.

Placed after ``keystonecontext`` in Nova's ``/v2`` and ``/v2.1`` keystone
pipelines (see ``etc/nova/api-paste.ini``), it sends the requests of
:data:`_ROUTES` to their handler (:mod:`nova_wrs_lm.api.handlers`, one
module per resource), answers a ``webob.exc`` error a handler raises as
Nova's JSON fault, and passes everything else to Nova untouched.
"""

import re

import webob.dec
import webob.exc
from nova.api import wsgi as base_wsgi
from nova.api.openstack import wsgi

from nova_wrs_lm.api.handlers import flavor_extra_specs
from nova_wrs_lm.api.handlers import history
from nova_wrs_lm.api.handlers import os_hosts
from nova_wrs_lm.api.handlers import server_metadata

#: (method, path as Nova's router sees it, handler); the first match wins.
_ROUTES = (
    ('PUT', '/os-hosts/{host_name}', os_hosts.update),
    ('GET', '/os-wrs-lm-history', history.index),
    ('POST', '/servers', server_metadata.create_server),
    ('POST', '/servers/{server_id}/action', server_metadata.server_action),
    # The legacy route Nova 34 still serves with its servers controller
    # (nova/api/openstack/compute/routes.py: volumes_boot_controller).
    ('POST', '/os-volumes_boot', server_metadata.create_server),
    ('POST', '/os-volumes_boot/{server_id}/action',
     server_metadata.server_action),
    ('POST', '/servers/{server_id}/metadata', server_metadata.update_all),
    ('PUT', '/servers/{server_id}/metadata', server_metadata.update_all),
    ('PUT', '/servers/{server_id}/metadata/{key}',
     server_metadata.update_item),
    ('POST', '/flavors/{flavor_id}/os-extra_specs',
     flavor_extra_specs.create),
    ('PUT', '/flavors/{flavor_id}/os-extra_specs/{key}',
     flavor_extra_specs.update),
)


def _pattern(path):
    """``path`` with its ``{name}`` segments as named groups, after an
    optional project id and before an optional trailing slash."""
    return re.compile(r'^(?:/[^/]+)?' +
                      re.sub(r'\{(\w+)\}', r'(?P<\1>[^/]+)', path) + r'/?$')


_TABLE = tuple((method, _pattern(path), handler)
               for method, path, handler in _ROUTES)


def _path(req):
    """The request's path as text, or None when its bytes are not UTF-8.

    Read from the WSGI environ, not ``req.path_info``: WebOb decodes that
    as UTF-8 and raises ``UnicodeDecodeError``, which Nova's fault wrapper
    cannot answer (a non-JSON 500) where Nova alone answers 404.  None of
    our routes has such a path, so such a request goes to Nova untouched.
    """
    raw = req.environ.get('PATH_INFO', '')
    try:
        return raw.encode('latin-1').decode('utf-8')
    except UnicodeError:
        return None


class _Filter(base_wsgi.Middleware):

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        method, path = req.method, _path(req)
        if path is None:
            return self.application  # not a path of ours: Nova answers
        for route_method, pattern, handler in _TABLE:
            if method != route_method:
                continue
            match = pattern.match(path)
            if match:
                try:
                    response = handler(req, **match.groupdict())
                except webob.exc.HTTPException as error:
                    return wsgi.Fault(error)
                return self.application if response is None else response
        return self.application


def filter_factory(global_conf, **local_conf):
    """Entry point of ``paste.filter_factory`` (``egg:nova-wrs-lm#wrs_lm``).
    """
    def _factory(app):
        return _Filter(app)
    return _factory
