"""The instance-HA rule and the event gate (nova_wrs_lm.virt.instance_ha),
and the HA key in the spec table's consumers."""

import types

import testtools
from nova.compute import vm_states
from nova.virt import event as virtevent
from oslo_config import cfg

from nova_wrs_lm import conf as wrs_conf
from nova_wrs_lm import spec_table
from nova_wrs_lm.api import live_migration_keys
from nova_wrs_lm.virt import instance_ha


def _conf(**options):
    conf = cfg.ConfigOpts()
    wrs_conf.register_opts(conf)
    conf([])
    for name, value in options.items():
        conf.set_override(name, value, group='wrs_lm')
    return conf


def _instance(metadata=None, **attrs):
    values = dict(host='h1', vm_state=vm_states.ACTIVE, task_state=None,
                  metadata=metadata if metadata is not None else
                  {'HA_Enabled': 'True'}, uuid='u1')
    values.update(attrs)
    return types.SimpleNamespace(**values)


def _service(disabled=False, reason=None):
    return types.SimpleNamespace(disabled=disabled, disabled_reason=reason)


class RuleTest(testtools.TestCase):

    def test_restartable(self):
        for detail in (instance_ha.FAILED, instance_ha.CRASHED,
                       instance_ha.DESTROYED, None):
            self.assertIsNone(instance_ha.why_not(
                _instance(), 'h1', detail, _conf(), _service()))

    def test_ends_that_are_always_novas(self):
        for detail in (instance_ha.MIGRATED, instance_ha.SAVED,
                       instance_ha.FROM_SNAPSHOT):
            self.assertIn('ended by', instance_ha.why_not(
                _instance(), 'h1', detail, _conf()))

    def test_guest_shutdown_only_with_the_option(self):
        self.assertIn('shutdown', instance_ha.why_not(
            _instance(), 'h1', instance_ha.SHUTDOWN, _conf()))
        self.assertIsNone(instance_ha.why_not(
            _instance(), 'h1', instance_ha.SHUTDOWN,
            _conf(restart_on_guest_shutdown=True)))

    def test_state_task_and_host(self):
        conf = _conf()
        self.assertEqual('task_state powering-off', instance_ha.why_not(
            _instance(task_state='powering-off'), 'h1',
            instance_ha.FAILED, conf))
        self.assertEqual('vm_state stopped', instance_ha.why_not(
            _instance(vm_state=vm_states.STOPPED), 'h1',
            instance_ha.FAILED, conf))
        self.assertEqual('on host h2', instance_ha.why_not(
            _instance(host='h2'), 'h1', instance_ha.FAILED, conf))

    def test_tag(self):
        conf = _conf()
        for value, tagged in (('True', True), ('yes', True), ('1', True),
                              ('false', False), ('maybe', False)):
            self.assertEqual(tagged, instance_ha.tagged(
                _instance({'HA_Enabled': value}), conf), value)
        self.assertFalse(instance_ha.tagged(_instance({}), conf))
        everyone = _conf(restart_all_instances=True)
        self.assertTrue(instance_ha.tagged(_instance({}), everyone))
        self.assertFalse(instance_ha.tagged(
            _instance({'HA_Enabled': 'false'}), everyone))
        renamed = _conf(ha_enabled_metadata_key='ha')
        self.assertFalse(instance_ha.tagged(
            _instance({'HA_Enabled': 'true'}), renamed))
        self.assertTrue(instance_ha.tagged(_instance({'ha': 'on'}), renamed))

    def test_maintenance(self):
        conf = _conf()
        self.assertIn('maintenance', instance_ha.why_not(
            _instance(), 'h1', instance_ha.FAILED, conf,
            _service(True, ' Maintenance: bios')))
        for service in (_service(True, 'failure: psu'), _service(True),
                        _service(False, 'maintenance: x')):
            self.assertIsNone(instance_ha.why_not(
                _instance(), 'h1', instance_ha.FAILED, conf, service))

    def test_shutoff_reasons(self):
        self.assertEqual(instance_ha.FAILED, instance_ha.shutoff_detail(6))
        self.assertEqual(instance_ha.FAILED, instance_ha.shutoff_detail(8))
        self.assertEqual(instance_ha.SHUTDOWN,
                         instance_ha.shutoff_detail(1))
        self.assertIsNone(instance_ha.shutoff_detail(0))


class GateTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.forwarded = []
        self.spawned = []
        self.decisions = {}
        self.gate = instance_ha.EventGate(
            self.forwarded.append,
            lambda uuid, detail: self.decisions[uuid],
            _conf(), spawn=lambda fn, *args: self.spawned.append(
                (fn, args)))

    def _run_workers(self):
        while self.spawned:
            fn, args = self.spawned.pop(0)
            fn(*args)

    def test_other_events_go_on_at_once(self):
        started = virtevent.LifecycleEvent(
            'u1', virtevent.EVENT_LIFECYCLE_STARTED)
        saved = instance_ha.StoppedEvent('u1', instance_ha.SAVED)
        shutdown = instance_ha.StoppedEvent('u1', instance_ha.SHUTDOWN)
        for event in (started, saved, shutdown):
            self.gate.emit(event)
        self.assertEqual([started, saved, shutdown], self.forwarded)
        self.assertEqual([], self.spawned)

    def test_restarted_guest_event_never_goes_on(self):
        self.decisions['u1'] = instance_ha.Decision(True)
        self.gate.emit(instance_ha.StoppedEvent('u1', instance_ha.FAILED))
        self.assertEqual([], self.forwarded)
        self._run_workers()
        self.assertEqual([], self.forwarded)

    def test_not_restarted_goes_on(self):
        self.decisions['u1'] = instance_ha.Decision(False, 'no')
        event = instance_ha.StoppedEvent('u1', instance_ha.FAILED)
        self.gate.emit(event)
        self._run_workers()
        self.assertEqual([event], self.forwarded)

    def test_newer_event_drops_the_held_one(self):
        # As Nova's delayed path drops a pending STOPPED event.
        self.decisions['u1'] = instance_ha.Decision(False, 'no')
        self.gate.emit(instance_ha.StoppedEvent('u1', instance_ha.FAILED))
        started = virtevent.LifecycleEvent(
            'u1', virtevent.EVENT_LIFECYCLE_STARTED)
        self.gate.emit(started)
        self._run_workers()
        self.assertEqual([started], self.forwarded)


class SpecTableTest(testtools.TestCase):

    def test_metadata_validation_of_the_ha_key(self):
        self.assertEqual('HA_Enabled must be a boolean (true or false)',
                         live_migration_keys.metadata_error(
                             {'HA_Enabled': 'maybe'}))
        self.assertIsNone(live_migration_keys.metadata_error(
            {'HA_Enabled': 'True'}))

    def test_renamed_key(self):
        conf = _conf(ha_enabled_metadata_key='ha')
        keys = spec_table.all_keys(conf)
        self.assertIs(spec_table.INSTANCE_HA, keys['ha'])
        self.assertNotIn('HA_Enabled', keys)
        self.assertIn('HA_Enabled', spec_table.all_keys())

    def test_restart_all_instances_is_generated_from_the_table(self):
        conf = _conf()
        self.assertFalse(conf.wrs_lm.restart_all_instances)
        self.assertEqual('HA_Enabled', conf.wrs_lm.ha_enabled_metadata_key)
        self.assertEqual(3, conf.wrs_lm.restart_max_attempts)
        self.assertEqual(600, conf.wrs_lm.restart_window)
