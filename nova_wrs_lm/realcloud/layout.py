"""Where everything of the one-machine cloud is: directories, addresses,
ports, names.  Nothing here starts or writes anything."""

import dataclasses
import os

#: The state directory (configs, data, logs, PIDs, venvs).
STATE_DIR_ENV = 'WRS_LM_CLOUD_DIR'
DEFAULT_STATE_DIR = '/var/tmp/wrs-lm-cloud'

#: The controller's services listen here; compute host N on .1N.
CONTROLLER_ADDRESS = '127.0.86.1'

REGION = 'RegionOne'
ADMIN_CLOUD = 'wrs-lm-admin'
MEMBER_CLOUD = 'wrs-lm-member'
ADMIN_PROJECT = 'admin'
ADMIN_USER = 'admin'
MEMBER_PROJECT = 'wrs-lm-demo'
MEMBER_USER = 'wrs-lm-member'
#: A test cloud on loopback: fixed, published passwords.
PASSWORD = 'wrs-lm-secret'
DB_USER = 'wrslm'

#: Ports on CONTROLLER_ADDRESS.
PORTS = {
    'mariadb': 3306,
    'rabbitmq': 5672,
    'rabbitmq-dist': 25672,
    'epmd': 4369,
    'keystone': 5000,
    'glance': 9292,
    'placement': 8778,
    'neutron': 9696,
    'nova-api': 8774,
    # The API benchmark's own nova-api servers (benchmarks/real_cloud.py):
    # without the wrs_lm filter (two), and with it.
    'nova-api-plain': 8775,
    'nova-api-bench': 8776,
    'nova-api-plain2': 8777,
}
LIBVIRT_TCP_PORT = 16509

#: The live-migration link cap of the computes (MiB/s): convergence then
#: depends on the guest's load, not on loopback's speed.
MIGRATION_BANDWIDTH = 16


def state_dir():
    return os.path.abspath(os.environ.get(STATE_DIR_ENV) or
                           DEFAULT_STATE_DIR)


@dataclasses.dataclass(frozen=True)
class ComputeHost:
    """One nova-compute service and its libvirt host."""

    index: int

    @property
    def name(self):
        return 'wrs-lm-host%d' % (self.index + 1)

    @property
    def address(self):
        return '127.0.86.%d' % (11 + self.index)


@dataclasses.dataclass(frozen=True)
class Layout:
    """The paths of one cloud under ``root``."""

    root: str

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    @property
    def etc(self):
        return self.path('etc')

    @property
    def logs(self):
        return self.path('log')

    @property
    def run(self):
        return self.path('run')

    @property
    def data(self):
        return self.path('data')

    @property
    def hosts_dir(self):
        """Each libvirt host's own directories (``LibvirtHost`` dirs)."""
        return self.path('hosts')

    @property
    def instances_path(self):
        """Nova's ``instances_path``: the same path on every compute, each
        host's own directory bound over it in the host's namespace."""
        return self.path('instances')

    def host_instances(self, host):
        """Where ``host``'s instance directories are, seen from outside
        its namespace."""
        return os.path.join(self.hosts_dir, host.name, 'instances')

    def venv(self, name):
        return self.path('venvs', name)

    def bin(self, venv, program):
        return os.path.join(self.venv(venv), 'bin', program)

    def log(self, service):
        return os.path.join(self.logs, service + '.log')

    def pid_file(self, service):
        return os.path.join(self.run, service + '.pid')

    @property
    def clouds_yaml(self):
        return self.path('clouds.yaml')


def current():
    return Layout(state_dir())


def compute_hosts(count):
    return [ComputeHost(i) for i in range(count)]
