"""The compute API calls of the host commands, over an openstacksdk
connection: data in, data out, no printing.

Plain REST through the SDK's compute adapter (``clouds.yaml``,
``--os-cloud``, ``OS_*``) at one fixed microversion, so that what is sent
does not depend on the SDK release: :data:`MICROVERSION` (2.84: instance
action events carry ``details``, the failure message an admin may read;
os-services is addressed by UUID from 2.53; ``instance_uuid`` filters
os-migrations from 2.59).  Every call raises
:class:`~nova_wrs_lm.cloud.connection.CloudError` with Nova's own message
when Nova refuses it.
"""

import re

from oslo_serialization import jsonutils

from nova_wrs_lm.cloud.connection import CloudError

MICROVERSION = '2.84'

#: Final statuses of a live migration record (Nova 34's
#: ``ComputeManager`` and conductor).
LIVE_FINAL = ('completed', 'failed', 'error', 'cancelled')
#: Final statuses of a cold migration record; ``finished`` waits for the
#: confirmation (``confirmed`` then).
COLD_FINAL = ('finished', 'confirmed', 'error', 'failed', 'reverted')


class Compute:
    """The calls, on one openstacksdk ``Connection``."""

    def __init__(self, conn):
        self._adapter = conn.compute

    # -- plumbing ---------------------------------------------------------

    def _call(self, method, url, body=None, params=None, ok=(200,)):
        kwargs = {'microversion': MICROVERSION, 'raise_exc': False}
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = params
        try:
            response = getattr(self._adapter, method)(url, **kwargs)
        except Exception as exc:  # keystoneauth connection errors, ...
            raise CloudError('%s %s: %s' % (method.upper(), url, exc)) \
                from None
        if response.status_code not in ok:
            raise CloudError('%s %s: %s' % (method.upper(), url,
                                            _fault(response)),
                             status_code=response.status_code)
        if not response.content:
            return None
        return response.json()

    # -- services -----------------------------------------------------------

    def compute_service(self, host):
        """The ``nova-compute`` service of ``host`` (a dict)."""
        services = self._call('get', '/os-services', params={
            'binary': 'nova-compute', 'host': host})['services']
        if not services:
            raise CloudError('no nova-compute service on host %s' % host)
        return services[0]

    def compute_services(self):
        """Every ``nova-compute`` service (dicts), in one call."""
        return self._call('get', '/os-services', params={
            'binary': 'nova-compute'})['services']

    def update_service(self, service_id, **body):
        return self._call('put', '/os-services/%s' % service_id,
                          body)['service']

    # -- host-down report (this package's os-hosts extension) ---------------

    def report_host_down(self, host, down=True):
        """``PUT /os-hosts/{host}`` with ``host_down_reported``: the
        answer's ``host`` (service state, instances marked down and
        skipped, cells)."""
        return self._call('put', '/os-hosts/%s' % host,
                          {'host_down_reported': bool(down)})['host']

    # -- aggregates ---------------------------------------------------------

    def aggregates(self):
        """Every host aggregate (with ``hosts`` and ``metadata``)."""
        return self._call('get', '/os-aggregates')['aggregates']

    def aggregate_action(self, aggregate_id, body):
        """``POST /os-aggregates/{id}/action`` (``add_host``,
        ``remove_host``, ``set_metadata``); the aggregate."""
        return self._call('post', '/os-aggregates/%s/action' % aggregate_id,
                          body)['aggregate']

    def create_aggregate(self, name):
        return self._call('post', '/os-aggregates',
                          {'aggregate': {'name': name}})['aggregate']

    # -- servers ------------------------------------------------------------

    def servers_on(self, host):
        """Every server on ``host`` (all projects), oldest first."""
        found, marker = [], None
        while True:
            params = {'all_tenants': 1, 'host': host, 'limit': 1000,
                      'sort_key': 'created_at', 'sort_dir': 'asc'}
            if marker:
                params['marker'] = marker
            page = self._call('get', '/servers/detail',
                              params=params)['servers']
            found.extend(page)
            if len(page) < 1000:
                return found
            marker = page[-1]['id']

    def all_servers(self):
        """Every server of every project (details), in pages of 1000."""
        found, marker = [], None
        while True:
            params = {'all_tenants': 1, 'limit': 1000}
            if marker:
                params['marker'] = marker
            page = self._call('get', '/servers/detail',
                              params=params)['servers']
            found.extend(page)
            if len(page) < 1000:
                return found
            marker = page[-1]['id']

    def server(self, server_id):
        return self._call('get', '/servers/%s' % server_id)['server']

    def action(self, server_id, body):
        """``POST /servers/{id}/action`` (202, 200 or 204)."""
        return self._call('post', '/servers/%s/action' % server_id, body,
                          ok=(200, 202, 204))

    # -- migrations ---------------------------------------------------------

    def migrations(self, server_id):
        """Every migration record of the server, oldest first."""
        found = self._call('get', '/os-migrations', params={
            'instance_uuid': server_id})['migrations']
        return sorted(found, key=lambda m: m['id'])

    def evacuations_from(self, host):
        """Every evacuation migration record whose source is ``host``,
        oldest first."""
        found = self._call('get', '/os-migrations', params={
            'source_compute': host,
            'migration_type': 'evacuation'})['migrations']
        return sorted(found, key=lambda m: m['id'])

    def running_migration(self, server_id, migration_id):
        """The in-progress live migration with its memory figures, or None
        once it is no longer in progress."""
        try:
            return self._call('get', '/servers/%s/migrations/%s' % (
                server_id, migration_id))['migration']
        except CloudError:
            return None

    def abort_migration(self, server_id, migration_id):
        self._call('delete', '/servers/%s/migrations/%s' % (
            server_id, migration_id), ok=(202,))

    # -- what happened ------------------------------------------------------

    def actions(self, server_id):
        """The server's instance actions, newest first."""
        return self._call('get', '/servers/%s/os-instance-actions'
                          % server_id)['instanceActions']

    def history(self, host=None, server=None, since=None):
        """``GET /os-wrs-lm-history`` (this package's API extension):
        the ``events`` of the instances of ``host`` or of the server
        ``server`` (an id) since ``since`` (ISO 8601 text), oldest
        first."""
        params = {k: v for k, v in (('host', host), ('server', server),
                                    ('since', since)) if v is not None}
        return self._call('get', '/os-wrs-lm-history',
                          params=params)['events']

    def servers_named(self, name):
        """The servers (all projects, deleted ones too) whose name is
        exactly ``name``."""
        found = []
        for deleted in (False, True):
            params = {'all_tenants': 1, 'name': '^%s$' % re.escape(name)}
            if deleted:
                params['deleted'] = True
            found.extend(s for s in self._call(
                'get', '/servers', params=params)['servers']
                if s.get('name') == name)
        return found

    def action_events(self, server_id, request_id):
        return self._call('get', '/servers/%s/os-instance-actions/%s' % (
            server_id, request_id))['instanceAction'].get('events') or []


def _fault(response):
    """Nova's fault message of an error response, else its status."""
    try:
        body = jsonutils.loads(response.text)
        (fault,) = body.values()
        return '%s (HTTP %d)' % (fault['message'], response.status_code)
    except Exception:
        return 'HTTP %d' % response.status_code
