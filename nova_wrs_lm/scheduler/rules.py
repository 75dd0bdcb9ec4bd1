"""The failover-segment rules of one scheduling request.

Worked out once per request (operation, source host, aggregates) and
shared by the filter and the weigher; each host is then a few dictionary
reads.
"""

import weakref

from nova import context as nova_context
from nova import objects
from oslo_log import log as logging

from nova_wrs_lm.scheduler import request
from nova_wrs_lm.scheduler import segments

LOG = logging.getLogger(__name__)

_by_request = weakref.WeakKeyDictionary()


class _NewInstance:
    """Boot or unshelve: reserved hosts keep their capacity free."""

    def __init__(self, op):
        self.operation = op
        self._reader = segments.HostReader()

    def rejects(self, host_state):
        found = self._reader.of(host_state.host, host_state.aggregates)
        if found.reserved:
            return ('reserved failover host of %s; new instances do not '
                    'go there' % _names(found.segments))
        return None

    def preference(self, host_state):
        return 0.0


class _Move:
    """A move: recovery stays inside the source host's segment(s)."""

    def __init__(self, op, model):
        self.operation = op
        self._model = model
        self._source = model.of(op.source_host)
        self._methods = {name: model.method(name)
                         for name in self._source.segments}

    def __str__(self):
        if not self._methods:
            return 'source host in no failover segment'
        return 'source in %s' % ', '.join(
            '%s (%s)' % (name, method.name)
            for name, method in sorted(self._methods.items()))

    def rejects(self, host_state):
        host = self._model.of(host_state.host)
        if not self._methods:
            if host.reserved:
                return ('reserved failover host of %s; the source host %s '
                        'is in no segment' % (_names(host.segments),
                                             self.operation.source_host))
            return None
        shared = host.segments & self._source.segments
        if not shared:
            return 'not in the failover segment of the source host (%s)' % (
                _names(self._source.segments))
        if any(self._methods[name].admits(host.reserved) for name in shared):
            return None
        return '%s host; recovery method of %s: %s' % (
            'reserved' if host.reserved else 'active', _names(shared),
            ', '.join(sorted({self._methods[n].name for n in shared})))

    def preference(self, host_state):
        host = self._model.of(host_state.host)
        shared = host.segments & self._source.segments
        return max((self._methods[name].preference(host.reserved)
                    for name in shared), default=0.0)


def _names(names):
    return ', '.join(sorted(names))


def _every_aggregate(spec_obj):
    context = getattr(spec_obj, '_context', None)
    context = (context.elevated() if context is not None
               else nova_context.get_admin_context())
    return objects.AggregateList.get_all(context)


def for_request(spec_obj, aggregates=None):
    """The rules of ``spec_obj``: ``rejects(host_state)`` returns the
    reason a host does not pass (or None), ``preference(host_state)`` its
    weight (0.0 or 1.0).

    ``aggregates(spec_obj)`` returns every aggregate (default: from
    Nova's API database).  Cached on the RequestSpec object, so that the
    filter and the weigher of one request share one look-up of the
    migration and aggregates.
    """
    key = (spec_obj.instance_uuid if 'instance_uuid' in spec_obj else None,
           tuple(spec_obj.ignore_hosts or ())
           if 'ignore_hosts' in spec_obj else ())
    cached = _by_request.get(spec_obj)
    if cached is not None and cached[0] == key:
        return cached[1]
    op = request.of_request(spec_obj)
    if op.is_move:
        read = aggregates or _every_aggregate
        rules = _Move(op, segments.Segments(read(spec_obj)))
        LOG.debug('Failover segments: instance %s, %s from %s, %s.',
                  key[0], op.kind, op.source_host, rules)
    else:
        rules = _NewInstance(op)
    _by_request[spec_obj] = (key, rules)
    return rules
