"""Explaining filters (``available_filters = nova_wrs_lm.scheduler.
all_filters``) against Nova's own (``nova.scheduler.filters.all_filters``):
Nova's default ``enabled_filters`` over 1000 in-process host states, run
as Nova's scheduler runs them (``HostFilterHandler.get_filtered_objects``,
index 0).

- A request that finds hosts: 50 of the 1000 hosts have a disabled
  service (ComputeFilter removes them, so the explaining filters record a
  step), the others pass.  Each request is a fresh RequestSpec.  Nova's
  and the explaining filters alternate, request by request.
- A request no host passes: an affinity server group on a host not among
  the 1000 (ServerGroupAffinityFilter rejects every host).  Nova's filters
  return no host (Nova then raises a bare NoValidHost); the explaining
  ones raise NoValidHost with the message (20 hosts named, "and 980
  more").  The difference is the cost of the message; the cost of
  building it alone (``no_valid_host.reason``) is printed as well.

Prints the medians of 200 requests each and their ratios to Nova's in the
same run.  Asserts nothing.

Run: .venv/bin/python benchmarks/no_valid_host.py
"""

import pathlib
import statistics
import sys
import time

# The tree's package, not an older installed copy.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from nova import conf as nova_conf  # noqa: E402
from nova import exception  # noqa: E402
from nova import objects  # noqa: E402
from nova.scheduler import filters as nova_filters  # noqa: E402
from nova.scheduler import host_manager  # noqa: E402
from oslo_utils import timeutils  # noqa: E402
from oslo_utils.fixture import uuidsentinel as uuids  # noqa: E402

from nova_wrs_lm import scheduler  # noqa: E402
from nova_wrs_lm.scheduler import no_valid_host  # noqa: E402

HOSTS = 1000
DISABLED_EVERY = 20
REPEAT = 200

objects.register_all()
CONF = nova_conf.CONF
CONF([], project='nova')
# Nova's default enabled_filters.
ENABLED = list(CONF.filter_scheduler.enabled_filters)


def _states():
    now = timeutils.utcnow()
    states = []
    for i in range(HOSTS):
        name = 'host%04d' % i
        state = host_manager.HostState(name, name, None)
        state.service = {
            'host': name, 'binary': 'nova-compute', 'forced_down': False,
            'disabled': i % DISABLED_EVERY == 0,
            'disabled_reason': 'maintenance', 'created_at': now,
            'updated_at': now, 'last_seen_up': now}
        state.aggregates = []
        states.append(state)
    return states


def _spec(group=None):
    return objects.RequestSpec(
        instance_uuid=uuids.instance, ignore_hosts=None, force_hosts=None,
        force_nodes=None, scheduler_hints={}, instance_group=group,
        flavor=objects.Flavor(extra_specs={}),
        image=objects.ImageMeta.from_dict({'properties': {}}))


def _affinity_elsewhere():
    return objects.InstanceGroup(
        uuid=uuids.group, name='g', policy='affinity',
        policies=['affinity'], rules={}, members=[uuids.member],
        hosts=['elsewhere'])


def _filters(available):
    """The enabled filters as HostManager builds them from
    ``available_filters``."""
    handler = nova_filters.HostFilterHandler()
    by_name = {cls.__name__: cls
               for cls in handler.get_matching_classes([available])}
    return [by_name[name]() for name in ENABLED]


def _run(filters, states, spec):
    handler = nova_filters.HostFilterHandler()
    try:
        return handler.get_filtered_objects(filters, states, spec, 0)
    except exception.NoValidHost as exc:
        return exc


def _medians(variants, states, group=None):
    """Median seconds per request of each variant, alternating."""
    times = {name: [] for name in variants}
    for _ in range(REPEAT):
        for name, filters in variants.items():
            spec = _spec(group() if group else None)
            start = time.perf_counter()
            _run(filters, states, spec)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    states = _states()
    variants = {
        'nova': _filters('nova.scheduler.filters.all_filters'),
        'explaining': _filters('nova_wrs_lm.scheduler.all_filters'),
    }
    assert scheduler.all_filters()  # the seam loads
    print('%d host states (%d disabled), enabled_filters = %s; median of '
          '%d requests' % (HOSTS, HOSTS // DISABLED_EVERY, ','.join(ENABLED),
                           REPEAT))
    passed = _run(variants['explaining'], states, _spec())
    failed = _run(variants['explaining'], states,
                  _spec(_affinity_elsewhere()))
    print('  a request that finds hosts passes %d; one that finds none: '
          '%d characters of message' % (len(passed),
                                        len(failed.format_message())))
    for label, group in (('request that finds hosts', None),
                         ('request no host passes', _affinity_elsewhere)):
        medians = _medians(variants, states, group)
        base = medians['nova']
        print('%-26s Nova %8.3f ms  explaining %8.3f ms  %.3fx' % (
            label, base * 1000, medians['explaining'] * 1000,
            medians['explaining'] / base))
    message = _message_median(variants['explaining'], states)
    print('%-26s %8.3f ms, %.3fx of the last Nova figure' % (
        'building the message', message * 1000, message / base))


def _message_median(filters, states):
    """Median seconds of no_valid_host.reason() alone, for a request no
    host passed."""
    times = []
    for _ in range(REPEAT):
        spec = _spec(_affinity_elsewhere())
        _run(filters, states, spec)
        start = time.perf_counter()
        no_valid_host.reason(spec)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == '__main__':
    main()
