"""``up``, ``down`` and ``status`` of the one-machine cloud.

:class:`Cloud` knows the layout and the number of compute hosts, starts
what is not running (so ``up`` twice is harmless), and stops everything it
started by PID.
"""

import dataclasses
import datetime
import os
import subprocess
import threading

import yaml

from nova_wrs_lm.realcloud import computes
from nova_wrs_lm.realcloud import configs
from nova_wrs_lm.realcloud import guest as guest_image
from nova_wrs_lm.realcloud import identity
from nova_wrs_lm.realcloud import install
from nova_wrs_lm.realcloud import layout as L
from nova_wrs_lm.realcloud import libvirt_hosts
from nova_wrs_lm.realcloud import processes
from nova_wrs_lm.realcloud import services

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

DRIVER = 'wrs_lm.LibvirtDriver'
NOVA_DRIVER = 'libvirt.LibvirtDriver'

#: Guest images: the dirtier's load on the kernel command line.  CALM
#: converges on the capped link; BUSY dirties faster than the link copies
#: (it converges only when auto-converge throttles its vCPU).
GUEST_IMAGES = {
    'wrs-lm-guest': guest_image.CALM,
    'wrs-lm-guest-busy': guest_image.HEAVY,
}
KERNEL_IMAGE = 'wrs-lm-guest-kernel'
RAMDISK_IMAGE = 'wrs-lm-guest-initramfs'
FLAVOR = 'wrs-lm.small'
#: Marks a cloud that tests/deployment brought up (under the state dir).
STARTED_BY_TESTS = 'run/started-by-tests'


class CloudError(Exception):
    pass


def unavailable():
    """Why this machine cannot run the cloud, or None."""
    return libvirt_hosts.unavailable()


@dataclasses.dataclass
class Status:
    name: str
    pid: int | None
    detail: str = ''


