"""``GET /os-wrs-lm-history``: what happened to the instances of a host,
or to one server, from the records Nova keeps (``nova-wrs-lm history``).

Query parameters (at every microversion; admin by default, policy
``wrs_lm:history``):

* ``host``: the instances of that compute host, with the host's own
  events; and/or
* ``server``: one server, by id;
* ``since``: ISO 8601 (UTC when no offset is given), default 24 hours
  ago.

Answer: ``{"events": [...]}``, oldest first, each with the keys of
:data:`nova_wrs_lm.history_events.FIELDS`.  One call per host: the
database work (:mod:`nova_wrs_lm.history_db`) reads the records of all
the host's instances in a few queries.
"""

import datetime

import webob.exc
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova_wrs_lm import history_db
from nova_wrs_lm import history_events
from nova_wrs_lm.api import policies
from nova_wrs_lm.api.handlers import responses

LOG = logging.getLogger(__name__)

#: ``since`` when none is given.
DEFAULT_WINDOW = datetime.timedelta(hours=24)
_PARAMETERS = ('host', 'server', 'since')


def index(req):
    context = responses.authorized_context(req, policies.HISTORY)
    host, server, since = _parameters(req)
    now = timeutils.utcnow()
    try:
        records = history_db.read(context, since or now - DEFAULT_WINDOW,
                                  host=host, server=server)
    except history_db.NotFound as exc:
        raise webob.exc.HTTPNotFound(explanation=str(exc)) from None
    except db_exc.DBError:
        LOG.exception('History of host %s / server %s: the database read '
                      'failed.', host, server)
        raise webob.exc.HTTPServiceUnavailable(explanation=(
            'The history could not be read: the cell database did not '
            'answer. Try again.')) from None
    return responses.json_response(
        {'events': history_events.build(records, now, host=host)})


def _parameters(req):
    """(host, server, since as a naive UTC datetime or None); a 400
    naming the rule broken."""
    unknown = sorted(set(req.GET) - set(_PARAMETERS))
    if unknown:
        raise webob.exc.HTTPBadRequest(explanation=(
            'Invalid query parameter %s: the history takes only host, '
            'server and since.' % ', '.join(unknown)))
    values = {}
    for name in _PARAMETERS:
        found = req.GET.getall(name)
        if len(found) > 1:
            raise webob.exc.HTTPBadRequest(explanation=(
                'Query parameter %s given %d times: give it once.'
                % (name, len(found))))
        values[name] = found[0].strip() if found else None
        if found and not values[name]:
            raise webob.exc.HTTPBadRequest(explanation=(
                'Query parameter %s is empty.' % name))
    host, server, since = values['host'], values['server'], values['since']
    if host is None and server is None:
        raise webob.exc.HTTPBadRequest(explanation=(
            'Give host (the instances of a compute host) or server (one '
            'server, by id), or both.'))
    if server is not None and not uuidutils.is_uuid_like(server):
        raise webob.exc.HTTPBadRequest(explanation=(
            'Invalid server %r: it must be a server id (a UUID).' % server))
    if since is not None:
        try:
            since = timeutils.normalize_time(timeutils.parse_isotime(since))
        except ValueError:
            raise webob.exc.HTTPBadRequest(explanation=(
                'Invalid since %r: it must be a time in ISO 8601, e.g. '
                '2026-12-01T08:00:00Z.' % values['since'])) from None
    return host, server, since
