"""Benchmark: conductor calls per live migration, Nova's driver against
ours.

In Nova's in-process cloud, two computes run Nova's
``libvirt.LibvirtDriver`` and two run ``wrs_lm.LibvirtDriver``; the same
server (a policy in its flavor and its metadata) is live-migrated between
each pair, and the calls the computes make to nova-conductor are counted
(nova_wrs_lm.harness.conductor_calls: remotable object calls from compute
code, as nova-compute sends them over RPC).  Prints both counts, the
ratio, the calls by object and method where they differ, and which of the
instance's policy sources came with the RPC call to our driver.
tests/functional/test_conductor_calls.py asserts the counts are equal.

Run: .venv/bin/python benchmarks/conductor_calls.py [--rounds N]
"""

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import nova.tests.functional  # noqa: E402,F401 (Nova's monkey patching)

from nova_wrs_lm.harness import outside_runner  # noqa: E402
from nova_wrs_lm.virt import instance_policy  # noqa: E402
from tests.functional import test_conductor_calls  # noqa: E402

RESULTS = {'stock': [], 'ours': [], 'not_carried': []}


class _Bench(test_conductor_calls.ConductorCallsTest):
    ROUNDS = 3

    def test_bench(self):
        not_carried = instance_policy.not_carried

        def recording(instance):
            missing = not_carried(instance)
            RESULTS['not_carried'].append(missing)
            return missing

        self.useFixture(__import__('fixtures').MonkeyPatch(
            'nova_wrs_lm.virt.instance_policy.not_carried', recording))
        flavor_id = self._create_flavor(
            extra_spec={'hw:wrs:live_migration_max_downtime': '600'},
            **self.FLAVOR_SIZE)
        for _ in range(self.ROUNDS):
            for name in ('stock', 'ours'):
                RESULTS[name].append(self._migrate(name, flavor_id))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=3)
    _Bench.ROUNDS = parser.parse_args().rounds
    outside_runner.run_quietly(_Bench('test_bench'))
    stock = [len(calls) for calls in RESULTS['stock']]
    ours = [len(calls) for calls in RESULTS['ours']]
    print('conductor calls per live migration (compute side, %d '
          'migrations each)' % len(stock))
    print("Nova's libvirt.LibvirtDriver: %s" % stock)
    print('wrs_lm.LibvirtDriver:         %s' % ours)
    print('ratio ours/stock (mean): %.3f' % (
        (sum(ours) / len(ours)) / (sum(stock) / len(stock))))
    first_stock = collections.Counter(RESULTS['stock'][0])
    first_ours = collections.Counter(RESULTS['ours'][0])
    for key in sorted(set(first_stock) | set(first_ours)):
        if first_stock[key] != first_ours[key]:
            print('  differs: %s.%s stock %d, ours %d' % (
                key[0], key[1], first_stock[key], first_ours[key]))
    print('calls by object and method (first migration, stock): %s' % ', '
          .join('%s.%s x%d' % (k[0], k[1], n)
                for k, n in sorted(first_stock.items())))
    missing = sorted({m for found in RESULTS['not_carried'] for m in found})
    print('policy sources the instance did not come with (at each policy '
          'resolution of our driver, %d): %s' % (
              len(RESULTS['not_carried']), missing or 'none'))


if __name__ == '__main__':
    main()