class Cloud:

    def __init__(self, lay=None, computes_count=2, say=print):
        self.lay = lay or L.current()
        self.hosts = L.compute_hosts(computes_count)
        self.say = say
        self._admin = None

    # -- connections -------------------------------------------------

    def admin(self):
        if self._admin is None:
            self._admin = identity.admin_connection()
        return self._admin

    def compute_reported_since(self, host, since):
        """True once the compute service of ``host`` has reported (its
        ``updated_at``) at or after ``since`` (a time.time()); a service
        forced down reports too."""
        try:
            found = list(self.admin().compute.services(
                binary='nova-compute', host=host))
        except Exception:  # noqa: BLE001 - not registered yet
            return False
        for svc in found:
            if not svc.updated_at:
                return False
            updated = datetime.datetime.fromisoformat(
                svc.updated_at).replace(tzinfo=datetime.UTC)
            return updated.timestamp() >= since - 1
        return False

    # -- up ----------------------------------------------------------

    def up(self, install_packages=True):
        if os.geteuid() != 0:
            raise CloudError('needs root (libvirtd, namespaces, MariaDB)')
        for part in (self.lay.etc, self.lay.logs, self.lay.run,
                     self.lay.data):
            os.makedirs(part, exist_ok=True)
        if install_packages:
            install.debian_packages(self.say)
        changed = install.venvs(self.lay, REPO, self.say)
        reason = unavailable()
        if reason:
            raise CloudError(reason)
        stale = self._stop_stale(changed)
        for svc in services.ORDER:
            self.say('%s: %s' % (svc.name, 'running' if svc.pid(self.lay)
                                 else 'starting'))
            svc.start(self)
            if svc.name == 'keystone':
                identity.setup(self.lay)
                self._write_clouds_yaml()
        for host in self.hosts:
            self.say('%s: starting (libvirt host %s)' % (
                computes.compute_name(host), host.address))
            if computes.compute_name(host) in stale:
                self.restart_compute(host)
            else:
                computes.start_compute(self, host, self._driver(host))
        services.nova_manage(self.lay, 'cell_v2', 'discover_hosts')
        self._upload_images()
        self._flavor()
        self.say(self.usage())

    def _stop_stale(self, changed):
        """Stop the running services whose code ``install.venvs`` just
        changed (a venv, or the plugin in the nova venv), so that ``up``
        starts them on the new code; return the names of the computes to
        restart (they restart after the controller)."""
        def stale(svc):
            if svc.venv in changed:
                return True
            return 'plugin' in changed and svc.name.startswith('nova-')
        for svc in services.ORDER:
            if stale(svc) and svc.pid(self.lay):
                self.say('%s: restarting (its code changed)' % svc.name)
                svc.stop(self.lay)
        if not {'nova', 'plugin'} & set(changed):
            return set()
        return {computes.compute_name(h) for h in self.hosts
                if processes.read_pid(self.lay.pid_file(
                    computes.compute_name(h)))}

    def restart_compute(self, host, driver=None):
        """Restart nova-compute of ``host`` (with ``driver``, default the
        one it runs) and wait until it reports again."""
        return computes.restart_compute(self, host,
                                        driver or self._driver(host))

    def _driver(self, host):
        return computes.driver_of(self.lay, host) or DRIVER

    def _write_clouds_yaml(self):
        clouds = configs.clouds_yaml(self.lay)
        with open(self.lay.clouds_yaml, 'w') as f:
            yaml.safe_dump(clouds, f, default_flow_style=False)
        # The nova client reads no clouds.yaml: OS_* files for it.
        for name, cloud in clouds['clouds'].items():
            auth = cloud['auth']
            with open(self.lay.path('openrc-%s' % name), 'w') as f:
                for var, value in (
                        ('OS_AUTH_URL', auth['auth_url']),
                        ('OS_USERNAME', auth['username']),
                        ('OS_PASSWORD', auth['password']),
                        ('OS_PROJECT_NAME', auth['project_name']),
                        ('OS_USER_DOMAIN_NAME', 'Default'),
                        ('OS_PROJECT_DOMAIN_NAME', 'Default'),
                        ('OS_REGION_NAME', cloud['region_name']),
                        ('OS_INTERFACE', 'public'),
                        ('OS_IDENTITY_API_VERSION', '3')):
                    f.write('export %s=%s\n' % (var, value))

    def _upload_images(self):
        image = self.admin().image
        found = {i.name: i for i in image.images()}
        missing = [n for n in (KERNEL_IMAGE, RAMDISK_IMAGE) + tuple(
            GUEST_IMAGES) if n not in found]
        if not missing:
            return
        self.say('building the guest and uploading it to Glance')
        built = guest_image.build()
        for name, disk_format, path in (
                (KERNEL_IMAGE, 'aki', os.path.join(built, 'vmlinuz')),
                (RAMDISK_IMAGE, 'ari', os.path.join(built, 'initramfs.gz'))):
            if name not in found:
                found[name] = image.create_image(
                    name=name, filename=path, disk_format=disk_format,
                    container_format=disk_format, visibility='public',
                    wait=True)
        root = self.lay.path('data', 'root.raw')
        with open(root, 'wb') as f:
            f.truncate(1024 * 1024)
        for name, load in GUEST_IMAGES.items():
            if name in found:
                continue
            image.create_image(
                name=name, filename=root, disk_format='ami',
                container_format='ami', visibility='public', wait=True,
                kernel_id=found[KERNEL_IMAGE].id,
                ramdisk_id=found[RAMDISK_IMAGE].id,
                os_command_line=guest_image.command_line(**load))

    def _flavor(self):
        compute = self.admin().compute
        if compute.find_flavor(FLAVOR) is None:
            compute.create_flavor(name=FLAVOR, ram=192, vcpus=1, disk=1)

    def usage(self):
        venv_bin = os.path.join(self.lay.venv('nova'), 'bin')
        return '\n'.join([
            'The cloud is up (state in %s).' % self.lay.root,
            'Use it with the openstack and nova clients of its venv:',
            '  export OS_CLIENT_CONFIG_FILE=%s' % self.lay.clouds_yaml,
            '  export PATH=%s:$PATH' % venv_bin,
            '  openstack --os-cloud %s server list' % L.ADMIN_CLOUD,
            '  openstack --os-cloud %s server create --flavor %s --image '
            'wrs-lm-guest --no-network --wait demo' % (L.MEMBER_CLOUD,
                                                       FLAVOR),
            '  openstack --os-cloud %s server migrate --live-migration '
            '--wait demo' % L.ADMIN_CLOUD,
            'The nova client reads no clouds.yaml: . %s first.' %
            self.lay.path('openrc-%s' % L.ADMIN_CLOUD),
            'Logs: %s; stop it with tools/cloud.sh down.' % self.lay.logs,
        ])

    # -- down --------------------------------------------------------

    def down(self, purge=False):
        stopped = []
        hosts = self._known_hosts()
        # In parallel: each compute takes its graceful shutdown time.
        # Plain threads, not an executor: down() also runs from atexit,
        # where executors refuse new work.
        pids = {}
        threads = [threading.Thread(
            target=lambda h=h: pids.__setitem__(
                h.name, computes.stop_compute(self.lay, h)))
            for h in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stopped += [computes.compute_name(h) for h in hosts
                    if pids.get(h.name)]
        for svc in services.BENCH_APIS:
            if svc.stop(self.lay):
                stopped.append(svc.name)
        for svc in reversed(services.ORDER):
            if svc.stop(self.lay):
                stopped.append(svc.name)
        for host in hosts:
            if computes.libvirt_host(self.lay, host).running():
                stopped.append('libvirtd-%s' % host.name)
            computes.stop_libvirt(self.lay, host)
        try:
            os.unlink(self.lay.path(STARTED_BY_TESTS))
        except FileNotFoundError:
            pass
        if purge:
            services.remove_state(self.lay)
        return stopped

    def _known_hosts(self):
        """Every compute host with a directory, whatever the count."""
        names = set()
        try:
            names = set(os.listdir(self.lay.hosts_dir))
        except FileNotFoundError:
            pass
        count = max([len(self.hosts)] + [
            int(n[len('wrs-lm-host'):]) for n in names
            if n.startswith('wrs-lm-host') and n[11:].isdigit()])
        return L.compute_hosts(count)

    # -- status ------------------------------------------------------

    def status(self):
        rows = []
        for svc in services.ORDER + services.BENCH_APIS:
            pid = svc.pid(self.lay)
            if pid or svc not in services.BENCH_APIS:
                rows.append(Status(svc.name, pid))
        for host in self._known_hosts():
            lh = computes.libvirt_host(self.lay, host)
            if not os.path.isdir(lh.dir):
                continue
            rows.append(Status('libvirtd-%s' % host.name,
                               lh.pid if lh.running() else None,
                               host.address))
            name = computes.compute_name(host)
            rows.append(Status(name, processes.read_pid(
                self.lay.pid_file(name)), computes.driver_of(self.lay,
                                                             host) or ''))
        return rows

    def listening(self):
        """``ss`` lines of sockets listening on the cloud's addresses."""
        out = subprocess.run(['ss', '-Htlnp'], capture_output=True,
                             text=True).stdout
        marks = [L.CONTROLLER_ADDRESS + ':', '127.0.0.1:%d ' %
                 L.PORTS['epmd']] + [h.address + ':'
                                     for h in self._known_hosts()]
        return [line for line in out.splitlines()
                if any(m in line for m in marks)]
