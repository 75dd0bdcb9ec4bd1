"""The ``[wrs_lm]`` group of nova.conf: every option of the package.

Options whose value is a spec-table default are generated from
:mod:`nova_wrs_lm.spec_table`; their range is the setting's rule.

Importing this module registers the group on Nova's global
``nova.conf.CONF``, once, so every part of the package (driver, paste
filter, scheduler plugins, demo) reads ``CONF.wrs_lm`` without caring
which of them was imported first.  :func:`register_opts` remains for a
standalone ``ConfigOpts`` (the CLI's :mod:`nova_wrs_lm.config_loader`).
"""

import nova.conf
from oslo_config import cfg

from nova_wrs_lm import spec_table

GROUP = 'wrs_lm'


def _group():
    # A new OptGroup per ConfigOpts: oslo.config keeps overrides in the
    # group object, so sharing one would leak overrides between configs.
    return cfg.OptGroup(
        GROUP,
        title='nova-wrs-lm options',
        help='Per-instance live-migration policy, host-failure handling '
             'and instance HA restart.')


def _table_opts():
    """The options that spec-table defaults declare (e.g. the timeout's
    ``default_timeout``)."""
    opts = []
    for setting in spec_table.SETTINGS:
        opt = setting.default.option(setting)
        if opt is not None:
            opts.append(opt)
    return opts


_OTHER_OPTS = [
    cfg.StrOpt(
        'host_down_instance_state',
        default='stopped',
        choices=[
            ('stopped', 'Instances on a host reported down become STOPPED '
                        '(vm_state stopped, power_state shutdown), as the '
                        'OPNFV Doctor specification says.'),
            ('error', 'Instances on a host reported down become ERROR with '
                      'a fault saying the host was reported down; an '
                      'evacuation then brings them back ACTIVE.'),
        ],
        help='State given to the instances of a host that an external '
             'monitor reports down through ``PUT /os-hosts/{host}`` with '
             '``host_down_reported``. Nova\'s evacuate keeps a STOPPED '
             'instance stopped on its new host, so pick ``error`` when '
             'recovery is evacuation-based (Masakari, a VIM) and the '
             'instances must come back running.'),
    cfg.ListOpt(
        'failure_disabled_reason_prefixes',
        default=['failure:'],
        help='A live migration that rolls back leaves its instance in '
             'ERROR (with a fault naming the reason) only when its source '
             'compute service is forced down, or disabled with a '
             'disabled_reason that starts with one of these prefixes (case '
             'and leading spaces ignored), as nova-wrs-lm host drain --for '
             'failure sets it. A service disabled for any other reason '
             '(none, "maintenance: ...") keeps the instance ACTIVE with the '
             'migration failed, as stock Nova does. Read by '
             'wrs_lm.LibvirtDriver on the computes.'),
    cfg.IntOpt(
        'live_migration_policy_refresh_interval',
        default=5,
        min=0,
        help='Seconds between two reads, by the migration monitor of '
             'wrs_lm.LibvirtDriver, of the instance metadata of an instance '
             'that is live-migrating, so that a change of its timeout or '
             'maximum downtime (nova meta or openstack server set --property '
             'during the migration) applies to the migration already '
             'running. One read of the instance through nova-conductor per '
             'interval and migration; the job itself is polled every 0.5 s '
             'without any read. 0: never re-read (the policy is fixed when '
             'the migration starts).'),
    cfg.BoolOpt(
        'recover_only_ha_enabled',
        default=False,
        help='When true, nova-wrs-lm host recover evacuates only the '
             'instances of the failed host whose metadata HA_Enabled is '
             'true (Masakari\'s tag, e.g. openstack server set --property '
             'HA_Enabled=True); the others stay on the failed host, listed '
             'as skipped. When false, every instance of the host is '
             'evacuated. Read by the nova-wrs-lm command from the nova.conf '
             'it is given (--config-file), else from the files oslo.config '
             'finds for nova (/etc/nova/nova.conf, ...).'),
    cfg.FloatOpt(
        'failover_segment_weight_multiplier',
        default=10.0,
        min=0.0,
        help='Multiplier of FailoverSegmentWeigher. For a move within a '
             'segment whose recovery method is rh_priority, reserved hosts '
             'weigh 1 and active hosts 0; with auto_priority, the reverse. '
             'Nova adds every weigher\'s normalised weight (0 to 1) times '
             'its multiplier, and its stock weighers together can move a '
             'host by about 8, so keep this above the sum of the other '
             'weighers\' multipliers for the segment order to decide. 0 '
             'turns the weigher off.'),
    # Instance HA (issue 17, doc/instance-ha.md); restart_all_instances is
    # the spec table's default of the instance_ha setting.
    cfg.StrOpt(
        'ha_enabled_metadata_key',
        default=spec_table.INSTANCE_HA.canonical(spec_table.INSTANCE),
        help='Instance metadata key that tags an instance for instance HA: '
             'when its value is true (a canonical boolean: true/false, '
             'yes/no, on/off, 1/0; the API refuses any other value with a '
             '400), wrs_lm.LibvirtDriver restarts the guest on its own host '
             'when it ends without Nova asking (QEMU killed or crashed, a '
             'guest panic, a virsh destroy from outside Nova). The default '
             'is the key Masakari\'s instance monitor reads, so servers '
             'tagged for Masakari (openstack server set --property '
             'HA_Enabled=True) keep their meaning. Set the same value on '
             'the API and compute nodes.'),
    cfg.BoolOpt(
        'restart_on_guest_shutdown',
        default=False,
        help='Whether instance HA also restarts a guest that shut itself '
             'down from inside (poweroff in the guest; libvirt reports the '
             'STOPPED event with reason "shutdown"). By default such an end '
             'is the user\'s stop and Nova\'s behaviour stands (the '
             'instance becomes SHUTOFF). A clean power-off that Nova asked '
             'for (server stop) is never restarted, whatever this says.'),
    cfg.IntOpt(
        'restart_max_attempts',
        default=3,
        min=1,
        help='Restarts of one instance that instance HA makes within '
             '[wrs_lm] restart_window seconds. When the guest ends again '
             'after that many restarts in the window, the instance is set '
             'to ERROR with a fault saying how many restarts failed to keep '
             'it running, and is left alone (a crash loop is not hidden by '
             'endless restarts). Counted from the instance\'s ha-restart '
             'instance actions, so the count survives a restart of '
             'nova-compute.'),
    cfg.IntOpt(
        'restart_window',
        default=600,
        min=1,
        help='Seconds over which instance HA counts the restarts of one '
             'instance against [wrs_lm] restart_max_attempts: restarts '
             'older than this no longer count.'),
]


_OPTS = _table_opts() + _OTHER_OPTS


def register_opts(conf):
    """Register the ``[wrs_lm]`` group on ``conf`` (idempotent)."""
    conf.register_group(_group())
    conf.register_opts(_OPTS, group=GROUP)


def list_opts():
    """Entry point of ``oslo.config.opts`` (oslo-config-generator)."""
    return [(_group(), list(_OPTS))]


# The one registration on Nova's global CONF (see the module docstring).
register_opts(nova.conf.CONF)
