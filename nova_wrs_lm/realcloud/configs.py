"""The configuration files of the one-machine cloud, as data: one
function per service returns ``{section: {option: value}}`` (a list value
repeats a multi-valued option); :func:`write_ini` writes one.

Compromises for a test cloud on loopback (doc/real-cloud.md): every
service authenticates as the admin user; passwords are fixed.
"""

import os

from nova_wrs_lm.realcloud import layout as _layout

L = _layout


def write_ini(path, sections):
    """Write ``sections`` as an ini file (``[DEFAULT]`` first)."""
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for name, value in options.items():
            for one in (value if isinstance(value, list) else [value]):
                if isinstance(one, bool):
                    one = 'true' if one else 'false'
                lines.append('%s = %s' % (name, one))
        lines.append('')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def url(service, path=''):
    return 'http://%s:%d%s' % (L.CONTROLLER_ADDRESS, L.PORTS[service], path)


def db_url(name):
    return 'mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8' % (
        L.DB_USER, L.PASSWORD, L.CONTROLLER_ADDRESS, L.PORTS['mariadb'],
        name)


def transport_url():
    return 'rabbit://guest:guest@%s:%d/' % (L.CONTROLLER_ADDRESS,
                                            L.PORTS['rabbitmq'])


def _password_auth(**extra):
    """keystoneauth options of the admin user (every service's own)."""
    auth = {
        'auth_type': 'password',
        'auth_url': url('keystone', '/v3'),
        'username': L.ADMIN_USER,
        'password': L.PASSWORD,
        'user_domain_name': 'Default',
        'project_name': L.ADMIN_PROJECT,
        'project_domain_name': 'Default',
        'region_name': L.REGION,
    }
    auth.update(extra)
    return auth


def _authtoken():
    # Keystone's bootstrap makes no internal identity endpoint.
    return _password_auth(www_authenticate_uri=url('keystone', '/v3'),
                          interface='public',
                          memcached_servers='')


