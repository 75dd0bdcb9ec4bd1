"""``PUT /os-hosts/{host_name}`` with ``host_down_reported``: a host-down
report, answered at every microversion.  Any other os-hosts update goes to
Nova's own controller."""

import nova.conf
import webob.exc
from nova import exception
from oslo_log import log as logging
from oslo_utils import strutils

from nova_wrs_lm import conf  # noqa: F401 (registers [wrs_lm])
from nova_wrs_lm import host_down
from nova_wrs_lm.api import policies
from nova_wrs_lm.api import request_body
from nova_wrs_lm.api import schemas
from nova_wrs_lm.api.handlers import responses

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF


def update(req, host_name):
    """Report ``host_name`` down or up (see :mod:`nova_wrs_lm.host_down`);
    None for a body that is not a host-down report."""
    body = request_body.decode(req)
    if not schemas.is_host_down_report(body):
        return None
    try:
        value = schemas.validate_host_down_report(body)
    except schemas.InvalidBody as exc:
        raise webob.exc.HTTPBadRequest(explanation=str(exc)) from None
    # As Nova's os-services parses ``forced_down`` once its schema has
    # passed; the schema admits only spellings strict parsing accepts.
    down = strutils.bool_from_string(value, strict=True)
    context = responses.authorized_context(req, policies.HOST_DOWN_REPORTED)
    try:
        report = host_down.report(
            context, host_name, down, CONF.wrs_lm.host_down_instance_state)
    except exception.HostNotFound as exc:
        raise webob.exc.HTTPNotFound(
            explanation=exc.format_message()) from None
    except host_down.EvacuationsNotCompleted as exc:
        # 400, as Nova's os-services answers it (a TODO there: 409).
        raise webob.exc.HTTPBadRequest(
            explanation=exc.format_message()) from None
    except host_down.ReportIncomplete as exc:
        # A cell's database failed: the message says which cells were
        # changed and that repeating the request completes the report.
        raise webob.exc.HTTPServiceUnavailable(explanation=str(exc)) from None
    return responses.json_response({'host': {
        'host': report.host,
        'host_down_reported': report.host_down_reported,
        'status': report.status,
        'instances_marked_down': report.instances_marked_down,
        'instances_skipped': list(report.instances_skipped),
        'cells': [cell.as_dict() for cell in report.cells]}})

