"""Instance HA (issue 17) in Nova's in-process cloud: one compute on Nova's
fake libvirt running ``compute_driver = wrs_lm.LibvirtDriver``, with the
libvirt lifecycle events delivered to its driver as a running nova-compute
gets them (:class:`nova_wrs_lm.harness.lifecycle.LifecycleEvents`).

A guest "killed" here is ended the way libvirt reports a killed QEMU: the
domain shut off, then lifecycle event STOPPED with detail FAILED.
"""

from unittest import mock

from nova import context as nova_context
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client
from nova.virt.libvirt import guest as guest_module
from oslo_concurrency import lockutils

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import lifecycle
from nova_wrs_lm.harness import settings
from nova_wrs_lm.harness import waits
from nova_wrs_lm.virt import instance_ha

HA = 'HA_Enabled'


class InstanceHATestBase(cloud.LibvirtTestCase):

    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 512, 'disk': 1}

    def setUp(self):
        super().setUp()
        self.compute = self.computes[self.start_compute(hostname='compute1')]
        self.events = self.useFixture(lifecycle.LifecycleEvents(self.compute))

    def _restart_compute(self):
        self.compute = self.restart_compute_service('compute1')
        self.events = self.useFixture(lifecycle.LifecycleEvents(self.compute))

    def _server(self, metadata=None):
        flavor_id = self._create_flavor(**self.FLAVOR_SIZE)
        request = self._build_server(flavor_id=flavor_id, networks='none')
        if metadata:
            request['metadata'] = dict(metadata)
        server = self.api.post_server({'server': request})
        return self._wait_for_state_change(server, 'ACTIVE')

    def _tagged(self):
        return self._server({HA: 'True'})

    def _ha_actions(self, server):
        return [a for a in self.api.get_instance_actions(server['id'])
                if a['action'] == instance_ha.ACTION]

    def _events(self, server, action):
        return self.api.api_get(
            '/servers/%s/os-instance-actions/%s' % (
                server['id'], action['request_id'])
        ).body['instanceAction']['events']

    def _wait_for_restarts(self, server, count):
        """The server's ha-restart actions once there are ``count`` of
        them, each with its event finished successfully."""
        def check():
            actions = self._ha_actions(server)
            if len(actions) != count:
                return None
            for action in actions:
                events = self._events(server, action)
                if not events or events[0]['result'] != 'Success':
                    return None
            return actions
        return waits.until('%d ha-restart(s) of %s' % (count, server['id']),
                           check)

    def _wait_running(self, server):
        waits.until('domain of %s running' % server['id'],
                    lambda: self.events.running(server['id']))
        return self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:power_state': 1})

    def _wait_forwarded(self, server):
        """Nova's own path got the STOPPED event (the rule said no)."""
        return waits.until(
            'STOPPED event of %s passed to Nova' % server['id'],
            lambda: self.events.stopped_forwarded(server['id']))

    def _sync_power_state(self, server):
        """Nova's periodic power-state sync of the server, run now and to
        its end (ComputeManager._sync_power_states spawns one such call
        per instance)."""
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(ctxt, server['id'])
        self.compute.manager._query_driver_power_state_and_sync(ctxt,
                                                               instance)


class RestartTest(InstanceHATestBase):

    def test_killed_tagged_guest_is_running_again(self):
        server = self._tagged()
        self.events.end(server['id'], lifecycle.FAILED)
        actions = self._wait_for_restarts(server, 1)
        server = self._wait_running(server)
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        events = self._events(server, actions[0])
        self.assertEqual(
            ['ha_restart (libvirt: stopped, failed; attempt 1 of 3)'],
            [e['event'] for e in events])
        lines = [line for line in self.stdlog.logger.output.splitlines()
                 if 'Instance HA: restarted the guest' in line]
        self.assertEqual(1, len(lines), lines)
        self.assertIn('INFO', lines[0])
        # (oslo.log adds "[instance: UUID]" in nova-compute's own log; the
        # harness's log format does not.)
        # Neither Nova's delayed STOPPED event nor its power-state sync
        # stops it afterwards: the event never went to Nova's path.
        self.assertEqual([], self.events.stopped_forwarded(server['id']))
        self._sync_power_state(server)
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertTrue(self.events.running(server['id']))

    def test_virsh_destroy_from_outside_is_restarted(self):
        server = self._tagged()
        self.events.end(server['id'], lifecycle.DESTROYED)
        actions = self._wait_for_restarts(server, 1)
        self._wait_running(server)
        self.assertIn('destroyed', self._events(server, actions[0])[0][
            'event'])

    def test_untagged_guest_is_shutoff_as_stock(self):
        server = self._server()
        self.events.end(server['id'], lifecycle.FAILED)
        self._wait_for_state_change(server, 'SHUTOFF')
        self.assertFalse(self.events.running(server['id']))
        self.assertEqual([], self._ha_actions(server))

    def test_tag_false_is_not_restarted_with_restart_all_instances(self):
        self.flags(restart_all_instances=True, group='wrs_lm')
        untagged = self._server()
        opted_out = self._server({HA: 'false'})
        self.events.end(opted_out['id'], lifecycle.FAILED)
        self._wait_for_state_change(opted_out, 'SHUTOFF')
        self.events.end(untagged['id'], lifecycle.FAILED)
        self._wait_for_restarts(untagged, 1)
        self._wait_running(untagged)
        self.assertEqual([], self._ha_actions(opted_out))

    def test_renamed_key(self):
        self.flags(ha_enabled_metadata_key='ha', group='wrs_lm')
        server = self._server({'ha': 'yes'})
        self.events.end(server['id'], lifecycle.CRASHED)
        self._wait_for_restarts(server, 1)
        self._wait_running(server)


