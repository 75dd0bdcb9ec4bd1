"""PUT /os-hosts/{host} with host_down_reported, as an external monitor
(OPNFV Doctor, Masakari, a VIM) sends it after fencing a host."""

import threading

import fixtures
from nova import context as nova_context
from nova import objects
from nova.compute import power_state
from nova.compute import task_states
from nova.compute import vm_states
from oslo_db import exception as db_exc
from oslo_utils import uuidutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm import host_down
from nova_wrs_lm import host_down_rules
from tests.functional.api import cloud

HOST = 'compute'

VM_STATES = sorted(getattr(vm_states, name) for name in dir(vm_states)
                   if name.isupper() and
                   isinstance(getattr(vm_states, name), str))
TASK_STATES = sorted(getattr(task_states, name) for name in dir(task_states)
                     if name.isupper() and
                     isinstance(getattr(task_states, name), str))


class _HostWithServers(cloud.FilteredCloud):
    """HOST with an ACTIVE, a STOPPED, an ERROR and a resized server;
    compute2 with one more."""

    def setUp(self):
        super().setUp()
        self.flags(allow_resize_to_same_host=True)
        # Nova's helper boots the first flavor GET /flavors lists, which
        # would be the bigger one whenever its random id sorts first.
        self.small = self.api.get_flavors()[0]['id']
        self.active = self._on(HOST)
        self.stopped = self._stop_server(self._on(HOST))
        self.error = self._on(HOST)
        self.api.post_server_action(self.error['id'],
                                    {'os-resetState': {'state': 'error'}})
        self.resized = self._on(HOST)
        # One VCPU: the fake host has 8 (2 x allocation ratio 4.0), and a
        # resize to the same host holds both flavors until confirmed.
        bigger = self._create_flavor(memory_mb=1024, vcpu=1, disk=2)
        self._resize_server(self.resized, bigger)
        self.assertEqual(HOST, self.api.get_server(
            self.resized['id'])['OS-EXT-SRV-ATTR:host'])
        # Started after the resize, so that the resize stays on HOST (with
        # two hosts the scheduler may pick either).
        self.compute2 = self._start_compute('compute2')
        self.elsewhere = self._on('compute2')

    def _on(self, host):
        """An ACTIVE server of the small flavor on ``host``."""
        return self._create_server(az='nova:' + host, flavor_id=self.small,
                                   networks='none')

    def _report(self, down, host=HOST, api=None, doctor=False):
        value = ('true' if down else 'false') if doctor else down
        body = ({'host': {'host_down_reported': value}} if doctor else
                {'host_down_reported': value})
        return self._request('PUT', 'os-hosts/%s' % host, body, api=api)

    def _state(self, server):
        server = self.api.get_server(server['id'])
        return (server['status'], server['OS-EXT-STS:power_state'],
                server['OS-EXT-STS:task_state'])

    def _service(self, host=HOST):
        return self.api.get_services(host=host, binary='nova-compute')[0]

    def _untouched(self):
        """What a report lists as skipped on HOST: the ERROR and the
        resized server (the STOPPED one is already down)."""
        return [{'id': self.error['id'], 'reason': 'already in error'},
                {'id': self.resized['id'],
                 'reason': 'resized, waiting for confirm or revert'}]

    def _cells(self, marked):
        """The answer's ``cells``: the host is in cell1 only."""
        return [{'name': 'cell1', 'uuid': uuids.cell1, 'result': 'done',
                 'instances_marked_down': marked}]

    def _actions(self, server):
        return [a['action'] for a in
                self.api.get_instance_actions(server['id'])]


