"""FailoverSegmentFilter: keeps moves inside the source host's failover
segment and keeps new instances off reserved failover hosts."""

from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils
from oslo_log import log as logging

from nova_wrs_lm.scheduler import rules

LOG = logging.getLogger(__name__)


class FailoverSegmentFilter(filters.BaseHostFilter):
    """Pass the hosts the failover-segment rules allow for the request."""

    # Aggregates and the operation do not change between the instances of
    # one request.
    run_filter_once_per_request = True

    RUN_ON_REBUILD = False

    def host_passes(self, host_state, spec_obj):
        return self._passes(rules.for_request(spec_obj), host_state)

    # nova.filters.BaseFilter.filter_all (Nova 34.0.0) calls _filter_one
    # per host; this works the request's rules out once first.
    def filter_all(self, filter_obj_list, spec_obj):
        if scheduler_utils.request_is_rebuild(spec_obj):
            return list(filter_obj_list)
        request = rules.for_request(spec_obj)
        return [host_state for host_state in filter_obj_list
                if self._passes(request, host_state)]

    @staticmethod
    def _passes(request, host_state):
        reason = request.rejects(host_state)
        if reason is not None:
            LOG.debug('%(host)s fails failover segment rules: %(reason)s',
                      {'host': host_state.host, 'reason': reason})
            return False
        return True
