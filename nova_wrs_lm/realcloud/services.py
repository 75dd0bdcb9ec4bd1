"""Each process of the one-machine cloud: how it is set up once (database
schema, keys), started, and known to be ready.  Started in the order of
:data:`ORDER` by :mod:`.deploy`, stopped in the reverse order.

A :class:`Service` names its PID file and log under the cloud's layout;
``start(cloud)`` starts it (if it is not running) and waits until it
answers.
"""

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from nova_wrs_lm.realcloud import configs
from nova_wrs_lm.realcloud import layout as L
from nova_wrs_lm.realcloud import processes

ADDR = L.CONTROLLER_ADDRESS

#: Seconds a service may take to answer after its start (RPC and
#: database set-up on a loaded 2-core machine).
READY_TIMEOUT = 180

_DATABASES = ('keystone', 'placement', 'glance', 'neutron', 'nova_api',
              'nova_cell0', 'nova')


def _run(argv, log_file, env=None, cwd=None):
    """Run a set-up command, its output appended to ``log_file``."""
    with open(log_file, 'ab') as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                              env=dict(os.environ, **(env or {})),
                              cwd=cwd, stdin=subprocess.DEVNULL)
    if proc.returncode:
        raise processes.ProcessError('%s failed (%d)%s' % (
            ' '.join(argv[:3]), proc.returncode,
            processes._tail(log_file)))


def _once(lay, name, func):
    """Run ``func()`` unless it completed before (a stamp file)."""
    stamp = lay.path('data', 'done-%s' % name)
    if os.path.exists(stamp):
        return
    func()
    with open(stamp, 'w') as f:
        f.write('%s\n' % time.ctime())


def http_ready(url, ok=(200, 300, 401)):
    def check():
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status in ok or resp.status < 500
        except urllib.error.HTTPError as exc:
            return exc.code in ok
        except (OSError, ValueError):
            return False
    return check


class Service:
    """One process of the cloud."""

    #: The venv whose programs it runs ('nova', 'neutron') or None.
    venv = None

    def __init__(self, name):
        self.name = name

    def pid(self, lay):
        return processes.read_pid(lay.pid_file(self.name))

    def log_files(self, lay):
        return [lay.log(self.name)]

    def stop(self, lay):
        return processes.stop(lay.pid_file(self.name))

    def start(self, cloud):
        lay = cloud.lay
        if self.pid(lay) is None:
            self.configure(cloud)
            pid = processes.start(self.argv(cloud), lay.pid_file(self.name),
                                  self.stdout_log(lay), env=self.env(cloud))
        else:
            pid = self.pid(lay)
        processes.wait_until(lambda: self.ready(cloud), self.name,
                             READY_TIMEOUT, pid=pid,
                             log_file=self.log_files(lay)[0])
        self.after_start(cloud)
        return pid

    def stdout_log(self, lay):
        return lay.log(self.name)

    def configure(self, cloud):
        """Write config files; set up data the first time."""

    def argv(self, cloud):
        raise NotImplementedError

    def env(self, cloud):
        return {}

    def ready(self, cloud):
        return True

    def after_start(self, cloud):
        """Set-up that needs the service running (once)."""


class MariaDB(Service):

    def _cnf(self, lay):
        return os.path.join(lay.etc, 'mariadb.cnf')

    def configure(self, cloud):
        lay = cloud.lay
        os.makedirs(lay.etc, exist_ok=True)
        with open(self._cnf(lay), 'w') as f:
            f.write(configs.mariadb_cnf(lay))
        datadir = lay.path('data', 'mariadb')
        if not os.path.isdir(os.path.join(datadir, 'mysql')):
            os.makedirs(datadir, exist_ok=True)
            _run(['mariadb-install-db', '--defaults-file=' + self._cnf(lay),
                  '--user=root', '--skip-test-db',
                  '--auth-root-authentication-method=socket'],
                 lay.log('mariadb-install'))

    def argv(self, cloud):
        return ['mariadbd', '--defaults-file=' + self._cnf(cloud.lay),
                '--user=root']

    def ready(self, cloud):
        return processes.listening(ADDR, L.PORTS['mariadb'])

    def sql(self, lay, statement, database=None):
        argv = ['mariadb', '--socket=' + lay.path('run', 'mariadb.sock'),
                '-uroot', '--batch', '--skip-column-names', '-e', statement]
        if database:
            argv.append(database)
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode:
            raise processes.ProcessError('mariadb: %s' % proc.stderr)
        return proc.stdout

    def after_start(self, cloud):
        lay = cloud.lay
        statements = ["CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY "
                      "'%s'" % (L.DB_USER, L.PASSWORD)]
        for db in _DATABASES:
            statements.append('CREATE DATABASE IF NOT EXISTS %s' % db)
            statements.append("GRANT ALL ON %s.* TO '%s'@'%%'" % (
                db, L.DB_USER))
        self.sql(lay, '; '.join(statements))