class NovaAskedTest(InstanceHATestBase):
    """Ends Nova asked for are never restarted (fake libvirt reports Nova's
    destroy as libvirt does: STOPPED, DESTROYED, a candidate end)."""

    def setUp(self):
        super().setUp()
        # The guest's own shutdown is a candidate too: every end below is
        # refused by the instance's state, not by its libvirt reason.
        self.flags(restart_on_guest_shutdown=True, group='wrs_lm')

    def test_server_stop_is_never_restarted(self):
        server = self._tagged()
        self.api.post_server_action(server['id'], {'os-stop': None})
        self._wait_for_state_change(server, 'SHUTOFF')
        self._wait_forwarded(server)
        self._sync_power_state(server)
        self.assertEqual('SHUTOFF', self.api.get_server(server['id'])[
            'status'])
        self.assertFalse(self.events.running(server['id']))
        self.assertEqual([], self._ha_actions(server))

    def test_delete_is_never_restarted(self):
        server = self._tagged()
        self._delete_server(server)
        self._wait_forwarded(server)
        self.assertRaises(fakelibvirt.libvirtError, self.events.domain,
                          server['id'])

    def test_hard_reboot_is_not_an_ha_restart(self):
        server = self._tagged()
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'HARD'}})
        self._wait_for_state_change(server, 'ACTIVE')
        self._wait_for_server_parameter(server, {
            'OS-EXT-STS:task_state': None})
        self._wait_forwarded(server)
        self.assertTrue(self.events.running(server['id']))
        self.assertEqual([], self._ha_actions(server))

    def test_operation_started_meanwhile_wins(self):
        # A Nova operation holds the instance's lock while the guest dies:
        # the restart waits for it, re-reads the instance under the lock
        # and finds the operation's task state.
        server = self._tagged()
        with mock.patch.object(instance_ha, 'why_not',
                               wraps=instance_ha.why_not) as why_not:
            # The lock utils.synchronized(uuid) takes (prefix 'nova-').
            with lockutils.lock(server['id'], lock_file_prefix='nova-'):
                self.events.end(server['id'], lifecycle.FAILED)
                # The first look (without the lock) is done; the worker
                # now waits for the lock.
                waits.until('first look', lambda: why_not.call_count >= 1)
                ctxt = nova_context.get_admin_context()
                instance = objects.Instance.get_by_uuid(ctxt, server['id'])
                instance.task_state = 'powering-off'
                instance.save()
            self._wait_forwarded(server)
        self.assertEqual(2, why_not.call_count)
        self.assertFalse(self.events.running(server['id']))
        self.assertEqual([], self._ha_actions(server))

    def test_delete_accepted_during_the_restart_applies_next(self):
        # The API accepts a delete while the guest is being started again
        # (the API takes no lock: it sets task_state 'deleting'); the
        # restart's own save then conflicts, and the restart gives way:
        # no error, the delete is what happens next.
        server = self._tagged()
        launch = guest_module.Guest.launch

        def launch_while_deleting(guest, *args, **kwargs):
            ctxt = nova_context.get_admin_context()
            instance = objects.Instance.get_by_uuid(ctxt, server['id'])
            instance.task_state = 'deleting'
            instance.save()
            return launch(guest, *args, **kwargs)

        with mock.patch.object(guest_module.Guest, 'launch',
                               launch_while_deleting):
            self.events.end(server['id'], lifecycle.FAILED)
            actions = self._wait_for_restarts(server, 1)
        self.assertEqual(1, len(actions))
        gave_way = 'arrived during the restart; it applies next'
        failed = 'could not handle the end of the guest'
        log = waits.until('the restart to end',
                          lambda: (gave_way in self.stdlog.logger.output or
                                   failed in self.stdlog.logger.output) and
                          self.stdlog.logger.output)
        self.assertNotIn(failed, log)
        self.assertIn(gave_way, log)
        instance = objects.Instance.get_by_uuid(
            nova_context.get_admin_context(), server['id'])
        self.assertEqual('deleting', instance.task_state)


