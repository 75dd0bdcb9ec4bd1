"""The product as a deployer runs it: a real cloud on this machine
(``tools/cloud.sh``), nova-compute with ``wrs_lm.LibvirtDriver`` on real
libvirtd + QEMU, requests through Keystone and the shipped api-paste.ini.
One guest at a time (two for a moment while an evacuation rebuilds a
guest whose host was only reported down); scenarios 1-8 of
doc/real-cloud.md."""

import re
import subprocess

from nova_wrs_lm import instance_actions
from nova_wrs_lm.cloud import compute as compute_api
from nova_wrs_lm.host_ops import history
from nova_wrs_lm.host_ops import recover
from nova_wrs_lm.realcloud import computes
from nova_wrs_lm.realcloud import layout as L
from nova_wrs_lm.realcloud import libvirt_hosts
from tests.deployment import base
from tests.deployment import cloud


def tearDownModule():
    # The cloud comes up with the first scenario and goes down after the
    # last, whatever happened in between.
    cloud.release()

TIMEOUT = 'hw:wrs:live_migration_timeout'
HA = 'HA_Enabled'
DOWNTIME = 'hw:wrs:live_migration_max_downtime'
AUTO_CONVERGE = 'hw:wrs:live_migration_auto_converge'
TUNNEL = 'hw:wrs:live_migration_tunnel'
TIMEOUT_RULE = ('hw:wrs:live_migration_timeout must be 0 or in the range '
                '120 to 800')
#: libvirt's VIR_MIGRATE_TUNNELLED flag bit.
_TUNNELLED = 1 << 2
_THROTTLE = re.compile(r'Auto converge throttle:\s+(\d+)')
_PERFORM = re.compile(r'virDomainMigratePerform3Params:.*uuid=([0-9a-f-]+)'
                      r'.*flags=(0x[0-9a-f]+)')


def _fault(resp):
    """The message of a Nova JSON fault."""
    body = resp.json()
    return next(iter(body.values()))['message']


