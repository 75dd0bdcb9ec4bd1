"""FailoverSegmentFilter over 1000 in-process host states, against Nova's
AggregateInstanceExtraSpecsFilter reading the same aggregates.

Cloud: 100 failover segments of 10 hosts (one aggregate each, with
``ssd=true`` for the baseline to match), one reserved host per segment
(its own aggregate), and an availability-zone aggregate per 100 hosts.
Every host passes the baseline; each request is a fresh RequestSpec, so
the filter's per-request work is measured every time.

For moves, the Migration and aggregate reads (one API-database and one
cell-database query per request in a real scheduler) are replaced by the
in-memory cloud: the figures are the filter's own work.

Run: .venv/bin/python benchmarks/segment_filter.py
"""

import pathlib
import statistics
import sys
import time
from unittest import mock

# The tree's package, not an older installed copy.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from nova import objects  # noqa: E402
from nova.scheduler import host_manager  # noqa: E402
from nova.scheduler import weights  # noqa: E402
from nova.scheduler.filters import aggregate_instance_extra_specs as nova_f  # noqa: E402
from oslo_utils.fixture import uuidsentinel as uuids  # noqa: E402

from nova_wrs_lm.scheduler import request  # noqa: E402
from nova_wrs_lm.scheduler import rules  # noqa: E402
from nova_wrs_lm.scheduler import segments  # noqa: E402
from nova_wrs_lm.scheduler.filters import failover_segment as segment_filter  # noqa: E402,E501
from nova_wrs_lm.scheduler.weights import failover_segment as segment_weigher  # noqa: E402,E501

HOSTS = 1000
SEGMENT_SIZE = 10
REPEAT = 200

objects.register_all()


def _cloud():
    aggregates = []
    names = ['host%04d' % i for i in range(HOSTS)]
    for first in range(0, HOSTS, SEGMENT_SIZE):
        members = names[first:first + SEGMENT_SIZE]
        seg = 'seg%03d' % (first // SEGMENT_SIZE)
        aggregates.append(objects.Aggregate(
            id=len(aggregates), name=seg, hosts=members, metadata={
                segments.SEGMENT.name: seg, 'ssd': 'true',
                segments.RECOVERY_METHOD.name: segments.RH_PRIORITY.name}))
        aggregates.append(objects.Aggregate(
            id=len(aggregates), name=seg + '-reserved', hosts=members[-1:],
            metadata={segments.RESERVED.name: 'true'}))
    for first in range(0, HOSTS, 100):
        aggregates.append(objects.Aggregate(
            id=len(aggregates), name='az%d' % first,
            hosts=names[first:first + 100],
            metadata={'availability_zone': 'az%d' % first}))
    states = []
    for name in names:
        state = host_manager.HostState(name, name, None)
        state.aggregates = [a for a in aggregates if name in a.hosts]
        states.append(state)
    return aggregates, states


def _spec():
    flavor = objects.Flavor(extra_specs={
        'aggregate_instance_extra_specs:ssd': 'true'})
    return objects.RequestSpec(instance_uuid=uuids.instance, ignore_hosts=None,
                               scheduler_hints={}, flavor=flavor)


def _median_ms(run, states):
    specs = [_spec() for _ in range(REPEAT)]
    times = []
    for spec in specs:
        start = time.perf_counter()
        run(states, spec)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _filter(cls):
    instance = cls()
    return lambda states, spec: list(instance.filter_all(states, spec))


def main():
    aggregates, states = _cloud()
    baseline = _median_ms(
        _filter(nova_f.AggregateInstanceExtraSpecsFilter), states)
    print('%d hosts, %d aggregates, %d requests per figure (median)'
          % (len(states), len(aggregates), REPEAT))
    print('AggregateInstanceExtraSpecsFilter      %8.3f ms  1.00x'
          % baseline)

    def row(label, run, op):
        with mock.patch.object(request, 'of_request', return_value=op), \
                mock.patch.object(rules, '_every_aggregate',
                                  return_value=aggregates):
            ms = _median_ms(run, states)
        print('%-38s %8.3f ms  %.2fx' % (label, ms, ms / baseline))

    run_filter = _filter(segment_filter.FailoverSegmentFilter)
    evacuation = request.Operation('evacuation', 'host0000')
    row('FailoverSegmentFilter, boot', run_filter, request.NEW_INSTANCE)
    row('FailoverSegmentFilter, evacuation', run_filter, evacuation)

    weigher = segment_weigher.FailoverSegmentWeigher()
    weighed = [weights.WeighedHost(state, 0.0) for state in states]
    row('FailoverSegmentWeigher, evacuation',
        lambda _states, spec: weigher.weigh_objects(weighed, spec),
        evacuation)


if __name__ == '__main__':
    main()
