"""Nova's own objects for the unit tests: aggregates and host states."""

from nova import objects
from nova.scheduler import host_manager

objects.register_all()


def aggregate(agg_id, hosts, **metadata):
    return objects.Aggregate(id=agg_id, name='agg%d' % agg_id,
                             hosts=list(hosts), metadata=metadata)


def host_state(host, aggregates=()):
    state = host_manager.HostState(host, host, None)
    state.aggregates = [a for a in aggregates if host in a.hosts]
    return state


def request_spec(instance_uuid=None, ignore_hosts=None, context=None):
    spec = objects.RequestSpec(instance_uuid=instance_uuid,
                               ignore_hosts=ignore_hosts,
                               scheduler_hints={})
    spec._context = context
    return spec