class FlavorAndMetadataValidationTest(base.ScenarioTestCase):
    """Scenario 1: flavor keys and ``nova meta`` through Keystone and the
    wrs_lm filter, at 2.61 (what openstack, the SDK and Horizon send) and
    2.86, as admin and member."""

    def _set_spec(self, conn, flavor, value, microversion):
        return conn.compute.post(
            '/flavors/%s/os-extra_specs' % flavor.id,
            json={'extra_specs': {TIMEOUT: value}},
            microversion=microversion, raise_exc=False)

    def _specs(self, flavor):
        return self.admin.compute.get(
            '/flavors/%s/os-extra_specs' % flavor.id).json()['extra_specs']

    def test_flavor_keys(self):
        flavor = self.flavor()
        stored = None
        for microversion, valid in (('2.61', '300'), ('2.86', '400')):
            resp = self._set_spec(self.admin, flavor, '100', microversion)
            self.assertEqual(400, resp.status_code, microversion)
            self.assertEqual(TIMEOUT_RULE, _fault(resp))
            self.assertEqual(stored, self._specs(flavor).get(TIMEOUT))
            resp = self._set_spec(self.member, flavor, valid, microversion)
            self.assertEqual(403, resp.status_code, resp.text)
            self.assertEqual(
                "Policy doesn't allow os_compute_api:os-flavor-extra-specs:"
                "create to be performed.", _fault(resp))
            resp = self._set_spec(self.admin, flavor, valid, microversion)
            self.assertEqual(200, resp.status_code, resp.text)
            stored = valid
            self.assertEqual(stored, self._specs(flavor)[TIMEOUT])

        # The openstack client as typed (it sends 2.61).
        proc = subprocess.run(
            [self.lay.bin('nova', 'openstack'), '--os-cloud', L.ADMIN_CLOUD,
             'flavor', 'set', '--property', TIMEOUT + '=119', flavor.id],
            capture_output=True, text=True, timeout=120,
            env={'OS_CLIENT_CONFIG_FILE': self.lay.clouds_yaml,
                 'PATH': '/usr/bin:/bin'})
        self.assertNotEqual(0, proc.returncode)
        self.assertIn(TIMEOUT_RULE, proc.stderr)
        self.assertEqual(stored, self._specs(flavor)[TIMEOUT])

    def test_member_flavor_key_invalid_value(self):
        # Below 2.86 the filter checks the value before Nova checks the
        # policy; from 2.86 Nova checks the policy first.
        flavor = self.flavor()
        resp = self._set_spec(self.member, flavor, '100', '2.61')
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertEqual(TIMEOUT_RULE, _fault(resp))
        resp = self._set_spec(self.member, flavor, '100', '2.86')
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertNotIn(TIMEOUT, self._specs(flavor))

    def test_nova_meta(self):
        server = self.boot()
        uri = '/servers/%s/metadata' % server.id
        for conn in (self.member, self.admin):
            for microversion in ('2.61', '2.86', '2.96'):
                resp = conn.compute.post(
                    uri, json={'metadata': {TIMEOUT: '100'}},
                    microversion=microversion, raise_exc=False)
                self.assertEqual(400, resp.status_code, resp.text)
                self.assertEqual(TIMEOUT_RULE, _fault(resp))
        resp = self.member.compute.post(
            uri, json={'metadata': {TIMEOUT: '150'}}, raise_exc=False)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('150', self.show(server).metadata[TIMEOUT])
        # openstack server set --property (the member's own server).
        proc = subprocess.run(
            [self.lay.bin('nova', 'openstack'), '--os-cloud', L.MEMBER_CLOUD,
             'server', 'set', '--property', TIMEOUT + '=801', server.id],
            capture_output=True, text=True, timeout=120,
            env={'OS_CLIENT_CONFIG_FILE': self.lay.clouds_yaml,
                 'PATH': '/usr/bin:/bin'})
        self.assertNotEqual(0, proc.returncode)
        self.assertIn(TIMEOUT_RULE, proc.stderr)
        self.assertEqual('150', self.show(server).metadata[TIMEOUT])


