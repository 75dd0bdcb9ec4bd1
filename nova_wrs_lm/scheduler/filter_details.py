"""Why one of Nova's filters rejected a host, where that is cheap to say.

Worked out only for a request that found no host, for the hosts the
message names, from what the filter read (Nova 34.0.0's filters of the
same names): no filter is run again.  A filter not listed here is named
without a detail.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def _compute(host_state, spec_obj):
    # ComputeFilter: the service is disabled, else it is down.
    service = host_state.service or {}
    if service.get('disabled'):
        why = service.get('disabled_reason')
        return 'service disabled (%s)' % why if why else 'service disabled'
    return 'service down'


def _group_name(group):
    name = group.name if 'name' in group else None
    if name:
        return name
    return group.uuid if 'uuid' in group else 'n/a'


def _affinity(host_state, spec_obj):
    # ServerGroupAffinityFilter: the host is not one of the group's hosts.
    group = spec_obj.instance_group
    hosts = sorted(set(group.hosts or ()))
    return 'server group %s is on %s' % (
        _group_name(group), ', '.join(hosts))


def _anti_affinity(host_state, spec_obj):
    # ServerGroupAntiAffinityFilter: the host has max_server_per_host
    # members of the group already.
    group = spec_obj.instance_group
    on_host = set(group.members or ()) & set(host_state.instances)
    limit = (group.rules or {}).get('max_server_per_host', 1)
    return 'runs %d of server group %s (at most %s a host)' % (
        len(on_host), _group_name(group), limit)


_DETAILS = {
    'ComputeFilter': _compute,
    'ServerGroupAffinityFilter': _affinity,
    'ServerGroupAntiAffinityFilter': _anti_affinity,
}


def of(filter_name, host_state, spec_obj):
    """The detail of ``filter_name``'s rejection of ``host_state``, or
    None.  Never raises: the message must be written whatever the
    request holds."""
    detail = _DETAILS.get(filter_name)
    if detail is None:
        return None
    try:
        return detail(host_state, spec_obj)
    except Exception:
        LOG.debug('No detail for %s on %s.', filter_name, host_state.host,
                  exc_info=True)
        return None
