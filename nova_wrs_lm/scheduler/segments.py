"""Failover segments as operators declare them in host-aggregate metadata.

The three metadata keys and the four recovery methods are declared once,
below; the filter, the weigher and ``doc/scheduler.md`` read them from
here.  Parsing never raises: a value that breaks its key's rule is logged
(once) and treated as unset.  :class:`Segments` hands the same findings to
a ``report`` callable instead when given one (``nova-wrs-lm segment``
shows them as warnings).
"""

import dataclasses
import typing as ty

from oslo_log import log as logging

from nova_wrs_lm.spec_types import Boolean

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RecoveryMethod:
    """Which hosts of a segment take in instances moved out of it."""

    name: str
    #: Reserved hosts of the segment may receive the instance.
    to_reserved: bool
    #: Active (non-reserved) hosts of the segment may receive it.
    to_active: bool
    #: Among admitted hosts, reserved (True) or active (False) ones weigh
    #: more; None: no order.
    prefer_reserved: bool | None
    description: str

    def admits(self, reserved):
        return self.to_reserved if reserved else self.to_active

    def preference(self, reserved):
        """1.0 for the hosts this method tries first, else 0.0."""
        if self.prefer_reserved is None:
            return 0.0
        return 1.0 if reserved == self.prefer_reserved else 0.0


AUTO = RecoveryMethod(
    'auto', to_reserved=False, to_active=True, prefer_reserved=None,
    description='Any active host of the segment; reserved hosts stay free.')
RESERVED_HOST = RecoveryMethod(
    'reserved_host', to_reserved=True, to_active=False, prefer_reserved=None,
    description='Only the reserved hosts of the segment.')
AUTO_PRIORITY = RecoveryMethod(
    'auto_priority', to_reserved=True, to_active=True, prefer_reserved=False,
    description='Active hosts first, reserved hosts when no active host '
                'has room.')
RH_PRIORITY = RecoveryMethod(
    'rh_priority', to_reserved=True, to_active=True, prefer_reserved=True,
    description='Reserved hosts first, active hosts when no reserved host '
                'has room.')

#: Every recovery method by name, in documentation order.
METHODS = {m.name: m for m in (AUTO, RESERVED_HOST, AUTO_PRIORITY,
                               RH_PRIORITY)}
DEFAULT_METHOD = AUTO


def _segment_name(raw):
    name = str(raw).strip()
    if not name:
        raise ValueError
    return name


def _method(raw):
    return METHODS[str(raw).strip()]


_BOOLEAN = Boolean()


@dataclasses.dataclass(frozen=True)
class MetadataKey:
    """One aggregate metadata key: its name, meaning and rule."""

    name: str
    rule: str
    description: str
    parse: ty.Callable[[str], ty.Any]


SEGMENT = MetadataKey(
    'failover_segment', 'a non-empty name',
    'Puts the hosts of the aggregate in the named failover segment.',
    _segment_name)
RECOVERY_METHOD = MetadataKey(
    'failover_segment_recovery_method', 'one of ' + ', '.join(METHODS),
    'Recovery method of the segment named by `failover_segment` on the '
    'same aggregate (default `%s`).' % DEFAULT_METHOD.name, _method)
RESERVED = MetadataKey(
    'failover_segment_reserved', _BOOLEAN.rule(),
    'With `true`, the hosts of the aggregate are reserved hosts of every '
    'segment they belong to: new instances never go there.',
    _BOOLEAN.parse)

#: Every metadata key, in documentation order.
KEYS = (SEGMENT, RECOVERY_METHOD, RESERVED)

_logged = set()
_LOGGED_MAX = 4096


def _once(level, message, *args):
    """Log ``message % args`` unless the same text was logged before."""
    text = message % args
    if text in _logged:
        return
    if len(_logged) >= _LOGGED_MAX:
        _logged.clear()
    _logged.add(text)
    LOG.log(level, text)


def log_once(level, text, aggregate=None, segment=None, host=None):
    """The default ``report`` of the parsers: log ``text`` once.  The
    keywords name what the finding is about (an aggregate object, a
    segment name, a host name), for a ``report`` that sorts them."""
    _once(level, '%s', text)


def _read(aggregate, key, report=log_once):
    raw = aggregate.metadata.get(key.name)
    if raw is None:
        return None
    try:
        return key.parse(raw)
    except (ValueError, KeyError):
        report(logging.ERROR,
               'Aggregate %s (id %s): %s=%r ignored: it must be %s.' % (
                   aggregate.name, aggregate.id, key.name, raw, key.rule),
               aggregate=aggregate)
        return None