class LiveMigrationTest(base.ScenarioTestCase):
    """Scenarios 2-5: live migrations of a real guest between the two
    libvirt hosts, each with the instance's own policy."""

    def _migrate(self, server, timeout=base.WAIT):
        src = self.host(self.show(server).compute_host)
        self.live_migrate(server)
        migration = self.wait_migration(server, timeout=timeout)
        return src, self.other_host(src.name), migration

    def _perform_flags(self, host, server):
        """The flags libvirtd on ``host`` logged for the server's
        migration (virDomainMigratePerform3Params), newest last."""
        path = '%s/%s/log/libvirtd.log' % (self.lay.hosts_dir, host.name)
        with open(path, errors='replace') as f:
            return [int(m.group(2), 16) for m in
                    (_PERFORM.search(line) for line in f)
                    if m and m.group(1) == server.id]

    def test_s2_migration_with_the_instances_policy(self):
        flavor = self.flavor({TIMEOUT: '300'})
        image = self.image(hw_wrs_live_migration_max_downtime='1000')
        server = self.boot(image=image, flavor=flavor,
                           metadata={AUTO_CONVERGE: 'false'})
        src, dst, migration = self._migrate(server)

        self.assertEqual('completed', migration['status'])
        server = self.wait_status(server, 'ACTIVE')
        self.assertEqual(dst.name, server.compute_host)
        self.assertEqual('running', self.domain_state(dst, server))
        self.assertIsNone(self.domain_state(src, server))
        before, after = self.console(server, src.name), self.console(server)
        self.assertKeepsRunning(after)
        self.assertMemoryIntact(before, after)
        lines = self.compute_lines(src, 'Live migration policy: ', server)
        self.assertEqual(1, len(lines), lines)
        for part in ('live_migration_timeout=300 (flavor)',
                     'live_migration_max_downtime=1000 (image)',
                     'live_migration_auto_converge=False (instance)'):
            self.assertIn(part, lines[0])
        flags = self._perform_flags(src, server)
        self.assertTrue(flags)
        self.assertFalse(flags[-1] & _TUNNELLED)

    def test_s3_timeout_aborts_and_server_stays_on_source(self):
        server = self.boot(image='wrs-lm-guest-busy', metadata={
            TIMEOUT: '120', AUTO_CONVERGE: 'false'})
        src, dst, migration = self._migrate(server, timeout=400)

        self.assertIn(migration['status'], ('error', 'failed'))
        server = self.wait_status(server, 'ACTIVE')
        self.assertEqual(src.name, server.compute_host)
        self.assertEqual(1, len(self.compute_lines(
            src, 'Live migration not completed after 120 sec', server)))
        self.assertEqual('running', self.domain_state(src, server))
        self.assertIsNone(self.domain_state(dst, server))
        # Guest alive (its memory is not checked after an abort under
        # TCG: doc/real-libvirt-tests.md).
        console = self.console(server)
        self.assertKeepsRunning(console, since=console.console_size())

    def test_s4_auto_converge_throttle_rises_and_completes(self):
        flavor = self.flavor({AUTO_CONVERGE: 'true'})
        server = self.boot(image='wrs-lm-guest-busy', flavor=flavor,
                           metadata={TIMEOUT: '800'})
        src = self.host(self.show(server).compute_host)
        dst = self.other_host(src.name)
        self.live_migrate(server)
        throttles = []

        def done():
            try:
                info = self.virsh(src, 'domjobinfo', server.instance_name)
            except AssertionError:
                info = ''
            match = _THROTTLE.search(info)
            if match:
                throttles.append(int(match.group(1)))
            found = self.migrations(server)
            return found and found[-1]['status'] in base.FINAL
        self.wait_for(done, 'the migration to end', timeout=900)

        self.assertEqual('completed', self.migrations(server)[-1]['status'])
        self.assertTrue(throttles, 'libvirt never reported a throttle')
        self.assertGreater(max(throttles), throttles[0])
        self.assertEqual(sorted(throttles), throttles)
        server = self.wait_status(server, 'ACTIVE')
        self.assertEqual(dst.name, server.compute_host)
        self.assertEqual('running', self.domain_state(dst, server))
        self.assertIsNone(self.domain_state(src, server))
        lines = self.compute_lines(src, 'Live migration policy: ', server)
        self.assertIn('live_migration_auto_converge=True (flavor)',
                      lines[0])

    def test_s5_tunnelled_per_instance(self):
        """Tunnelled per instance (flavor false, metadata true): libvirtd
        is asked for a tunnelled migration.  On this cloud's local storage
        that is a block migration, which Nova 34 cannot tunnel:
        ``Guest.migrate`` drops VIR_MIGRATE_NON_SHARED_INC when no disk
        list is given, and a tunnelled migration gets none (Nova's own
        global ``live_migration_tunnelled`` does the same), so libvirt
        refuses it as unsafe and the migration rolls back with the guest
        running on its source.  (doc/real-cloud.md, "Tunnelling and local
        storage".)"""
        flavor = self.flavor({TUNNEL: 'false'})
        server = self.boot(flavor=flavor, metadata={
            TUNNEL: 'true', AUTO_CONVERGE: 'false'})
        src, dst, migration = self._migrate(server)

        flags = self._perform_flags(src, server)
        self.assertTrue(flags, 'libvirtd on %s logged no migration of %s'
                        % (src.name, server.id))
        self.assertTrue(flags[-1] & _TUNNELLED, hex(flags[-1]))
        lines = self.compute_lines(src, 'Live migration policy: ', server)
        self.assertIn('live_migration_tunnel=True (instance)', lines[0])
        self.assertIn(migration['status'], ('error', 'failed'))
        self.assertTrue(self.compute_lines(
            src, 'Migration without shared storage is unsafe', server))
        server = self.wait_status(server, 'ACTIVE')
        self.assertEqual(src.name, server.compute_host)
        self.assertEqual('running', self.domain_state(src, server))
        self.assertIsNone(self.domain_state(dst, server))
        console = self.console(server)
        self.assertKeepsRunning(console, since=console.console_size())
        self.assertMemoryIntact(console)


