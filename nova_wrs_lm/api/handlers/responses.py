"""What the handlers that answer a request themselves share: the caller's
context checked against a policy rule, and a JSON answer."""

import webob
import webob.exc
from nova import exception
from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova_wrs_lm.api import policies

LOG = logging.getLogger(__name__)


def authorized_context(req, rule):
    """The request's ``nova.context``, allowed ``rule``; a 500 when the
    filter runs before ``keystonecontext`` (no context), a 403 naming the
    rule when the policy refuses."""
    context = req.environ.get('nova.context')
    if context is None:
        LOG.error('The wrs_lm filter must come after keystonecontext '
                  'in the api-paste.ini pipeline.')
        raise webob.exc.HTTPInternalServerError(
            explanation='The API is misconfigured.')
    try:
        policies.authorize(context, rule)
    except exception.Forbidden as exc:
        raise webob.exc.HTTPForbidden(
            explanation=exc.format_message()) from None
    return context


def json_response(body):
    """A 200 with ``body`` as JSON."""
    response = webob.Response(status=200, content_type='application/json',
                              charset='UTF-8')
    response.text = jsonutils.dumps(body)
    return response