class ForceDownTest(_HostWithServers):

    def test_host_reported_down_then_up(self):
        response = self._report(True)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual(
            {'host': {'host': HOST, 'host_down_reported': True,
                      'status': 'enabled', 'instances_marked_down': 1,
                      'instances_skipped': self._untouched(),
                      'cells': self._cells(1)}},
            response.json())

        shutdown = power_state.SHUTDOWN
        self.assertEqual(('SHUTOFF', shutdown, None), self._state(self.active))
        self.assertEqual(('SHUTOFF', shutdown, None),
                         self._state(self.stopped))
        self.assertEqual('ERROR', self._state(self.error)[0])
        self.assertEqual('VERIFY_RESIZE', self._state(self.resized)[0])
        self.assertEqual('ACTIVE', self._state(self.elsewhere)[0])
        self.assertIn('host_down_reported', self._actions(self.active))
        for untouched in (self.stopped, self.error, self.resized,
                          self.elsewhere):
            self.assertNotIn('host_down_reported', self._actions(untouched))

        service = self._service()
        self.assertEqual(('down', 'enabled', True),
                         (service['state'], service['status'],
                          service['forced_down']))
        self.assertEqual('up', self._service('compute2')['state'])
        updates = [n['payload']['nova_object.data'] for n in
                   self.notifier.versioned_notifications
                   if n['event_type'] == 'service.update']
        self.assertEqual([(HOST, True)],
                         [(p['host'], p['forced_down']) for p in updates])

        response = self._report(False)
        self.assertEqual(
            {'host': {'host': HOST, 'host_down_reported': False,
                      'status': 'enabled', 'instances_marked_down': 0,
                      'instances_skipped': [], 'cells': self._cells(0)}},
            response.json())
        service = self._service()
        self.assertEqual(('up', False),
                         (service['state'], service['forced_down']))
        self.assertEqual('SHUTOFF', self._state(self.active)[0])

    def test_doctor_form_and_disabled_status_kept(self):
        self.api.put_service(self._service()['id'], {'status': 'disabled'})
        response = self._report(True, doctor=True)
        self.assertEqual(
            {'host': HOST, 'host_down_reported': True, 'status': 'disabled',
             'instances_marked_down': 1,
             'instances_skipped': self._untouched(),
             'cells': self._cells(1)},
            response.json()['host'])
        self.assertEqual('disabled', self._service()['status'])

    def test_idempotent(self):
        self.assertEqual(1, self._report(True).json()['host'][
            'instances_marked_down'])
        self.assertEqual(0, self._report(True).json()['host'][
            'instances_marked_down'])
        self.assertEqual(1, self._actions(self.active).count(
            'host_down_reported'))

    def test_times_in_whole_seconds_as_mariadb_stores_them(self):
        # MySQL and MariaDB keep Nova's DATETIME columns in whole seconds;
        # the kept-state event is joined to its action by its start time,
        # so the report records whole seconds (found on the real cloud,
        # where the join missed and recover left an ACTIVE guest SHUTOFF).
        self._report(True)
        action = [a for a in self.api.get_instance_actions(
            self.active['id']) if a['action'] == 'host_down_reported'][0]
        self.assertRegex(action['start_time'], r'T\d\d:\d\d:\d\d(\.0+)?Z?$')
        events = self.api.get_instance_action_details(
            self.active['id'], action['request_id'])['events']
        self.assertEqual(['wrs_lm_state_before_report'],
                         [e['event'] for e in events])
        self.assertEqual(action['start_time'], events[0]['start_time'])

    def test_concurrent_reports_mark_each_instance_once(self):
        extra = [self._on(HOST) for _ in range(3)]
        results = []

        def report():
            results.append(self._report(True))

        threads = [threading.Thread(target=report) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([200, 200], [r.status_code for r in results])
        self.assertEqual(4, sum(r.json()['host']['instances_marked_down']
                                for r in results))
        for server in [self.active] + extra:
            self.assertEqual('SHUTOFF', self._state(server)[0])
            self.assertEqual(1, self._actions(server).count(
                'host_down_reported'))

    def test_error_instance_state(self):
        self.flags(host_down_instance_state='error', group='wrs_lm')
        self._report(True)
        server = self.api.get_server(self.active['id'])
        self.assertEqual(('ERROR', power_state.SHUTDOWN),
                         (server['status'],
                          server['OS-EXT-STS:power_state']))
        self.assertEqual('Compute host reported down',
                         server['fault']['message'])
        self.assertIn('compute was reported down',
                      server['fault']['details'])
        self.assertEqual('VERIFY_RESIZE', self._state(self.resized)[0])

    def test_unknown_host(self):
        self.assertEqual(
            'Compute host nowhere could not be found.',
            self._fault(self._report(True, host='nowhere'), 404))

    def test_bad_bodies(self):
        for body, field in (
                ({'host_down_reported': 'maybe'}, 'host_down_reported'),
                ({'host_down_reported': None}, 'host_down_reported'),
                ({'host': {'host_down_reported': 2}},
                 'host/host_down_reported'),
                ({'host_down_reported': True, 'status': 'enable'}, 'body'),
                ({'host': {'host_down_reported': 'true',
                           'maintenance_mode': 'enable'}}, 'host')):
            message = self._fault(
                self._request('PUT', 'os-hosts/' + HOST, body), 400)
            self.assertIn('Invalid input for field/attribute %s.' % field,
                          message)
        self.assertEqual('ACTIVE', self._state(self.active)[0])
        self.assertEqual('up', self._service()['state'])

    def test_caller_without_the_policy(self):
        member = self.api_fixture.api
        member.microversion = 'latest'
        self.assertEqual(
            "Policy doesn't allow wrs_lm:os-hosts:host_down_reported to be "
            "performed.", self._fault(self._report(True, api=member), 403))
        self.assertEqual('ACTIVE', self._state(self.active)[0])

    def test_rule_can_be_granted_in_policy_yaml(self):
        self.policy.set_rules(
            {'wrs_lm:os-hosts:host_down_reported': 'role:member'},
            overwrite=False)
        member = self.api_fixture.api
        member.microversion = 'latest'
        self.assertEqual(200, self._report(True, api=member).status_code)
        self.assertEqual('down', self._service()['state'])

    def test_other_os_hosts_requests_reach_nova(self):
        # Nova removed os-hosts at 2.43: its own 404, not ours.
        response = self._request('PUT', 'os-hosts/' + HOST,
                                 {'status': 'enable'})
        self.assertEqual(404, response.status_code)
        self.assertNotIn('Compute host', response.text)
        self.api.microversion = '2.1'
        self.assertEqual(HOST, self.api.api_get(
            'os-hosts/%s' % HOST).body['host'][0]['resource']['host'])


class ReportSafetyTest(_HostWithServers):
    """Issue 11: the clear guard of Nova's os-services and the
    notifications Doctor's consumers listen for."""

    def test_clear_refused_while_done_evacuations_remain(self):
        self.assertEqual(200, self._report(True).status_code)
        self._evacuate_server(self.active, expected_host='compute2',
                              expected_state='SHUTOFF')
        # Nova 34's os-services answers this with 400 (bug 1922053): the
        # host's compute service has not restarted and cleaned up.
        response = self._report(False)
        self.assertEqual(
            'Unable to force up host %s as `done` evacuation migration '
            'records remain associated with the host. Ensure the compute '
            'service has been restarted, allowing these records to move to '
            '`completed` before retrying this request.' % HOST,
            self._fault(response, 400))
        self.assertTrue(self._service()['forced_down'])

    def test_instance_update_notifications_after_the_commit(self):
        self.flags(notify_on_state_change='vm_and_task_state',
                   notification_format='both', group='notifications')
        self.notifier.reset()
        self.assertEqual(200, self._report(True).status_code)
        versioned = [n['payload']['nova_object.data'] for n in
                     self.notifier.versioned_notifications
                     if n['event_type'] == 'instance.update']
        self.assertEqual([self.active['id']],
                         [p['uuid'] for p in versioned])
        state = versioned[0]['state_update']['nova_object.data']
        self.assertEqual(('active', 'stopped'),
                         (state['old_state'], state['state']))
        legacy = [n for n in self.notifier.notifications
                  if n.event_type == 'compute.instance.update']
        self.assertEqual([self.active['id']],
                         [n.payload['instance_id'] for n in legacy])

    def test_no_instance_update_unless_configured(self):
        self.notifier.reset()
        self.assertEqual(200, self._report(True).status_code)
        self.assertEqual([], [n for n in self.notifier.versioned_notifications
                              if n['event_type'] == 'instance.update'])

    def test_service_update_carries_the_committed_values(self):
        self.notifier.reset()
        self._report(True)
        self._report(False)
        self._report(True)
        updates = [n['payload']['nova_object.data']['forced_down'] for n in
                   self.notifier.versioned_notifications
                   if n['event_type'] == 'service.update']
        self.assertEqual([True, False, True], updates)


class TaskStateTest(_HostWithServers):
    """What a report does to an instance on the host, for every vm_state
    and task_state (nova_wrs_lm.host_down_rules), and the live migration
    then evacuation story."""

    def _set(self, server, vm_state, task_state):
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        instance.vm_state = vm_state
        instance.task_state = task_state
        instance.power_state = power_state.RUNNING
        instance.save()

    def _db_states(self, server):
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        return instance.vm_state, instance.task_state, instance.power_state

    def setUp(self):
        super().setUp()
        self.ctxt = nova_context.get_admin_context()

    def _live_migration(self, server, status):
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        migration = objects.Migration(
            self.ctxt, instance_uuid=server['id'], source_compute=HOST,
            dest_compute='compute2', migration_type='live-migration',
            status=status, uuid=uuidutils.generate_uuid(),
            user_id=instance.user_id, project_id=instance.project_id)
        migration.create()
        return migration

    def test_every_vm_state_and_task_state(self):
        server = self.active
        target = vm_states.STOPPED
        for vm_state in VM_STATES:
            for task_state in [None] + TASK_STATES:
                self._set(server, vm_state, task_state)
                answer = self._report(True).json()['host']
                skipped = {s['id']: s['reason']
                           for s in answer['instances_skipped']}
                outcome, reason = host_down_rules.decide(vm_state,
                                                         task_state)
                states = self._db_states(server)
                where = (vm_state, task_state)
                if outcome == host_down_rules.SKIP:
                    self.assertEqual(reason, skipped.get(server['id']),
                                     where)
                    self.assertEqual(
                        (vm_state, task_state, power_state.RUNNING),
                        states, where)
                else:
                    self.assertNotIn(server['id'], skipped, where)
                    self.assertEqual(
                        (target, None, power_state.SHUTDOWN), states, where)
                self.assertEqual(200, self._report(False).status_code)

    def test_the_table_in_words(self):
        decide = host_down_rules.decide
        # Deletes and resizes are left in their task; a task the failed
        # host was doing in place is dropped; a migrating instance with no
        # live migration off the host is not guessed at.
        self.assertEqual('skip', decide('active', 'deleting')[0])
        self.assertEqual('skip', decide('stopped', 'soft-deleting')[0])
        self.assertEqual('skip', decide('active', 'resize_migrating')[0])
        self.assertEqual('record_down', decide('active', 'rebooting')[0])
        self.assertEqual('record_down', decide('active', 'spawning')[0])
        self.assertEqual('record_down', decide('paused', 'unpausing')[0])
        self.assertEqual('skip', decide('active', 'migrating')[0])
        self.assertEqual('skip', decide('error', None)[0])
        self.assertEqual(
            'finalise_move',
            decide('active', 'migrating', ('running', 'compute2'))[0])
        self.assertEqual(
            'skip',
            decide('active', 'migrating',
                   ('running (post-copy)', 'compute2'))[0])
        self.assertEqual('skip', decide('active', 'rebuilding',
                                        evacuation_to='pre-migrating')[0])

    def test_live_migration_off_the_host_then_exactly_one_evacuation(self):
        self._set(self.active, vm_states.ACTIVE, task_states.MIGRATING)
        migration = self._live_migration(self.active, 'running')
        answer = self._report(True).json()['host']
        self.assertEqual(1, answer['instances_marked_down'])
        self.assertEqual('error', objects.Migration.get_by_id(
            self.ctxt, migration.id).status)
        self.assertEqual((vm_states.STOPPED, None, power_state.SHUTDOWN),
                         self._db_states(self.active))
        # Exactly one recovery: the first evacuation is accepted, a second
        # one is refused while it runs or after it is done.
        self._evacuate_server(self.active, expected_host='compute2',
                              expected_state='SHUTOFF')
        second = self._request('POST', 'servers/%s/action' %
                               self.active['id'], {'evacuate': {}})
        self.assertIn(second.status_code, (400, 409), second.text)
        evacuations = [m for m in self.api.get_migrations()
                       if m['instance_uuid'] == self.active['id'] and
                       m['migration_type'] == 'evacuation']
        self.assertEqual(1, len(evacuations))

    def test_live_migration_past_switch_over_is_left_alone(self):
        self._set(self.active, vm_states.ACTIVE, task_states.MIGRATING)
        migration = self._live_migration(self.active, 'running (post-copy)')
        answer = self._report(True).json()['host']
        self.assertIn(
            {'id': self.active['id'],
             'reason': 'live migration running (post-copy): the guest may '
                       'be running on compute2'},
            answer['instances_skipped'])
        self.assertEqual('running (post-copy)', objects.Migration.get_by_id(
            self.ctxt, migration.id).status)
        # Left in its task; whether to evacuate it is the operator's call
        # (Nova 34's evacuate does not check the task state).
        self.assertEqual(
            (vm_states.ACTIVE, task_states.MIGRATING, power_state.RUNNING),
            self._db_states(self.active))


class TwoCellsTest(cloud.FilteredCloud):
    """A host whose compute services are in two cells (not discovered
    yet, so it has no host mapping: the report goes to every cell), and a
    cell whose database fails after the other cell committed: the answer
    says what was done where, and a repeated report completes it."""

    NUMBER_OF_CELLS = 2
    HOST = 'twin'

    def setUp(self):
        super().setUp()
        self.ctxt = nova_context.get_admin_context()
        self.cells = [self.cell_mappings['cell1'], self.cell_mappings['cell2']]
        self.instances = {}
        for cell in self.cells:
            with nova_context.target_cell(self.ctxt, cell) as cctxt:
                objects.Service(cctxt, host=self.HOST, binary='nova-compute',
                                topic='compute', report_count=0).create()
                instance = objects.Instance(
                    cctxt, uuid=uuidutils.generate_uuid(), host=self.HOST,
                    vm_state=vm_states.ACTIVE,
                    power_state=power_state.RUNNING, task_state=None,
                    project_id=self.api.project_id, user_id='fake',
                    flavor=objects.Flavor.get_by_name(self.ctxt, 'm1.small'))
                instance.create()
                self.instances[cell.name] = instance.uuid
        self.failing = set()
        real = host_down._report_in_cell

        def report_in_cell(cctxt, *args, **kwargs):
            if cctxt.cell_uuid in self.failing:
                raise db_exc.DBConnectionError(
                    "(pymysql.err.OperationalError) (2013, 'Lost connection "
                    "to MySQL server during query')")
            return real(cctxt, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova_wrs_lm.host_down._report_in_cell', report_in_cell))

    def _report(self, down):
        return self._request('PUT', 'os-hosts/%s' % self.HOST,
                             {'host_down_reported': down})

    def _in(self, cell_name):
        """(forced_down of the cell's service, vm_state of its instance,
        host_down_reported actions of it)."""
        cell = self.cell_mappings[cell_name]
        with nova_context.target_cell(self.ctxt, cell) as cctxt:
            service = objects.Service.get_by_compute_host(cctxt, self.HOST)
            uuid = self.instances[cell_name]
            instance = objects.Instance.get_by_uuid(cctxt, uuid)
            actions = [a.action for a in
                       objects.InstanceActionList.get_by_instance_uuid(
                           cctxt, uuid)]
        return (service.forced_down, instance.vm_state,
                actions.count(host_down.ACTION))

    def test_report_that_fails_in_one_cell_is_completed_by_a_retry(self):
        self.failing.add(uuids.cell2)
        response = self._report(True)
        message = self._fault_503(response)
        self.assertIn('The report of host twin as down was applied in cell1 '
                      '(1 instance(s) marked down) and failed in cell2 '
                      '(DBConnectionError: ', message)
        self.assertIn('Repeat the request: a repeated report changes only '
                      'what is left, and completes it.', message)
        self.assertEqual((True, vm_states.STOPPED, 1), self._in('cell1'))
        self.assertEqual((False, vm_states.ACTIVE, 0), self._in('cell2'))

        self.failing.clear()
        response = self._report(True)
        self.assertEqual(200, response.status_code, response.text)
        answer = response.json()['host']
        self.assertEqual(
            [{'name': 'cell1', 'uuid': uuids.cell1, 'result': 'done',
              'instances_marked_down': 0},
             {'name': 'cell2', 'uuid': uuids.cell2, 'result': 'done',
              'instances_marked_down': 1}], answer['cells'])
        self.assertEqual(1, answer['instances_marked_down'])
        # Each instance recorded down exactly once.
        self.assertEqual((True, vm_states.STOPPED, 1), self._in('cell1'))
        self.assertEqual((True, vm_states.STOPPED, 1), self._in('cell2'))

    def test_clear_that_fails_in_one_cell_is_completed_by_a_retry(self):
        self.assertEqual(200, self._report(True).status_code)
        self.failing.add(uuids.cell1)
        message = self._fault_503(self._report(False))
        self.assertIn('The report of host twin as up was applied in cell2 '
                      '(0 instance(s) marked down) and failed in cell1',
                      message)
        self.assertTrue(self._in('cell1')[0])
        self.assertFalse(self._in('cell2')[0])
        self.failing.clear()
        self.assertEqual(200, self._report(False).status_code)
        self.assertFalse(self._in('cell1')[0])

    def test_every_cell_failing_changes_nothing(self):
        self.failing.update({uuids.cell1, uuids.cell2})
        message = self._fault_503(self._report(True))
        self.assertIn('The report of host twin as down changed nothing and '
                      'failed in cell1 (DBConnectionError', message)
        self.assertEqual((False, vm_states.ACTIVE, 0), self._in('cell1'))
        self.assertEqual((False, vm_states.ACTIVE, 0), self._in('cell2'))

    def _fault_503(self, response):
        self.assertEqual(503, response.status_code, response.text)
        return response.json()['serviceUnavailable']['message']