class DisabledSourceTest(base.ScenarioTestCase):
    """Scenario 6: a migration off a host disabled for a failure rolls
    back; the instance goes to ERROR with the fault."""

    def _service(self, host):
        return next(self.admin.compute.services(binary='nova-compute',
                                                host=host.name))

    def _set_service(self, service, **body):
        resp = self.admin.compute.put('/os-services/%s' % service.id,
                                      json=body, microversion='2.53',
                                      raise_exc=False)
        self.assertEqual(200, resp.status_code, resp.text)

    def test_s6_rolled_back_migration_errors_the_instance(self):
        server = self.boot(image='wrs-lm-guest-busy',
                           metadata={AUTO_CONVERGE: 'false'})
        src = self.host(self.show(server).compute_host)
        service = self._service(src)
        self._set_service(service, status='disabled',
                          disabled_reason='failure: deployment scenario 6')
        self.addCleanup(self._set_service, service, status='enabled')

        self.live_migrate(server)
        self.wait_migration(server, statuses=('running',))
        # The migration cannot converge, and fails from outside Nova: the
        # job is aborted on the source's libvirtd (what a failing host or
        # migration network does to it).  An abort through Nova's API is
        # an operator's decision, which never errors the instance.
        self.virsh(src, 'domjobabort', self.show(server).instance_name)

        server = self.wait_for(
            lambda: (lambda s: s if s.status == 'ERROR' else None)(
                self.show(server)), 'the server in ERROR')
        self.assertEqual(src.name, server.compute_host)
        self.assertIn('rolled back to source host %s, whose compute '
                      'service is disabled' % src.name,
                      server.fault['message'])
        self.assertIn(self.wait_migration(server)['status'],
                      ('cancelled', 'error', 'failed'))
        self.assertEqual('running', self.domain_state(src, server))

        # The history (MariaDB, uwsgi, Keystone): the failed migration and
        # the driver's ERROR, each once, with the fault as the reason.
        events = history.read(compute_api.Compute(self.admin),
                              server=server.id).events
        self.assertEqual(
            ['create', 'live-migration',
             instance_actions.ERROR_AFTER_ROLLBACK],
            [e['action'] for e in events])
        self.assertEqual(
            [('failed', src.name), ('done', src.name)],
            [(e['result'], e['host']) for e in events[1:]])
        for event in events[1:]:
            self.assertIn('rolled back to source host %s' % src.name,
                          event['reason'])


