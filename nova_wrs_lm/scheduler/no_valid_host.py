"""Why no host: the story of one filtering run, and the NoValidHost text
that tells it host by host.

The explaining filters (:mod:`nova_wrs_lm.scheduler.explaining`) note, for
each filter that removed hosts, the hosts it got and the hosts it kept
(references only: nothing is worked out while hosts remain).  When a
filter leaves no host, :func:`reason` names every host that entered the
run with the first filter that rejected it and that filter's detail, and
the hosts the request itself excluded (``RequestSpec.ignore_hosts``), at
most :data:`HOSTS_NAMED` of them, then "and N more".
"""

import threading
import weakref

from nova.i18n import _

from nova_wrs_lm.scheduler import request

#: Hosts named in the message; the others are counted.  Nova stores the
#: first 255 characters of a fault's message (the full text is in the
#: fault's details and the instance action event's traceback, for admins).
HOSTS_NAMED = 20

#: Nova's own reason (nova.scheduler.manager.SchedulerManager.
#: _ensure_sufficient_hosts, Nova 34.0.0), which ours extends.
NOT_ENOUGH = _('There are not enough hosts available.')

_runs = weakref.WeakKeyDictionary()
_current = threading.local()


class _Run:
    """The filtering of one RequestSpec for one instance index."""

    def __init__(self, index, hosts):
        self.index = index
        #: The hosts that entered the run, in Nova's order.
        self.hosts = hosts
        #: ``(filter, hosts it got, hosts it kept)``, for every filter that
        #: removed hosts (a ``None`` filter: one that is not explaining).
        self.steps = []
        #: What the last explaining filter passed on.
        self.last = hosts

    def continues_with(self, hosts):
        """Whether ``hosts`` is what this run passed on last (Nova hands
        the next filter ``list()`` of the previous filter's result), or a
        part of it (a filter that is not explaining ran in between)."""
        last = self.last
        if len(hosts) == len(last):
            return not hosts or (hosts[0] is last[0] and
                                 hosts[-1] is last[-1])
        if len(hosts) > len(last):
            return False
        kept = {id(h) for h in last}
        return all(id(h) in kept for h in hosts)


def set_index(index):
    """Note the instance index of the next ``filter_all`` call in this
    thread (Nova calls ``run_filter_for_index(index)`` just before it)."""
    _current.index = index


def _take_index():
    index = getattr(_current, 'index', None)
    _current.index = None
    return index


def note(spec_obj, host_filter, hosts, kept):
    """Record that ``host_filter`` got ``hosts`` and kept ``kept`` (two
    lists) for ``spec_obj``; returns the instance index of the call (None
    when Nova did not give one)."""
    index = _take_index()
    run = _runs.get(spec_obj)
    if run is None or run.index != index or not run.continues_with(hosts):
        run = _runs[spec_obj] = _Run(index, hosts)
    elif len(hosts) != len(run.last):
        run.steps.append((None, run.last, hosts))
    if len(kept) != len(hosts):
        run.steps.append((host_filter, hosts, kept))
    run.last = kept
    return index


def _first_rejections(run):
    """``[(host_state, filter)]``: each host the run removed, with the
    first filter that removed it, in the order the hosts entered."""
    first = {}
    for host_filter, got, kept in run.steps:
        kept_ids = {id(h) for h in kept}
        for host in got:
            if id(host) not in kept_ids and id(host) not in first:
                first[id(host)] = host_filter
    return [(host, first[id(host)]) for host in run.hosts
            if id(host) in first]


def _host_text(host_state, host_filter, spec_obj):
    name = host_state.host
    if host_state.nodename not in (None, host_state.host):
        name = '%s:%s' % (name, host_state.nodename)
    if host_filter is None:
        return '%s (a filter not from nova_wrs_lm.scheduler.all_filters)' % (
            name)
    detail = host_filter.rejection_detail(host_state, spec_obj)
    if detail:
        return '%s (%s: %s)' % (name, type(host_filter).__name__, detail)
    return '%s (%s)' % (name, type(host_filter).__name__)


def _excluded_by_request(spec_obj):
    """Texts of the hosts ``RequestSpec.ignore_hosts`` names (Nova strips
    them before any filter runs)."""
    ignored = (spec_obj.ignore_hosts or []) if 'ignore_hosts' in spec_obj \
        else []
    if not ignored:
        return []
    source = request.of_request(spec_obj).source_host
    texts = []
    for host in dict.fromkeys(ignored):
        if source is not None and host.lower() == source.lower():
            texts.append('%s (excluded by the request: the instance\'s own '
                         'host)' % host)
        else:
            texts.append('%s (excluded by the request: ignore_hosts)' % host)
    return texts


def _capped(texts, total):
    """``texts`` (the first :data:`HOSTS_NAMED` of ``total``), then how
    many more there are."""
    if total <= len(texts):
        return ', '.join(texts)
    return '%s and %d more' % (', '.join(texts), total - len(texts))


def reason(spec_obj):
    """The ``reason`` of the NoValidHost for ``spec_obj`` whose last run
    was left with no host: the hosts its filters rejected (by name), then
    those the request excluded.  Details are worked out for the hosts
    named only."""
    run = _runs.get(spec_obj)
    excluded = _excluded_by_request(spec_obj)
    if run is None or not run.hosts:
        texts = [_no_host_reached_the_filters(spec_obj)] + excluded
        return '%s %s' % (NOT_ENOUGH, _capped(texts[:HOSTS_NAMED],
                                              len(texts)))
    rejected = sorted(_first_rejections(run),
                      key=lambda pair: (pair[0].host,
                                        pair[0].nodename or ''))
    texts = [_host_text(host, host_filter, spec_obj)
             for host, host_filter in rejected[:HOSTS_NAMED]]
    texts.extend(excluded[:HOSTS_NAMED - len(texts)])
    return '%s %s' % (NOT_ENOUGH, _capped(texts,
                                          len(rejected) + len(excluded)))


def _no_host_reached_the_filters(spec_obj):
    destination = (spec_obj.requested_destination
                   if 'requested_destination' in spec_obj else None)
    host = (destination.host if destination is not None and
            'host' in destination else None)
    if host:
        return ('no host reached the filters (requested destination %s '
                'not among the candidates)' % host)
    return 'no host reached the filters'
