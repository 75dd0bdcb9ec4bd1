"""Nova scheduler plugins: failover segments and reserved hosts.

``all_filters`` (for ``[filter_scheduler] available_filters``, in place of
``nova.scheduler.filters.all_filters``): Nova's filters and ours, under
their own names, each able to say why it rejected a host, so that a
request no host passes fails with a NoValidHost naming each host and the
filter that rejected it (``explaining.py``, ``no_valid_host.py``,
``filter_details.py``).

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


def all_filters():
    """Nova's filters and this package's, each able to say why it
    rejected a host (see :mod:`nova_wrs_lm.scheduler.explaining`)."""
    # Imported here: importing this package must not import Nova's
    # scheduler (the harness imports Nova only after eventlet's patching).
    from nova_wrs_lm.scheduler import explaining
    return explaining.all_filters()
