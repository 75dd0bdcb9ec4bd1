"""The failover segments host by host, as the scheduler sees them
(``nova-wrs-lm segment list`` and ``segment show NAME``): seed 004's
``openstack segment host list S1 -c name -c reserved -c on_maintenance``
and the compute service list beside it, in one view.

Segments are host aggregates with metadata
(:mod:`nova_wrs_lm.scheduler.segments`).  :func:`read` makes three reads,
whatever the number of hosts: every aggregate, every ``nova-compute``
service, every server (all projects, in pages of 1000).  Then, for each
segment an aggregate names: its recovery method and its hosts, each with

* ``reserved``: as the scheduler reads it (``failover_segment_reserved``
  on one of its aggregates);
* ``on_maintenance``: its service is disabled with a ``maintenance:``
  reason (an operator's, ``host drain --for maintenance``'s, or the one
  ``host recover`` sets on the host it recovered);
* the service's ``status`` (enabled, disabled) and ``state`` (up, down),
  None for a host with no ``nova-compute`` service;
* ``instances``: the servers whose host it is, whatever their status.

And ``warnings``, of two kinds:

* what the scheduler plugins ignore: the findings of
  :class:`~nova_wrs_lm.scheduler.segments.Segments` itself, the text
  nova-scheduler logs (a value that breaks its key's rule, a recovery
  method on an aggregate without a segment, conflicting methods, a
  reserved host in no segment);
* what would defeat a recovery, read from the recovery method's table
  (:meth:`~nova_wrs_lm.scheduler.segments.RecoveryMethod.admits`): a
  segment with one host (or none); a method that admits no host of its
  segment (``reserved_host`` with no reserved host left, e.g. after a
  recovery released it; ``auto`` with every host reserved); an active
  host whose instances could go to no other host the method admits that is
  enabled and up (Nova's ``ComputeFilter`` passes no other).

A finding about an aggregate goes to the segment it names and to the
segments of its hosts; one about no segment (a reserved host in no
segment, a bad ``failover_segment`` value on an aggregate whose hosts are
in no segment) to :attr:`View.warnings`.  Reads only.
"""

import dataclasses

from nova_wrs_lm.scheduler import segments

#: A service disabled with a reason starting so (any case) is in
#: maintenance (:mod:`nova_wrs_lm.host_ops.drain`,
#: :data:`nova_wrs_lm.host_ops.recover.REASON_PREFIX`).
MAINTENANCE_PREFIX = 'maintenance:'


class UnknownSegment(Exception):
    """No aggregate names the segment; ``str()`` says so and lists the
    segments there are."""


@dataclasses.dataclass
class HostView:
    name: str
    reserved: bool
    on_maintenance: bool
    status: str | None
    state: str | None
    instances: int

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class SegmentView:
    name: str
    recovery_method: str
    hosts: list
    warnings: list

    def as_dict(self):
        return {'name': self.name, 'recovery_method': self.recovery_method,
                'hosts': [h.as_dict() for h in self.hosts],
                'warnings': list(self.warnings)}


@dataclasses.dataclass
class View:
    segments: list
    #: Findings about no segment in particular.
    warnings: list

    def as_dict(self):
        return {'segments': [s.as_dict() for s in self.segments],
                'warnings': list(self.warnings)}


class _Aggregate:
    """An aggregate of the API (a dict) as the parsers read Nova's
    objects."""

    def __init__(self, found):
        self.id = found.get('id')
        self.name = found.get('name')
        self.hosts = list(found.get('hosts') or ())
        self.metadata = dict(found.get('metadata') or {})


def on_maintenance(service):
    """True for a service disabled with a ``maintenance:`` reason."""
    reason = (service.get('disabled_reason') or '').strip().lower()
    return (service.get('status') == 'disabled' and
            reason.startswith(MAINTENANCE_PREFIX))


def _named(aggregate):
    """The segment the aggregate itself names, or None."""
    raw = aggregate.metadata.get(segments.SEGMENT.name)
    try:
        return None if raw is None else segments.SEGMENT.parse(raw)
    except ValueError:
        return None


