"""Why no host when no filter ran: Placement returned no allocation
candidate.

``SchedulerManager.select_destinations`` (nova/scheduler/manager.py, Nova
34.0.0) raises ``NoValidHost(reason="")`` when Placement returns no
candidate for the request's resources (and traits), before any host
filter runs: the filters cannot say anything then.  This is the only part
of the feature the filter classes cannot reach, and the only Nova code it
wraps: :func:`install` (called when Nova loads
``nova_wrs_lm.scheduler.all_filters``, that is in nova-scheduler only)
wraps that method once, for schedulers whose enabled filters are the
explaining ones; the NoValidHost with the empty reason, and only that
one, gets a reason.  Everything else passes through unchanged.

``select_destinations`` is decorated with oslo.messaging's
``expected_exceptions(NoValidHost)``, which turns the exception into an
``ExpectedException`` holding it (``exc_info``); the wrapper does the
same with its own.
"""

import functools

import oslo_messaging as messaging
from nova import exception
from nova.scheduler import manager

#: The reason given when Placement returned no candidate.
REASON = ('Placement returned no allocation candidate for the requested '
          'resources; no host filter ran.')


def _explains(scheduler):
    from nova_wrs_lm.scheduler import explaining
    host_manager = getattr(scheduler, 'host_manager', None)
    return any(isinstance(f, explaining._Explaining)
               for f in getattr(host_manager, 'enabled_filters', ()))


def _placement_refused(exc):
    return (isinstance(exc, exception.NoValidHost) and
            exc.kwargs.get('reason') == '')


def _wrap(select_destinations):
    @functools.wraps(select_destinations)
    def wrapper(self, *args, **kwargs):
        try:
            return select_destinations(self, *args, **kwargs)
        except messaging.ExpectedException as expected:
            if not (_placement_refused(expected.exc_info[1]) and
                    _explains(self)):
                raise
        try:
            raise exception.NoValidHost(reason=REASON)
        except exception.NoValidHost:
            raise messaging.ExpectedException() from None
    wrapper.wrs_lm_no_candidates = True
    return wrapper


def install():
    """Wrap ``SchedulerManager.select_destinations`` (once)."""
    current = manager.SchedulerManager.select_destinations
    if not getattr(current, 'wrs_lm_no_candidates', False):
        manager.SchedulerManager.select_destinations = _wrap(current)