def keystone(lay):
    return {
        'DEFAULT': {'log_file': lay.log('keystone')},
        'database': {'connection': db_url('keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': lay.path('data', 'fernet')},
        'credential': {'key_repository': lay.path('data', 'credential')},
        'oslo_policy': {'enforce_new_defaults': True},
    }


def placement(lay):
    return {
        'DEFAULT': {'log_file': lay.log('placement')},
        'placement_database': {'connection': db_url('placement')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken(),
    }


def glance(lay):
    return {
        'DEFAULT': {
            'log_file': lay.log('glance'),
            'enabled_backends': 'file:file',
            'bind_host': L.CONTROLLER_ADDRESS,
        },
        'database': {'connection': db_url('glance')},
        'glance_store': {'default_backend': 'file'},
        'file': {'filesystem_store_datadir': lay.path('data', 'images')},
        'os_glance_staging_store': {
            'filesystem_store_datadir': lay.path('data', 'images-staging')},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': lay.path('data', 'images-tasks')},
        'keystone_authtoken': _authtoken(),
        'paste_deploy': {
            'flavor': 'keystone',
            'config_file': os.path.join(lay.venv('nova'), 'etc', 'glance',
                                        'glance-api-paste.ini'),
        },
    }


def neutron(lay):
    return {
        'DEFAULT': {
            'log_file': lay.log('neutron'),
            'core_plugin': 'ml2',
            # Neutron 29: with no service plugin every GET /v2.0/ports is
            # a 500 (Port has no port_forwardings).
            'service_plugins': 'router',
            'auth_strategy': 'keystone',
            'transport_url': transport_url(),
            'notify_nova_on_port_status_changes': False,
            'notify_nova_on_port_data_changes': False,
            'api_paste_config': os.path.join(
                lay.venv('neutron'), 'etc', 'neutron', 'api-paste.ini'),
            'state_path': lay.path('data', 'neutron'),
        },
        'database': {'connection': db_url('neutron')},
        'keystone_authtoken': _authtoken(),
        'nova': _password_auth(),
        'oslo_concurrency': {'lock_path': lay.path('data', 'neutron',
                                                   'lock')},
        'ml2': {'type_drivers': 'flat', 'tenant_network_types': '',
                'mechanism_drivers': '', 'extension_drivers': ''},
    }


#: Nova's default filters plus the failover-segment filter
#: (doc/scheduler.md).
_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,'
            'ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,'
            'FailoverSegmentFilter')


def nova_common(lay):
    """nova.conf of every Nova service (no database: computes must not
    have one)."""
    return {
        'DEFAULT': {
            'transport_url': transport_url(),
            'state_path': lay.path('data', 'nova'),
            'instances_path': lay.instances_path,
            # Nova 34's computes linger up to 180 s after SIGTERM.
            'graceful_shutdown_timeout': 15,
            'debug': False,
        },
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken(),
        'placement': _password_auth(valid_interfaces='public'),
        'glance': {'valid_interfaces': 'public', 'region_name': L.REGION},
        'neutron': _password_auth(valid_interfaces='public'),
        'service_user': _password_auth(send_service_user_token=True),
        'oslo_concurrency': {'lock_path': lay.path('data', 'nova', 'lock')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        'vnc': {'enabled': False},
        'serial_console': {'enabled': False},
        'conductor': {'workers': 1},
        'scheduler': {'workers': 1},
        'filter_scheduler': {
            'available_filters': ['nova.scheduler.filters.all_filters',
                                  'nova_wrs_lm.scheduler.filters.'
                                  'all_filters'],
            'enabled_filters': _FILTERS,
            'weight_classes': (
                'nova.scheduler.weights.all_weighers,'
                'nova_wrs_lm.scheduler.weights.failover_segment.'
                'FailoverSegmentWeigher'),
        },
    }


def shipped_api_paste(lay):
    """The plugin's api-paste.ini as installed (used unchanged)."""
    return os.path.join(lay.venv('nova'), 'share', 'nova-wrs-lm', 'etc',
                        'nova', 'api-paste.ini')


def nova_db(lay):
    """What only nova-api, nova-conductor, nova-scheduler and
    nova-manage read."""
    return {
        'database': {'connection': db_url('nova')},
        'api_database': {'connection': db_url('nova_api')},
    }


def nova_service(lay, name):
    return {'DEFAULT': {'log_file': lay.log(name)}}


def nova_compute(lay, host, driver='wrs_lm.LibvirtDriver'):
    """compute-<host>.conf: one compute service on its libvirt host."""
    helper = '%s --config-file %s --config-file %s' % (
        lay.bin('nova', 'privsep-helper'),
        os.path.join(lay.etc, 'nova', 'nova.conf'),
        compute_conf_path(lay, host))
    return {
        'DEFAULT': {
            'host': host.name,
            'my_ip': host.address,
            'compute_driver': driver,
            'log_file': lay.log('nova-compute-%s' % host.name),
            'state_path': lay.path('data', 'nova-%s' % host.name),
        },
        'oslo_concurrency': {'lock_path': lay.path(
            'data', 'nova-%s' % host.name, 'lock')},
        'libvirt': {
            'virt_type': 'qemu',
            'cpu_mode': 'none',
            # Inside the host's mount namespace: its own libvirtd.
            'connection_uri': 'qemu:///system',
            'live_migration_scheme': 'tcp',
            'live_migration_inbound_addr': host.address,
            'live_migration_bandwidth': L.MIGRATION_BANDWIDTH,
            'live_migration_permit_auto_converge': True,
        },
        'workarounds': {
            # Direct-kernel images (aki/ari) fail the deep inspection of
            # fetch_to_raw on the migration destination (doc).
            'disable_deep_image_inspection': True,
        },
        'nova_sys_admin': {'helper_command': helper},
        'nova_libvirt': {'helper_command': helper},
        'vif_plug_linux_bridge_privileged': {'helper_command': helper},
        'vif_plug_ovs_privileged': {'helper_command': helper},
        'compute': {'cpu_shared_set': ''},
    }


def compute_conf_path(lay, host):
    return os.path.join(lay.etc, 'nova', 'compute-%s.conf' % host.name)


def api_paste_without_filter(shipped_text):
    """The shipped api-paste.ini with ``wrs_lm`` taken out of the
    pipelines: the benchmark's baseline only."""
    out = []
    for line in shipped_text.splitlines():
        if line.startswith('keystone = '):
            line = line.replace(' wrs_lm ', ' ')
        out.append(line)
    return '\n'.join(out) + '\n'


def clouds_yaml(lay):
    """clouds.yaml of the admin and member users."""
    def cloud(user, project):
        return {
            'auth': {
                'auth_url': url('keystone', '/v3'),
                'username': user,
                'password': L.PASSWORD,
                'project_name': project,
                'user_domain_name': 'Default',
                'project_domain_name': 'Default',
            },
            'region_name': L.REGION,
            'interface': 'public',
            'identity_api_version': 3,
        }
    return {'clouds': {
        L.ADMIN_CLOUD: cloud(L.ADMIN_USER, L.ADMIN_PROJECT),
        L.MEMBER_CLOUD: cloud(L.MEMBER_USER, L.MEMBER_PROJECT),
    }}


MARIADB_CNF = '''\
[mariadbd]
datadir = {datadir}
socket = {socket}
pid-file = {pidfile}
bind-address = {address}
port = {port}
log-error = {log}
skip-name-resolve
max_connections = 500
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 2
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
'''


def mariadb_cnf(lay):
    return MARIADB_CNF.format(
        datadir=lay.path('data', 'mariadb'),
        socket=lay.path('run', 'mariadb.sock'),
        pidfile=lay.path('run', 'mariadbd.own.pid'),
        address=L.CONTROLLER_ADDRESS, port=L.PORTS['mariadb'],
        log=lay.log('mariadb'))


def rabbitmq_env(lay):
    """The environment of rabbitmq-server and epmd."""
    base = lay.path('data', 'rabbitmq')
    return {
        'HOME': base,
        'RABBITMQ_NODENAME': 'wrs-lm@localhost',
        'RABBITMQ_NODE_IP_ADDRESS': L.CONTROLLER_ADDRESS,
        'RABBITMQ_NODE_PORT': str(L.PORTS['rabbitmq']),
        'RABBITMQ_DIST_PORT': str(L.PORTS['rabbitmq-dist']),
        'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
        'RABBITMQ_LOG_BASE': lay.logs,
        'RABBITMQ_LOGS': lay.log('rabbitmq'),
        'RABBITMQ_CONFIG_FILE': os.path.join(lay.etc, 'rabbitmq',
                                             'rabbitmq'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
            lay.etc, 'rabbitmq', 'enabled_plugins'),
        'RABBITMQ_PID_FILE': lay.path('run', 'rabbitmq.own.pid'),
        'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
            '-kernel inet_dist_use_interface {127,0,0,1}',
        'ERL_EPMD_ADDRESS': '127.0.0.1',
        'ERL_EPMD_PORT': str(L.PORTS['epmd']),
        'RABBITMQ_ALLOW_INPUT': '',
    }


RABBITMQ_CONF = '''\
loopback_users = none
listeners.tcp.default = {address}:{port}
log.console = false
log.file.level = warning
'''
