"""Nova-style JSON faults for the responses the filter writes itself.

Each function returns a WSGI application (Nova's own
``nova.api.openstack.wsgi.Fault``), so the body is exactly what Nova's
controllers return, e.g. ``{"badRequest": {"code": 400, "message": ...}}``.
"""

import webob.exc
from nova.api.openstack import wsgi


def bad_request(message):
    return wsgi.Fault(webob.exc.HTTPBadRequest(explanation=message))


def forbidden(message):
    return wsgi.Fault(webob.exc.HTTPForbidden(explanation=message))


def not_found(message):
    return wsgi.Fault(webob.exc.HTTPNotFound(explanation=message))


def from_http_error(error):
    """A webob ``HTTPException`` (e.g. 413 from the body-size limiter)
    rendered as a Nova fault."""
    return wsgi.Fault(error)
