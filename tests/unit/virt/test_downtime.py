"""The downtime ramp: reaches the instance's max at two thirds of its
timeout, is Nova's own schedule (capped) without a timeout, never exceeds
the max."""

from unittest import mock

import testtools
from hypothesis import given
from hypothesis import strategies as st
from nova.virt.libvirt import migration as libvirt_migrate

from nova_wrs_lm import config_loader
from nova_wrs_lm.virt import downtime


def _conf(**libvirt):
    conf = config_loader.load()
    for name, value in libvirt.items():
        conf.set_override(name, value, group='libvirt')
    return conf


class RampTest(testtools.TestCase):

    def test_reaches_max_at_two_thirds_of_the_timeout(self):
        steps = downtime.steps(1000, 120, _conf())
        self.assertEqual(11, len(steps))
        self.assertEqual((0, 100), steps[0])
        self.assertEqual((80, 1000), steps[-1])
        self.assertEqual([0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80],
                         [t for t, _ in steps])

    def test_number_of_steps_is_novas(self):
        steps = downtime.steps(600, 300, _conf(
            live_migration_downtime_steps=3))
        self.assertEqual([(0, 200), (66, 333), (133, 466), (200, 600)],
                         steps)

    def test_no_timeout_is_novas_schedule(self):
        conf = _conf(live_migration_downtime=400)
        with mock.patch.object(libvirt_migrate, 'CONF', conf):
            nova = list(libvirt_migrate.downtime_steps(3))
        self.assertEqual(nova, downtime.steps(400, 0, conf, data_gb=3))

    def test_no_timeout_is_novas_schedule_capped_at_max(self):
        steps = downtime.steps(200, 0, _conf())
        self.assertEqual((0, 50), steps[0])
        self.assertEqual((1500, 200), steps[-1])
        self.assertEqual([50, 95, 140, 185] + [200] * 7,
                         [ms for _, ms in steps])


class RampPropertiesTest(testtools.TestCase):

    conf = _conf()

    @given(max_ms=st.integers(100, 100000),
           timeout=st.one_of(st.just(0), st.integers(120, 800)),
           count=st.integers(3, 40),
           data_gb=st.floats(2, 64))
    def test_ramp_rules(self, max_ms, timeout, count, data_gb):
        self.conf.set_override('live_migration_downtime_steps', count,
                               group='libvirt')
        steps = downtime.steps(max_ms, timeout, self.conf, data_gb=data_gb)
        self.assertEqual(count + 1, len(steps))
        times = [t for t, _ in steps]
        values = [ms for _, ms in steps]
        self.assertEqual(sorted(times), times)
        self.assertEqual(sorted(values), values)
        self.assertLessEqual(max(values), max_ms)
        if timeout:
            self.assertEqual(max_ms, values[-1])
            self.assertLessEqual(times[-1], timeout * 2 / 3)
            self.assertGreaterEqual(times[-1], timeout * 2 / 3 - 1)
