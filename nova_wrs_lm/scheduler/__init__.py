"""Nova scheduler plugins: failover segments and reserved hosts.

Laid out as Nova's ``nova/scheduler``:

- ``filters/failover_segment.py``: :class:`FailoverSegmentFilter`, and
  ``filters.all_filters`` for ``[filter_scheduler] available_filters``;
- ``weights/failover_segment.py``: :class:`FailoverSegmentWeigher`, for
  ``[filter_scheduler] weight_classes``;
- ``request.py``: what a scheduling request is for (a new placement or a
  move, and from which host);
- ``segments.py``: failover segments as host-aggregate metadata declares
  them;
- ``rules.py``: the rules of one request, shared by the filter and the
  weigher.
"""
