"""Nova's filters and ours, each able to say why it rejected a host; a
request that filtering leaves with no host fails with a NoValidHost that
names every host and the first filter that rejected it.

Enabled with ``[filter_scheduler] available_filters =
nova_wrs_lm.scheduler.all_filters`` in place of
``nova.scheduler.filters.all_filters``; ``enabled_filters`` is unchanged.

The seam, and the Nova 34.0.0 code it relies on:

- ``HostManager.__init__`` (nova/scheduler/host_manager.py) loads
  ``available_filters`` through ``BaseLoader.get_matching_classes``
  (nova/loadables.py), which calls a function named there for its classes,
  and maps them by ``__name__``; ``_choose_host_filters`` then finds each
  ``enabled_filters`` name in that map.  A subclass of each filter with the
  same name is therefore what Nova runs, under the names it already has.
- ``BaseFilterHandler.get_filtered_objects`` (nova/filters.py) calls
  ``run_filter_for_index(index)`` and then ``filter_all(hosts, spec_obj)``
  on each enabled filter, with ``list()`` of the previous filter's result,
  and stops at the first filter that returns no host.  The subclasses
  override both (calling Nova's): the index is noted for the
  ``filter_all`` that follows, and ``filter_all`` notes which hosts its
  filter removed (:mod:`~nova_wrs_lm.scheduler.no_valid_host`).
- For the first instance of a request (index 0), a filter that leaves no
  host always ends in NoValidHost: ``SchedulerManager._schedule`` and
  ``_legacy_find_hosts`` (nova/scheduler/manager.py) break out of their
  loop with nothing claimed yet, and ``_ensure_sufficient_hosts`` raises
  ``NoValidHost(reason=_('There are not enough hosts available.'))``.
  That filter raises the same exception there instead, with the hosts in
  the reason; ``select_destinations`` (``expected_exceptions(NoValidHost)``)
  sends it to the conductor as Nova's own.  For a later instance of a
  multi-create, Nova must first release the instances already claimed:
  the filters let Nova raise its own exception then.
- When Placement returns no candidate, no filter runs:
  :mod:`~nova_wrs_lm.scheduler.no_candidates` gives that NoValidHost its
  reason (installed by :func:`all_filters`).
"""

from nova import exception
from nova.scheduler import filters as nova_filters
from oslo_log import log as logging

from nova_wrs_lm.scheduler import filter_details
from nova_wrs_lm.scheduler import no_candidates
from nova_wrs_lm.scheduler import no_valid_host
from nova_wrs_lm.scheduler.filters import failover_segment

LOG = logging.getLogger(__name__)


class _Explaining:
    """Mixed in before a filter class: records its rejections."""

    # Wraps nova.filters.BaseFilter.run_filter_for_index (Nova 34.0.0):
    # notes the index for the filter_all call that follows.
    def run_filter_for_index(self, index):
        runs = super().run_filter_for_index(index)
        if runs:
            no_valid_host.set_index(index)
        return runs

    # Wraps the filter's filter_all (nova.filters.BaseFilter.filter_all,
    # Nova 34.0.0, or the filter's override): the same hosts, as a list;
    # notes those removed, and raises NoValidHost when none is left for the
    # first instance.
    def filter_all(self, filter_obj_list, spec_obj):
        hosts = (filter_obj_list if isinstance(filter_obj_list, list)
                 else list(filter_obj_list))
        kept = super().filter_all(hosts, spec_obj)
        if kept is None:
            return None
        kept = list(kept)
        index = no_valid_host.note(spec_obj, self, hosts, kept)
        if not kept and index == 0:
            self._no_host_left(spec_obj)
        return kept

    def _no_host_left(self, spec_obj):
        reason = no_valid_host.reason(spec_obj)
        # What BaseFilterHandler.get_filtered_objects would have logged.
        LOG.info('Filter %s returned 0 hosts', type(self).__name__)
        LOG.info("Filtering removed all hosts for the request with instance "
                 "ID '%(uuid)s'. %(reason)s",
                 {'uuid': spec_obj.instance_uuid
                  if 'instance_uuid' in spec_obj else None,
                  'reason': reason})
        raise exception.NoValidHost(reason=reason)

    def rejection_detail(self, host_state, spec_obj):
        """Why this filter rejected ``host_state`` (None: not known)."""
        own = getattr(super(), 'rejection_detail', None)
        if own is not None:
            return own(host_state, spec_obj)
        return filter_details.of(type(self).__name__, host_state, spec_obj)


def _explaining(cls):
    return type(cls.__name__, (_Explaining, cls), {
        '__module__': __name__, '__qualname__': cls.__name__,
        '__doc__': cls.__doc__})


_classes = []


def all_filters():
    """Nova's filters (``nova.scheduler.filters.all_filters``) and this
    package's, as explaining subclasses of the same names."""
    no_candidates.install()
    if not _classes:
        found = nova_filters.all_filters() + [
            failover_segment.FailoverSegmentFilter]
        _classes.extend(_explaining(cls) for cls in found)
    return list(_classes)