class GuestShutdownTest(InstanceHATestBase):

    def test_guest_poweroff_is_the_users_stop(self):
        server = self._tagged()
        self.events.end(server['id'], lifecycle.SHUTDOWN)
        self._wait_for_state_change(server, 'SHUTOFF')
        self.assertEqual([], self._ha_actions(server))

    def test_restarted_with_restart_on_guest_shutdown(self):
        self.flags(restart_on_guest_shutdown=True, group='wrs_lm')
        server = self._tagged()
        self.events.end(server['id'], lifecycle.SHUTDOWN)
        actions = self._wait_for_restarts(server, 1)
        self._wait_running(server)
        self.assertIn('shutdown', self._events(server, actions[0])[0][
            'event'])


class MaintenanceTest(InstanceHATestBase):

    def _disable(self, reason):
        service = self.api.get_services(binary='nova-compute',
                                        host='compute1')[0]
        self.api.put_service(service['id'], {'status': 'disabled',
                                             'disabled_reason': reason})

    def test_host_in_maintenance_is_not_restarted(self):
        server = self._tagged()
        self._disable('maintenance: firmware update')
        self.events.end(server['id'], lifecycle.FAILED)
        self._wait_for_state_change(server, 'SHUTOFF')
        self.assertEqual([], self._ha_actions(server))

    def test_host_disabled_for_another_reason_is_restarted(self):
        server = self._tagged()
        self._disable('no new servers')
        self.events.end(server['id'], lifecycle.FAILED)
        self._wait_for_restarts(server, 1)
        self._wait_running(server)


class CrashLoopTest(InstanceHATestBase):

    def test_error_after_three_restarts(self):
        server = self._tagged()
        for attempt in (1, 2, 3):
            self.events.end(server['id'], lifecycle.FAILED)
            self._wait_for_restarts(server, attempt)
            self._wait_running(server)
        self.events.end(server['id'], lifecycle.FAILED)
        server = self._wait_for_state_change(server, 'ERROR')
        self.assertIn('3 restart(s) within 600 s failed to keep the guest '
                      'running', server['fault']['message'])
        self.assertFalse(self.events.running(server['id']))
        self.assertEqual(3, len(self._ha_actions(server)))

    def test_restarts_outside_the_window_do_not_count(self):
        self.flags(restart_max_attempts=1, group='wrs_lm')
        server = self._tagged()
        self.events.end(server['id'], lifecycle.FAILED)
        self._wait_for_restarts(server, 1)
        self._wait_running(server)
        # An hour later: the first restart is out of the 600 s window.
        real_utcnow = instance_ha.timeutils.utcnow
        later = real_utcnow() + instance_ha.datetime.timedelta(hours=1)
        with mock.patch.object(instance_ha.timeutils, 'utcnow',
                               return_value=later):
            self.assertEqual(0, instance_ha.recent_restarts(
                nova_context.get_admin_context(), server['id'], 600))
        self.assertEqual(1, instance_ha.recent_restarts(
            nova_context.get_admin_context(), server['id'], 600))


class ComputeRestartTest(InstanceHATestBase):

    def test_dead_tagged_guest_restarted_when_nova_compute_starts(self):
        tagged = self._tagged()
        untagged = self._server()
        # Both guests die while nova-compute is not running: no event.
        lifecycle.end_silently(self.events.connection, tagged['id'])
        lifecycle.end_silently(self.events.connection, untagged['id'])
        self._restart_compute()
        self.assertTrue(self.events.running(tagged['id']))
        actions = self._wait_for_restarts(tagged, 1)
        self.assertIn('found shut off when nova-compute started',
                      self._events(tagged, actions[0])[0]['event'])
        self._sync_power_state(tagged)
        self._wait_running(tagged)
        # Nova's behaviour for the untagged one: the sync stops it.
        self._sync_power_state(untagged)
        self._wait_for_state_change(untagged, 'SHUTOFF')
        self.assertFalse(self.events.running(untagged['id']))


class MetadataValidationTest(InstanceHATestBase):
    """With the wrs_lm API filter, the HA key takes canonical booleans
    only, with the same 400 as the other keys of the spec table."""

    API_PASTE = settings.WRS_LM_API_PASTE

    def _set(self, server, metadata):
        return self.api.post_server_metadata(server['id'], metadata)

    def test_maybe_is_400(self):
        server = self._server()
        exc = self.assertRaises(client.OpenStackApiException, self._set,
                                server, {HA: 'maybe'})
        self.assertEqual(400, exc.response.status_code)
        self.assertIn('HA_Enabled must be a boolean (true or false)',
                      exc.response.text)
        self._set(server, {HA: 'True'})
        self.assertEqual('True', self.api.get_server(server['id'])[
            'metadata'][HA])

    def test_renamed_key_is_validated(self):
        self.flags(ha_enabled_metadata_key='ha', group='wrs_lm')
        server = self._server()
        exc = self.assertRaises(client.OpenStackApiException, self._set,
                                server, {'ha': 'maybe'})
        self.assertEqual(400, exc.response.status_code)
        self.assertIn('ha must be a boolean', exc.response.text)
