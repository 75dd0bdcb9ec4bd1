"""PUT /os-hosts/{host} with host_down_reported, as an external monitor
(OPNFV Doctor, Masakari, a VIM) sends it after fencing a host."""

import threading

from nova.compute import power_state

from tests.functional.api import cloud

HOST = 'compute'


class ForceDownTest(cloud.FilteredCloud):

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

    def _actions(self, server):
        return [a['action'] for a in
                self.api.get_instance_actions(server['id'])]

    def test_host_reported_down_then_up(self):
        response = self._report(True)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual(
            {'host': {'host': HOST, 'host_down_reported': True,
                      'status': 'enabled', 'instances_marked_down': 1}},
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
                      'status': 'enabled', 'instances_marked_down': 0}},
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
             'instances_marked_down': 1}, response.json()['host'])
        self.assertEqual('disabled', self._service()['status'])

    def test_idempotent(self):
        self.assertEqual(1, self._report(True).json()['host'][
            'instances_marked_down'])
        self.assertEqual(0, self._report(True).json()['host'][
            'instances_marked_down'])
        self.assertEqual(1, self._actions(self.active).count(
            'host_down_reported'))

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