@dataclasses.dataclass(frozen=True)
class Membership:
    """What the aggregates say about one host."""

    segments: frozenset = frozenset()
    reserved: bool = False


NOT_IN_A_SEGMENT = Membership()


class _Facts(ty.NamedTuple):
    segment: str | None
    method: RecoveryMethod | None
    reserved: bool


def _facts(aggregate, report=log_once):
    segment = _read(aggregate, SEGMENT, report)
    method = _read(aggregate, RECOVERY_METHOD, report)
    if segment is None and method is not None:
        report(logging.ERROR,
               'Aggregate %s (id %s): %s ignored: the aggregate has no %s.'
               % (aggregate.name, aggregate.id, RECOVERY_METHOD.name,
                  SEGMENT.name), aggregate=aggregate)
    return _Facts(segment, method, bool(_read(aggregate, RESERVED, report)))


def _membership(host, names, reserved, report=log_once):
    if not names:
        if reserved:
            report(logging.WARNING,
                   'Host %s: %s=true has no effect: the host is in no '
                   'failover segment.' % (host, RESERVED.name), host=host)
        return NOT_IN_A_SEGMENT
    return Membership(frozenset(names), reserved)


class HostReader:
    """Memberships of hosts read from their own aggregates (the
    scheduler's ``HostState.aggregates``), each aggregate parsed once."""

    def __init__(self):
        self._facts = {}

    def of(self, host, aggregates):
        names = set()
        reserved = False
        for aggregate in aggregates:
            facts = self._facts.get(aggregate.id)
            if facts is None:
                facts = self._facts[aggregate.id] = _facts(aggregate)
            if facts.segment is not None:
                names.add(facts.segment)
            reserved = reserved or facts.reserved
        return _membership(host, names, reserved)


class Segments:
    """Hosts, segments and recovery methods read from every aggregate.

    Built once per request; lookups are then dictionary reads.  What the
    metadata gets wrong is logged once, or passed to ``report(level,
    text, aggregate=, segment=, host=)`` (see :func:`log_once`).
    """

    def __init__(self, aggregates, report=log_once):
        segments_of = {}
        reserved = set()
        methods = {}
        for aggregate in aggregates:
            facts = _facts(aggregate, report)
            if facts.reserved:
                reserved.update(aggregate.hosts)
            if facts.segment is None:
                continue
            for host in aggregate.hosts:
                segments_of.setdefault(host, set()).add(facts.segment)
            found = methods.setdefault(facts.segment, set())
            if facts.method is not None:
                found.add(facts.method)
        self._methods = {name: _one_method(name, found, report)
                         for name, found in methods.items()}
        self._hosts = {
            host: _membership(host, segments_of.get(host), host in reserved,
                              report)
            for host in reserved.union(segments_of)}

    def of(self, host):
        """The :class:`Membership` of ``host``."""
        return self._hosts.get(host, NOT_IN_A_SEGMENT)

    def method(self, segment):
        """The :class:`RecoveryMethod` of ``segment``."""
        return self._methods.get(segment, DEFAULT_METHOD)

    def names(self):
        """Every segment an aggregate names, sorted (with or without
        hosts)."""
        return sorted(self._methods)

    def hosts(self, segment):
        """The hosts of ``segment``, sorted."""
        return sorted(host for host, found in self._hosts.items()
                      if segment in found.segments)


def _one_method(segment, found, report=log_once):
    if not found:
        return DEFAULT_METHOD
    if len(found) > 1:
        report(logging.ERROR,
               'Failover segment %s: conflicting %s values (%s); using %s.'
               % (segment, RECOVERY_METHOD.name,
                  ', '.join(sorted(m.name for m in found)),
                  DEFAULT_METHOD.name), segment=segment)
        return DEFAULT_METHOD
    return next(iter(found))


def reference():
    """The Markdown tables of the keys and methods, for the docs."""
    lines = ['| Aggregate metadata key | Value | Meaning |',
             '| --- | --- | --- |']
    lines += ['| `%s` | %s | %s |' % (k.name, k.rule, k.description)
              for k in KEYS]
    lines += ['', '| Recovery method | Where a moved instance may go |',
              '| --- | --- |']
    lines += ['| `%s` | %s |' % (m.name, m.description)
              for m in METHODS.values()]
    return '\n'.join(lines) + '\n'
