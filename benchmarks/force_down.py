"""Benchmark: a host-down report in bulk vs the naive way.

For a host with 100, 1000 and 5000 instances (in-process, Nova's sqlite
test databases) it times ``nova_wrs_lm.host_down.report`` against the
naive way an operator would do it today: force the service down, then one
``reset-state``-style update per instance (load, set vm/power/task state,
``save(admin_state_reset=True)``) with its instance action and fault.
Prints the times and their ratio.  Asserts nothing.

Run: .venv/bin/python benchmarks/force_down.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import nova.tests.functional  # noqa: E402,F401 (Nova's monkey patching)
import sqlalchemy as sa  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova import test  # noqa: E402
from nova.compute import power_state  # noqa: E402
from nova.compute import vm_states  # noqa: E402
from nova.db.main import api as db_api  # noqa: E402
from nova.db.main import models  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402

from nova_wrs_lm import host_down  # noqa: E402
from nova_wrs_lm.harness import outside_runner  # noqa: E402

SIZES = (100, 1000, 5000)
HOST = 'bench-host'
RESULTS = []


def _insert_instances(ctxt, count):
    rows = [{'uuid': uuidutils.generate_uuid(), 'host': HOST,
             'node': HOST, 'vm_state': vm_states.ACTIVE,
             'power_state': power_state.RUNNING, 'task_state': None,
             'project_id': 'p', 'user_id': 'u', 'deleted': 0}
            for _ in range(count)]
    with db_api.get_context_manager(ctxt).writer.using(ctxt) as session:
        session.execute(sa.insert(models.Instance), rows)
    return [r['uuid'] for r in rows]


def _reset(ctxt):
    with db_api.get_context_manager(ctxt).writer.using(ctxt) as session:
        session.execute(sa.update(models.Instance).values(
            vm_state=vm_states.ACTIVE, power_state=power_state.RUNNING))
        session.execute(sa.update(models.Service).values(forced_down=False))


def _naive(ctxt, uuids):
    service = objects.Service.get_by_compute_host(ctxt, HOST)
    service.forced_down = True
    service.save()
    for uuid in uuids:
        instance = objects.Instance.get_by_uuid(ctxt, uuid)
        instance.vm_state = vm_states.STOPPED
        instance.power_state = power_state.SHUTDOWN
        instance.task_state = None
        instance.save(admin_state_reset=True)
        objects.InstanceAction.action_start(
            ctxt, uuid, host_down.ACTION, want_result=False)
        objects.InstanceFault(
            ctxt, instance_uuid=uuid, code=500, host=HOST,
            message='Compute host reported down', details='naive').create()


class _Bench(test.TestCase):

    def test_bench(self):
        admin = nova_context.get_admin_context()
        cell = self.cell_mappings['cell1']
        objects.HostMapping(admin, host=HOST, cell_mapping=cell).create()
        with nova_context.target_cell(admin, cell) as cctxt:
            objects.Service(cctxt, host=HOST, binary='nova-compute',
                            topic='compute').create()
            for size in SIZES:
                _reset(cctxt)
                with db_api.get_context_manager(cctxt).writer.using(
                        cctxt) as session:
                    session.execute(sa.delete(models.InstanceFault))
                    session.execute(sa.delete(models.InstanceAction))
                    session.execute(sa.delete(models.Instance))
                uuids = _insert_instances(cctxt, size)
                start = time.perf_counter()
                report = host_down.report(admin, HOST, True)
                bulk = time.perf_counter() - start
                assert report.instances_marked_down == size
                _reset(cctxt)
                start = time.perf_counter()
                _naive(cctxt, uuids)
                naive = time.perf_counter() - start
                RESULTS.append((size, bulk, naive))


def main():
    outside_runner.run_quietly(_Bench('test_bench'))
    print('force-down of one host (in-process sqlite): bulk report vs one '
          'reset-state-style update per instance')
    print('%10s %12s %12s %10s' % ('instances', 'bulk (ms)', 'naive (ms)',
                                   'speed-up'))
    for size, bulk, naive in RESULTS:
        print('%10d %12.1f %12.1f %9.1fx' % (size, bulk * 1000,
                                             naive * 1000, naive / bulk))


if __name__ == '__main__':
    main()
