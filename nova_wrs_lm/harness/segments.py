"""Failover segments declared through Nova's API in the in-process cloud,
as an operator declares them (``openstack aggregate create / add host /
set --property``, doc/scheduler.md), for the tests and benchmarks.

``case`` is a test case of :mod:`.cloud` (Nova's ``_create_aggregate``
and ``api``).
"""

import dataclasses

from nova_wrs_lm.scheduler import segments


@dataclasses.dataclass(frozen=True)
class Declared:
    """The aggregate ids of one segment."""

    #: The aggregate carrying ``failover_segment`` (and the method).
    aggregate: int
    #: The one carrying ``failover_segment_reserved=true``, or None.
    reserved: int | None


def aggregate(case, name, hosts, metadata=None):
    """Creates aggregate ``name`` with ``hosts`` and ``metadata``; its id."""
    agg_id = case._create_aggregate(name)
    for host in hosts:
        case.api.add_host_to_aggregate(agg_id, host)
    if metadata:
        set_metadata(case, agg_id, metadata)
    return agg_id


def set_metadata(case, agg_id, metadata):
    case.api.post_aggregate_action(
        agg_id, {'set_metadata': {'metadata': metadata}})


def set_method(case, agg_id, method):
    """Sets the recovery method (a ``segments.RecoveryMethod``)."""
    set_metadata(case, agg_id, {segments.RECOVERY_METHOD.name: method.name})


def declare(case, name, hosts, reserved=(), method=None,
            reserved_carries_segment=False):
    """Segment ``name``: aggregate ``name`` with ``failover_segment=name``
    (and ``method``), holding ``hosts`` and the ``reserved`` hosts; for the
    reserved hosts, aggregate ``name-reserved`` with
    ``failover_segment_reserved=true``.

    With ``reserved_carries_segment``, the reserved hosts are not in
    aggregate ``name``: ``name-reserved`` carries ``failover_segment=name``
    too (the layout in which releasing a reserved host must keep it in
    its segment).
    """
    metadata = {segments.SEGMENT.name: name}
    if method is not None:
        metadata[segments.RECOVERY_METHOD.name] = method.name
    members = tuple(hosts) + (() if reserved_carries_segment
                              else tuple(reserved))
    main = aggregate(case, name, members, metadata)
    if not reserved:
        return Declared(main, None)
    metadata = {segments.RESERVED.name: 'true'}
    if reserved_carries_segment:
        metadata[segments.SEGMENT.name] = name
    return Declared(main, aggregate(case, name + '-reserved', reserved,
                                    metadata))
