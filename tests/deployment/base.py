"""Base test case of the deployment scenarios: a real cloud
(:mod:`.cloud`) driven only through its public APIs with openstacksdk and
the written ``clouds.yaml``; evidence read as an operator reads it
(API state, ``virsh`` on each libvirt host, nova-compute's log, the
guest's console log).

On a failed test the paths of every log that explains it are printed and
attached (the cloud's state directory is kept).
"""

import faulthandler
import glob
import os
import re
import subprocess
import sys
import unittest
import uuid

import testtools
from testtools import content

from nova_wrs_lm.harness import waits
from nova_wrs_lm.realcloud import deploy
from nova_wrs_lm.realcloud import guest
from nova_wrs_lm.realcloud import identity
from nova_wrs_lm.realcloud import layout as L
from tests.deployment import cloud as shared_cloud

#: Waits for RPC and migrations: generous, never a speed assertion.
WAIT = 240
#: A test that hangs ends its process with a traceback.
_HANG_LIMIT = 1200

#: Final states of a migration record.
FINAL = ('completed', 'error', 'failed', 'cancelled', 'done')


class ScenarioTestCase(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reason = shared_cloud.unavailable()
        if reason:
            raise unittest.SkipTest('deployment scenarios: %s' % reason)
        cls.cloud = shared_cloud.get()
        cls.lay = cls.cloud.lay
        cls.hosts = cls.cloud.hosts

    def setUp(self):
        super().setUp()
        faulthandler.dump_traceback_later(_HANG_LIMIT, exit=True)
        self.addCleanup(faulthandler.cancel_dump_traceback_later)
        path = shared_cloud.clouds_yaml()
        self.admin = identity.connect(L.ADMIN_CLOUD, path)
        self.member = identity.connect(L.MEMBER_CLOUD, path)
        self.servers = []
        self._log_offsets = {
            p: os.path.getsize(p) for p in self._compute_logs()}
        self.addOnException(self._keep_evidence)

    # -- the cloud's API ----------------------------------------------

    def name(self, what='server'):
        return 'wrs-lm-%s-%s' % (what, uuid.uuid4().hex[:6])

    def flavor(self, extra_specs=None):
        """A flavor of the guest's size with ``extra_specs`` (set at
        2.86, where Nova validates them)."""
        compute = self.admin.compute
        flavor = compute.create_flavor(name=self.name('flavor'), ram=192,
                                       vcpus=1, disk=1)
        self.addCleanup(compute.delete_flavor, flavor, ignore_missing=True)
        if extra_specs:
            resp = compute.post(
                '/flavors/%s/os-extra_specs' % flavor.id,
                json={'extra_specs': extra_specs}, microversion='2.86',
                raise_exc=False)
            self.assertEqual(200, resp.status_code, resp.text)
        return flavor

    def image(self, base='wrs-lm-guest', **properties):
        """A copy of guest image ``base`` (same kernel, initramfs and
        command line) with image ``properties`` of its own."""
        glance = self.admin.image
        src = glance.find_image(base)
        root = self.lay.path('data', 'root.raw')
        image = glance.create_image(
            name=self.name('image'), filename=root, disk_format='ami',
            container_format='ami', visibility='public', wait=True,
            kernel_id=src.kernel_id, ramdisk_id=src.ramdisk_id,
            os_command_line=src.os_command_line,
            **properties)
        self.addCleanup(glance.delete_image, image, ignore_missing=True)
        return image

    def boot(self, image='wrs-lm-guest', flavor=None, metadata=None,
             conn=None, host=None):
        """Boot a server with no network; wait until ACTIVE and its
        dirtier reports on the console.  ``host`` (admin only) picks the
        compute."""
        conn = conn or self.member
        image = self.admin.image.find_image(image) if isinstance(
            image, str) else image
        flavor = flavor or self.admin.compute.find_flavor(deploy.FLAVOR)
        attrs = dict(name=self.name(), image_id=image.id,
                     flavor_id=flavor.id, networks='none',
                     metadata=metadata or {})
        if host:
            conn = self.admin
            attrs['host'] = host
        server = conn.compute.create_server(**attrs)
        self.servers.append(server.id)
        self.addCleanup(self._delete, server.id)
        server = self.admin.compute.wait_for_server(server, wait=WAIT)
        console = self.console(server)
        reports = console.wait_for_reports(1, timeout=WAIT)
        self.assertTrue(reports, 'the guest dirtier never reported:\n%s' %
                        console.read()[-2000:])
        return server

    def _delete(self, server_id):
        compute = self.admin.compute
        server = compute.find_server(server_id, all_projects=True)
        if server is None:
            return
        compute.delete_server(server, force=server.status == 'ERROR')
        try:
            compute.wait_for_delete(server, wait=WAIT)
        except Exception:  # noqa: BLE001 - the next cleanup still runs
            pass

    def show(self, server):
        return self.admin.compute.get_server(server)

    def wait_for(self, predicate, what, timeout=WAIT, interval=1):
        try:
            return waits.until(what, predicate, limit=timeout,
                               interval=interval)
        except TimeoutError:
            self.fail('timed out after %d s waiting for %s' % (
                timeout, what))

    def wait_status(self, server, *statuses):
        def done():
            current = self.show(server)
            return current if (current.status in statuses and
                                current.task_state is None) else None
        return self.wait_for(done, 'server %s in %s' % (server.id,
                                                          statuses))

    def live_migrate(self, server):
        """``nova live-migration SERVER`` (the scheduler picks the
        host; block migration where storage is not shared)."""
        resp = self.admin.compute.post(
            '/servers/%s/action' % server.id,
            json={'os-migrateLive': {'host': None,
                                     'block_migration': 'auto'}},
            microversion='2.30', raise_exc=False)
        self.assertEqual(202, resp.status_code, resp.text)

    def migrations(self, server):
        resp = self.admin.compute.get(
            '/os-migrations?instance_uuid=%s&migration_type=live-migration'
            % server.id, microversion='2.80')
        return sorted(resp.json()['migrations'], key=lambda m: m['id'])

    def wait_migration(self, server, statuses=FINAL, timeout=WAIT):
        """The server's last live migration once its status is one of
        ``statuses`` (the server can be ACTIVE a moment before the record
        is final)."""
        def done():
            found = self.migrations(server)
            return found[-1] if found and found[-1]['status'] in statuses \
                else None
        return self.wait_for(done, 'a migration of %s in %s' % (
            server.id, statuses), timeout=timeout)

    # -- the operator's evidence --------------------------------------

    def host(self, name):
        for host in self.hosts:
            if host.name == name:
                return host
        raise AssertionError('no compute host %s' % name)

    def other_host(self, name):
        return next(h for h in self.hosts if h.name != name)

    def virsh(self, host, *args):
        """``virsh`` against ``host``'s libvirtd, as an operator on that
        host; returns stdout (raises with stderr on failure)."""
        proc = subprocess.run(
            ['virsh', '-c', 'qemu+tcp://%s/system' % host.address] +
            list(args), capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise AssertionError('virsh %s on %s: %s' % (
                ' '.join(args), host.name, proc.stderr.strip()))
        return proc.stdout

    def domain_state(self, host, server):
        """``virsh domstate`` of the server's domain on ``host``, or None
        when the host has no such domain."""
        try:
            return self.virsh(host, 'domstate', server.instance_name
                              ).strip()
        except AssertionError:
            return None

    def console(self, server, host=None):
        """The guest's console log on ``host`` (default: where it runs):
        each host's instance directory has its own."""
        host = self.host(host or self.show(server).compute_host)
        return guest.ConsoleLog(os.path.join(
            self.lay.host_instances(host), server.id, 'console.log'))

    def compute_log(self, host):
        """What nova-compute of ``host`` logged since the test began."""
        path = self.lay.log('nova-compute-%s' % host.name)
        with open(path, errors='replace') as f:
            f.seek(self._log_offsets.get(path, 0))
            return f.read()

    def compute_lines(self, host, pattern, server=None):
        found = []
        for line in self.compute_log(host).splitlines():
            if re.search(pattern, line) and (
                    server is None or server.id in line):
                found.append(line)
        return found

    def assertKeepsRunning(self, console, since=0):
        """The dirtier goes on reporting after console offset ``since``."""
        reports = console.wait_for_reports(2, since=since, timeout=WAIT)
        self.assertEqual(2, len(reports[:2]),
                         'the guest stopped reporting:\n%s' %
                         console.read(since)[-2000:])
        return reports

    def assertMemoryIntact(self, *consoles):
        """No dirtier report of a bad page, before, during or after."""
        for console in consoles:
            self.assertEqual([], console.corrupt_lines())
            self.assertEqual({0}, {bad for _, bad, _ in
                                   console.statuses()} or {0})

    # -- on failure ---------------------------------------------------

    def _compute_logs(self):
        return [self.lay.log('nova-compute-%s' % h.name)
                for h in self.hosts
                if os.path.exists(self.lay.log('nova-compute-%s' % h.name))]

    def _keep_evidence(self, exc_info):
        paths = sorted(glob.glob(os.path.join(self.lay.logs, '*.log')))
        for host in self.hosts:
            base = os.path.join(self.lay.hosts_dir, host.name, 'log')
            paths.append(os.path.join(base, 'libvirtd.log'))
            paths += sorted(glob.glob(os.path.join(base, 'qemu', '*.log')))
            for server_id in self.servers:
                console = os.path.join(self.lay.host_instances(host),
                                       server_id, 'console.log')
                if os.path.exists(console):
                    paths.append(console)
        text = 'logs kept for this failure:\n  ' + '\n  '.join(paths)
        self.addDetail('evidence', content.text_content(text))
        print('\n%s: %s' % (self.id(), text), file=sys.stderr)