class HostDownReportedTest(base.ScenarioTestCase):
    """Scenario 7: ``PUT /os-hosts/{host}`` with host_down_reported
    through Keystone, then evacuation."""

    def _report(self, conn, host, down):
        return conn.compute.put(
            '/os-hosts/%s' % host.name, json={'host_down_reported': down},
            raise_exc=False)

    def _service(self, host):
        return next(self.admin.compute.services(binary='nova-compute',
                                                host=host.name))

    def test_s7_host_down_reported_then_evacuation(self):
        server = self.boot()
        src = self.host(self.show(server).compute_host)
        dst = self.other_host(src.name)

        resp = self._report(self.member, src, True)
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual("Policy doesn't allow wrs_lm:os-hosts:"
                         "host_down_reported to be performed.", _fault(resp))
        self.assertEqual('up', self._service(src).state)

        resp = self._report(self.admin, src, True)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(1, resp.json()['host']['instances_marked_down'])
        self.addCleanup(self._bring_back, src)
        service = self._service(src)
        self.assertEqual('down', service.state)
        self.assertTrue(service.is_forced_down)
        shown = self.show(server)
        self.assertEqual('SHUTOFF', shown.status)
        self.assertEqual('stopped', shown.vm_state)

        resp = self.admin.compute.post(
            '/servers/%s/action' % server.id, json={'evacuate': {}},
            microversion='2.29', raise_exc=False)
        self.assertEqual(200, resp.status_code, resp.text)

        def evacuated():
            shown = self.show(server)
            return shown if (shown.compute_host == dst.name and
                             shown.task_state is None) else None
        server = self.wait_for(evacuated, 'the server rebuilt on %s' %
                               dst.name)
        self.assertIn(server.status, ('SHUTOFF', 'ACTIVE'))
        if server.status == 'SHUTOFF':
            # Nova's evacuate keeps a stopped instance stopped.
            self.admin.compute.start_server(server)
            server = self.wait_status(server, 'ACTIVE')
        self.assertEqual('running', self.domain_state(dst, server))
        self.assertKeepsRunning(self.console(server, dst.name))

        # The history of the failed host: the report, the instance marked
        # down, its evacuation, the service forced down now.
        events = history.read(compute_api.Compute(self.admin),
                              host=src.name).events
        mine = [(e['action'], e['from_host'], e['to_host'], e['result'])
                for e in events if e['server_id'] == server.id]
        self.assertEqual(
            [('host_down_reported', None, None, 'done'),
             ('evacuate', src.name, dst.name, 'done')],
            [m for m in mine if m[0] in ('host_down_reported', 'evacuate')])
        self.assertEqual(
            ['host reported down', 'service forced down'],
            [e['action'] for e in events if e['server_id'] is None][:2])

    def test_s8_report_down_then_recover(self):
        # host report-down + host recover as the CLI runs them, on
        # MariaDB: the state the report keeps brings the guest back
        # ACTIVE (a report that kept none left it SHUTOFF).
        server = self.boot()
        src = self.host(self.show(server).compute_host)
        dst = self.other_host(src.name)
        compute = compute_api.Compute(self.admin)
        self.assertEqual(1, compute.report_host_down(src.name)[
            'instances_marked_down'])
        self.addCleanup(self._enable, src)
        self.addCleanup(self._bring_back, src)
        report = recover.Recover(compute, src.name, poll_interval=1).run()
        (outcome,) = report.instances
        self.assertEqual(('active', 'recovered', dst.name),
                         (outcome.from_state, outcome.result, outcome.to),
                         report.as_dict())
        shown = self.wait_status(server, 'ACTIVE')
        self.assertEqual(dst.name, shown.compute_host)
        self.assertEqual('running', self.domain_state(dst, shown))
        service = self._service(src)
        self.assertTrue(service.disabled_reason.startswith(
            recover.REASON_PREFIX), service.disabled_reason)

        events = history.read(compute, host=src.name).events
        # (The host's history has the other scenarios' servers too.)
        (evacuation,) = [e for e in events if e['action'] == 'evacuate' and
                         e['server_id'] == server.id]
        self.assertEqual(
            (server.id, src.name, dst.name, 'done',
             'host %s reported down' % src.name),
            (evacuation['server_id'], evacuation['from_host'],
             evacuation['to_host'], evacuation['result'],
             evacuation['reason']))

    def _enable(self, host):
        service = self._service(host)
        resp = self.admin.compute.put(
            '/os-services/%s' % service.id, json={'status': 'enabled'},
            microversion='2.53', raise_exc=False)
        self.assertEqual(200, resp.status_code, resp.text)

    def _bring_back(self, host):
        """The host's compute restarts (and destroys the evacuated
        guest, as Nova does), then the report is cleared."""
        self.cloud.restart_compute(host)
        self.wait_for(lambda: self._report(self.admin, host, False)
                      .status_code == 200, 'the report cleared',
                      interval=5)
        self.wait_for(lambda: self._service(host).state == 'up',
                      'the service up')


