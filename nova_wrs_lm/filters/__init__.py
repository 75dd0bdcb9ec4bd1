"""Nova scheduler plugins for failover segments and reserved hosts.

``[filter_scheduler] available_filters`` may name
``nova_wrs_lm.filters.all_filters``; ``weight_classes`` may name
``nova_wrs_lm.filters.FailoverSegmentWeigher``.
"""

from nova_wrs_lm.filters import failover_segment_filter as _filter
from nova_wrs_lm.filters import failover_segment_weigher as _weigher

FailoverSegmentFilter = _filter.FailoverSegmentFilter
FailoverSegmentWeigher = _weigher.FailoverSegmentWeigher

__all__ = ['FailoverSegmentFilter', 'FailoverSegmentWeigher', 'all_filters']


def all_filters():
    """The filter classes of this package (for ``available_filters``)."""
    return [FailoverSegmentFilter]
