"""Scheduler filters of this package.

``[filter_scheduler] available_filters`` may name
``nova_wrs_lm.scheduler.filters.all_filters``, as Nova's own
``nova.scheduler.filters.all_filters``.
"""

from nova_wrs_lm.scheduler.filters import failover_segment


def all_filters():
    """The filter classes of this package (for ``available_filters``)."""
    return [failover_segment.FailoverSegmentFilter]