def _boots(statuses):
    """How many boots of the dirtier a console shows: its pass counter
    starts again at each boot."""
    passes = [p for p, _, _ in statuses]
    return (1 if passes else 0) + sum(
        1 for a, b in zip(passes, passes[1:], strict=False)
        if b <= a)


class InstanceHATest(base.ScenarioTestCase):
    """Issue 17 (seed 004's "Instance Restart"): ``kill -9`` of the QEMU
    process of a server, found as seed 004 finds it
    (``OS-EXT-SRV-ATTR:instance_name``, then the QEMU process of that guest
    inside its libvirt host)."""

    def _kill_qemu(self, server):
        """Kill -9 the server's QEMU process; return (host, old PID)."""
        server = self.show(server)
        host = self.host(server.compute_host)
        pid = self.wait_for(
            lambda: computes.qemu_pid(self.lay, host, server.instance_name),
            'the QEMU process of %s' % server.instance_name)
        libvirt_hosts.kill_pid(pid)
        return host, pid

    def _actions(self, server):
        return [a for a in self.admin.compute.get(
            '/servers/%s/os-instance-actions' % server.id).json()[
                'instanceActions'] if a['action'] == 'ha-restart']

    def _finished(self, server):
        """The ha-restart actions once each one's events have finished
        (with success), or None."""
        actions = self._actions(server)
        for action in actions:
            events = self.admin.compute.get(
                '/servers/%s/os-instance-actions/%s' % (
                    server.id, action['request_id'])).json()[
                        'instanceAction'].get('events', [])
            if not events or any(e.get('result') != 'Success'
                                 for e in events):
                return None
        return actions or None

    def test_killed_ha_enabled_guest_gets_a_new_qemu(self):
        server = self.boot(metadata={HA: 'True'})
        console = self.console(server)
        console.wait_for_reports(2, timeout=base.WAIT)
        size, boots = console.console_size(), _boots(console.statuses())
        host, old = self._kill_qemu(server)
        name = self.show(server).instance_name

        def new_qemu():
            pid = computes.qemu_pid(self.lay, host, name)
            return pid if pid and pid != old else None
        self.wait_for(new_qemu, 'a new QEMU process of %s' % name,
                      interval=0.2)
        # The new QEMU process exists from the start of the restart, and
        # libvirt shows the domain 'paused' (starting up) until QEMU is
        # set up: the restart has ended when its action's event has.
        actions = self.wait_for(lambda: self._finished(server),
                                'the ha-restart action to finish')
        shown = self.wait_status(server, 'ACTIVE')
        self.assertEqual(1, shown.power_state)
        self.assertEqual(host.name, shown.compute_host)
        self.assertEqual('running', self.domain_state(host, server))
        # The guest booted a second time (its console: the dirtier's
        # counter starts again, or the file was started anew).
        self.wait_for(lambda: (console.console_size() < size or
                               _boots(console.statuses()) > boots),
                      'a second boot on the console')
        # ... and runs (reports after the kill).
        self.assertKeepsRunning(
            console, since=size if console.console_size() >= size else 0)
        self.assertEqual(1, len(actions))
        self.assertEqual(1, len(self._actions(server)))
        self.assertEqual(1, len(self.compute_lines(
            host, 'Instance HA: restarted the guest', server)))

    def test_killed_untagged_guest_is_shutoff(self):
        server = self.boot()
        host, old = self._kill_qemu(server)
        self.wait_status(server, 'SHUTOFF')
        self.assertEqual('shut off', self.domain_state(host, server))
        self.assertIsNone(computes.qemu_pid(
            self.lay, host, self.show(server).instance_name))
        self.assertEqual([], self._actions(server))
