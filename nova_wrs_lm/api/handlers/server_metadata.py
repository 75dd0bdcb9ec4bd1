"""Instance metadata wherever a user sets it: ``nova meta`` (the
``/servers/{server_id}/metadata`` resource), server create and rebuild.
An invalid value of a live-migration key is refused with the spec table's
message; everything else goes to Nova."""

import webob.exc

from nova_wrs_lm.api import live_migration_keys
from nova_wrs_lm.api import request_body


def create_server(req):
    """``POST /servers``: ``server.metadata``."""
    return _check(req, lambda body: _metadata_of(body.get('server')))


def server_action(req, server_id):
    """``POST /servers/{server_id}/action``: ``rebuild.metadata`` (other
    actions carry no ``rebuild``)."""
    return _check(req, lambda body: _metadata_of(body.get('rebuild')))


def update_all(req, server_id):
    """``POST`` (merge) and ``PUT`` (replace)
    ``/servers/{server_id}/metadata``: ``metadata``."""
    return _check(req, lambda body: body.get('metadata'))


def update_item(req, server_id, key):
    """``PUT /servers/{server_id}/metadata/{key}``: ``meta``."""
    return _check(req, lambda body: body.get('meta'))


def _metadata_of(inner):
    return inner.get('metadata') if isinstance(inner, dict) else None


def _check(req, metadata_of):
    body = request_body.decode(req)
    if not isinstance(body, dict):
        return None  # Nova rejects the body itself
    message = live_migration_keys.metadata_error(metadata_of(body))
    if message:
        raise webob.exc.HTTPBadRequest(explanation=message)
    return None