class Epmd(Service):
    """Erlang's port mapper, started by us so that its PID is ours."""

    def argv(self, cloud):
        return ['epmd', '-address', '127.0.0.1', '-port',
                str(L.PORTS['epmd'])]

    def ready(self, cloud):
        return processes.listening('127.0.0.1', L.PORTS['epmd'])


class RabbitMQ(Service):

    def configure(self, cloud):
        lay = cloud.lay
        etc = os.path.join(lay.etc, 'rabbitmq')
        os.makedirs(etc, exist_ok=True)
        os.makedirs(lay.path('data', 'rabbitmq'), exist_ok=True)
        with open(os.path.join(etc, 'rabbitmq.conf'), 'w') as f:
            f.write(configs.RABBITMQ_CONF.format(
                address=ADDR, port=L.PORTS['rabbitmq']))
        with open(os.path.join(etc, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')

    def argv(self, cloud):
        return ['/usr/lib/rabbitmq/bin/rabbitmq-server']

    def env(self, cloud):
        return configs.rabbitmq_env(cloud.lay)

    def ready(self, cloud):
        return processes.listening(ADDR, L.PORTS['rabbitmq'])


class Uwsgi(Service):
    """A WSGI application under uwsgi (HTTP/1.1 socket: a plain
    ``--http-socket`` resets kept-alive connections)."""

    venv = 'nova'
    module = None
    port_name = None
    processes_count = 1
    threads = 2
    #: The path a GET of which says the service answers.
    probe = '/'

    def argv(self, cloud):
        lay = cloud.lay
        argv = [lay.bin(self.venv, 'uwsgi'),
                '--http11-socket', '%s:%d' % (ADDR, L.PORTS[self.port_name]),
                '--virtualenv', lay.venv(self.venv),
                '--module', self.module,
                '--master', '--die-on-term', '--need-app',
                '--processes', str(self.processes_count),
                '--threads', str(self.threads), '--enable-threads',
                '--lazy-apps', '--buffer-size', '65535',
                '--procname-prefix', 'wrs-lm-%s ' % self.name,
                # Not --http-keepalive: with it, the second request on a
                # kept-alive connection lost its headers (401s).
                '--http-chunked-input']
        for name, value in self.env(cloud).items():
            argv += ['--env', '%s=%s' % (name, value)]
        return argv

    def stdout_log(self, lay):
        return lay.log(self.name + '-uwsgi')

    def log_files(self, lay):
        return [lay.log(self.name), self.stdout_log(lay)]

    def ready(self, cloud):
        return http_ready(configs.url(self.port_name, self.probe))()


class Keystone(Uwsgi):
    module = 'keystone.wsgi.api:application'
    port_name = 'keystone'
    probe = '/v3'

    def _conf(self, lay):
        return os.path.join(lay.etc, 'keystone', 'keystone.conf')

    def env(self, cloud):
        return {'OS_KEYSTONE_CONFIG_FILES': self._conf(cloud.lay)}

    def configure(self, cloud):
        lay = cloud.lay
        configs.write_ini(self._conf(lay), configs.keystone(lay))
        manage = [lay.bin('nova', 'keystone-manage'), '--config-file',
                  self._conf(lay)]
        log = lay.log('keystone-manage')

        def setup():
            for path in ('fernet', 'credential'):
                os.makedirs(lay.path('data', path), mode=0o700,
                            exist_ok=True)
            _run(manage + ['db_sync'], log)
            _run(manage + ['fernet_setup', '--keystone-user', 'root',
                           '--keystone-group', 'root'], log)
            _run(manage + ['credential_setup', '--keystone-user', 'root',
                           '--keystone-group', 'root'], log)
            _run(manage + ['bootstrap', '--bootstrap-password', L.PASSWORD,
                           '--bootstrap-admin-url',
                           configs.url('keystone', '/v3'),
                           '--bootstrap-public-url',
                           configs.url('keystone', '/v3'),
                           '--bootstrap-region-id', L.REGION], log)
        _once(lay, 'keystone', setup)


class Placement(Uwsgi):
    module = 'placement.wsgi.api:application'
    port_name = 'placement'

    def _dir(self, lay):
        return os.path.join(lay.etc, 'placement')

    def env(self, cloud):
        return {'OS_PLACEMENT_CONFIG_DIR': self._dir(cloud.lay)}

    def configure(self, cloud):
        lay = cloud.lay
        conf = os.path.join(self._dir(lay), 'placement.conf')
        configs.write_ini(conf, configs.placement(lay))
        _once(lay, 'placement', lambda: _run(
            [lay.bin('nova', 'placement-manage'), '--config-file', conf,
             'db', 'sync'], lay.log('placement-manage')))


class Glance(Uwsgi):
    module = 'glance.wsgi.api:application'
    port_name = 'glance'

    def _dir(self, lay):
        return os.path.join(lay.etc, 'glance')

    def env(self, cloud):
        return {'OS_GLANCE_CONFIG_DIR': self._dir(cloud.lay)}

    def configure(self, cloud):
        lay = cloud.lay
        conf = os.path.join(self._dir(lay), 'glance-api.conf')
        configs.write_ini(conf, configs.glance(lay))
        for part in ('images', 'images-staging', 'images-tasks'):
            os.makedirs(lay.path('data', part), exist_ok=True)
        _once(lay, 'glance', lambda: _run(
            [lay.bin('nova', 'glance-manage'), '--config-file', conf,
             'db_sync'], lay.log('glance-manage')))


class Neutron(Uwsgi):
    venv = 'neutron'
    module = 'neutron.wsgi.api:application'
    port_name = 'neutron'

    def _dir(self, lay):
        return os.path.join(lay.etc, 'neutron')

    def env(self, cloud):
        return {'OS_NEUTRON_CONFIG_DIR': self._dir(cloud.lay),
                'OS_NEUTRON_CONFIG_FILES': 'neutron.conf;ml2_conf.ini'}

    def configure(self, cloud):
        lay = cloud.lay
        conf = os.path.join(self._dir(lay), 'neutron.conf')
        sections = configs.neutron(lay)
        ml2 = {'ml2': sections.pop('ml2')}
        configs.write_ini(conf, sections)
        configs.write_ini(os.path.join(self._dir(lay), 'ml2_conf.ini'), ml2)
        os.makedirs(lay.path('data', 'neutron', 'lock'), exist_ok=True)
        _once(lay, 'neutron', lambda: _run(
            [lay.bin('neutron', 'neutron-db-manage'), '--config-file', conf,
             '--config-file', os.path.join(self._dir(lay), 'ml2_conf.ini'),
             'upgrade', 'heads'], lay.log('neutron-manage')))

    def after_start(self, cloud):
        # Neutron 29: the first GET /v2.0/networks warms the API's
        # mapper; before it, GET /v2.0/ports can fail.
        cloud.admin().network.get('/networks')


def nova_conf_files(lay, *extra):
    etc = os.path.join(lay.etc, 'nova')
    return [os.path.join(etc, 'nova.conf')] + [
        os.path.join(etc, name) for name in extra]


def write_nova_configs(cloud):
    lay = cloud.lay
    etc = os.path.join(lay.etc, 'nova')
    configs.write_ini(os.path.join(etc, 'nova.conf'),
                      configs.nova_common(lay))
    configs.write_ini(os.path.join(etc, 'nova-db.conf'), configs.nova_db(lay))
    for name in ('nova-api', 'nova-conductor', 'nova-scheduler'):
        configs.write_ini(os.path.join(etc, name + '.conf'),
                          configs.nova_service(lay, name))
    for part in ('nova', 'nova/lock'):
        os.makedirs(lay.path('data', part), exist_ok=True)


def nova_manage(lay, *args):
    argv = [lay.bin('nova', 'nova-manage')]
    for path in nova_conf_files(lay, 'nova-db.conf'):
        argv += ['--config-file', path]
    _run(argv + list(args), lay.log('nova-manage'))


class NovaApi(Uwsgi):
    module = 'nova.wsgi.osapi_compute:application'
    port_name = 'nova-api'
    processes_count = 2
    threads = 1

    def paste(self, lay):
        """The plugin's shipped api-paste.ini, unchanged."""
        return configs.shipped_api_paste(lay)

    def env(self, cloud):
        # nova.api.openstack.wsgi_app loads its pipeline from the first
        # file of the list.
        return {'OS_NOVA_CONFIG_DIR': os.path.join(cloud.lay.etc, 'nova'),
                'OS_NOVA_CONFIG_FILES': '%s;nova.conf;nova-db.conf;%s.conf' %
                (self.paste(cloud.lay), self.name)}

    def configure(self, cloud):
        lay = cloud.lay
        write_nova_configs(cloud)

        def setup():
            nova_manage(lay, 'api_db', 'sync')
            nova_manage(lay, 'cell_v2', 'map_cell0', '--database_connection',
                        configs.db_url('nova_cell0'))
            nova_manage(lay, 'cell_v2', 'create_cell', '--name', 'cell1')
            nova_manage(lay, 'db', 'sync')
        _once(lay, 'nova', setup)


class BenchApi(NovaApi):
    """A second nova-api on a port of its own, for the API benchmark only
    (started and stopped by it): with the shipped pipeline unchanged, or
    with only the ``wrs_lm`` filter taken out.  The benchmark compares
    fresh instances of the same configuration, never the cloud's own
    nova-api, which has served the cloud's traffic since it started."""

    def __init__(self, name, port_name, with_filter):
        super().__init__(name)
        self.port_name = port_name
        self.with_filter = with_filter

    def paste(self, lay):
        if self.with_filter:
            return configs.shipped_api_paste(lay)
        return os.path.join(lay.etc, 'nova', 'api-paste-plain.ini')

    def configure(self, cloud):
        lay = cloud.lay
        configs.write_ini(os.path.join(lay.etc, 'nova', self.name + '.conf'),
                          configs.nova_service(lay, self.name))
        if not self.with_filter:
            with open(configs.shipped_api_paste(lay)) as f:
                text = configs.api_paste_without_filter(f.read())
            with open(self.paste(lay), 'w') as f:
                f.write(text)


class NovaService(Service):
    """nova-conductor or nova-scheduler (console scripts)."""

    venv = 'nova'

    def argv(self, cloud):
        argv = [cloud.lay.bin('nova', self.name)]
        for path in nova_conf_files(cloud.lay, 'nova-db.conf',
                                    self.name + '.conf'):
            argv += ['--config-file', path]
        return argv

    def stdout_log(self, lay):
        return lay.log(self.name + '-stdout')

    def log_files(self, lay):
        return [lay.log(self.name), self.stdout_log(lay)]

    def ready(self, cloud):
        return _log_has(cloud.lay.log(self.name), 'Starting ')


def _log_has(path, text):
    try:
        with open(path, errors='replace') as f:
            return text in f.read()
    except OSError:
        return False


def remove_state(lay):
    """Remove the cloud's state except its venvs (after ``down``)."""
    for part in ('etc', 'data', 'log', 'run', 'hosts', 'instances',
                 'clouds.yaml'):
        path = lay.path(part)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)


#: Controller services, in start order.
ORDER = (
    MariaDB('mariadb'),
    Epmd('epmd'),
    RabbitMQ('rabbitmq'),
    Keystone('keystone'),
    Placement('placement'),
    Glance('glance'),
    Neutron('neutron'),
    NovaApi('nova-api'),
    NovaService('nova-conductor'),
    NovaService('nova-scheduler'),
)

#: The API benchmark's servers: with the filter, without it, and a second
#: one without it (the two without show the noise between identical
#: servers).
BENCH_APIS = (
    BenchApi('nova-api-bench', 'nova-api-bench', with_filter=True),
    BenchApi('nova-api-plain', 'nova-api-plain', with_filter=False),
    BenchApi('nova-api-plain2', 'nova-api-plain2', with_filter=False),
)
