"""Flavor extra specs below microversion 2.86 (and on the legacy ``/v2``
endpoint), where Nova does not validate them: an invalid value of a
live-migration key is refused with the message Nova's validators (this
package's, :mod:`nova_wrs_lm.extra_specs`) give from 2.86 on."""

import webob.exc
from nova.api.openstack import api_version_request

from nova_wrs_lm.api import live_migration_keys
from nova_wrs_lm.api import microversion
from nova_wrs_lm.api import request_body

#: First microversion at which Nova validates flavor extra specs itself.
_NOVA_VALIDATES = api_version_request.APIVersionRequest('2.86')


def create(req, flavor_id):
    """``POST /flavors/{flavor_id}/os-extra_specs``: ``extra_specs``."""
    return _check(req, lambda body: body.get('extra_specs'))


def update(req, flavor_id, key):
    """``PUT /flavors/{flavor_id}/os-extra_specs/{key}``: the body."""
    return _check(req, lambda body: body)


def _check(req, extra_specs_of):
    if not microversion.is_below(req, _NOVA_VALIDATES):
        return None  # Nova validates, with our validators
    body = request_body.decode(req)
    if not isinstance(body, dict):
        return None  # Nova rejects the body itself
    message = live_migration_keys.extra_specs_error(extra_specs_of(body))
    if message:
        raise webob.exc.HTTPBadRequest(explanation=message)
    return None