def read(compute, name=None):
    """The :class:`View` of every segment, or of segment ``name`` only
    (:class:`UnknownSegment` when no aggregate names it).

    :param compute: a :class:`nova_wrs_lm.cloud.compute.Compute`
    """
    aggregates = [_Aggregate(a) for a in compute.aggregates()]
    services = {}
    for service in compute.compute_services():
        services.setdefault(service.get('host'), service)
    instances = {}
    for server in compute.all_servers():
        host = server.get('OS-EXT-SRV-ATTR:host')
        instances[host] = instances.get(host, 0) + 1
    return build(aggregates, services, instances, name)


def build(aggregates, services, instances, name=None):
    """:func:`read`'s work on what it read: ``aggregates`` (objects with
    ``id``, ``name``, ``hosts``, ``metadata``), ``services`` (host ->
    nova-compute service dict), ``instances`` (host -> count)."""
    findings = []
    model = segments.Segments(
        aggregates, report=lambda level, text, **about: findings.append(
            (text, about)))
    names = model.names()
    if name is not None and name not in names:
        raise UnknownSegment(
            'no failover segment %r: no aggregate has %s=%s (segments: %s)'
            % (name, segments.SEGMENT.name, name, ', '.join(names) or
               'none'))
    by_segment = {n: [] for n in names}
    general = []
    for text, about in findings:
        where = _where(model, about)
        for segment in sorted(where):
            by_segment[segment].append(text)
        if not where:
            general.append(text)
    views = []
    for segment in names if name is None else [name]:
        hosts = [_host(model, host, services, instances)
                 for host in model.hosts(segment)]
        method = model.method(segment)
        warnings = by_segment[segment]
        warnings += ['Host %s has no nova-compute service.' % h.name
                     for h in hosts if h.status is None]
        warnings += _recovery_warnings(segment, method, hosts)
        views.append(SegmentView(segment, method.name, hosts, warnings))
    return View(views, general)


def _where(model, about):
    """The segments a finding is about."""
    if about.get('segment') is not None:
        return {about['segment']}
    if about.get('host') is not None:
        return set(model.of(about['host']).segments)
    aggregate = about.get('aggregate')
    if aggregate is None:
        return set()
    found = {_named(aggregate)} - {None}
    for host in aggregate.hosts:
        found.update(model.of(host).segments)
    return found


def _host(model, host, services, instances):
    service = services.get(host) or {}
    return HostView(
        name=host, reserved=model.of(host).reserved,
        on_maintenance=on_maintenance(service) if service else False,
        status=service.get('status'), state=service.get('state'),
        instances=instances.get(host, 0))


def _kind(reserved):
    return 'reserved' if reserved else 'active'


def _recovery_warnings(segment, method, hosts):
    """What would defeat a recovery in the segment, by the method's
    table (see the module docstring)."""
    label = 'Failover segment %s (%s)' % (segment, method.name)
    if not hosts:
        return ['%s has no host: an aggregate names it, with no host in '
                'it.' % label]
    if len(hosts) == 1:
        return ['%s has one host (%s): when it fails, its instances have '
                'nowhere to go in the segment.' % (label, hosts[0].name)]
    if not any(method.admits(h.reserved) for h in hosts):
        wanted = 'reserved' if method.to_reserved else 'active'
        return ['%s: the method admits only %s hosts and no %s host is '
                'left: the instances of a failed host have nowhere to go.'
                % (label, wanted, wanted)]
    at_risk = [
        h.name for h in hosts
        if h.state == 'up' and (not h.reserved or h.instances) and
        not any(method.admits(o.reserved) and o.status == 'enabled' and
                o.state == 'up' for o in hosts if o is not h)]
    if not at_risk:
        return []
    admitted = sorted({_kind(r) for r in (False, True) if method.admits(r)})
    return ['%s: when %s fails, its instances have nowhere to go: no other '
            '%s host of the segment is enabled and up.' % (
                label, ' or '.join(at_risk), ' or '.join(admitted))]
