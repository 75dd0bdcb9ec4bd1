"""The live-migration spec table: the single source of truth.

Every key, alias, range, default, precedence rule and gate of the package
is declared here, once.  The extra-spec validators, the resolver, the
``[wrs_lm]`` options, the Glance metadefs, the ``explain`` CLI and the docs
table are all generated from :data:`SETTINGS`.
"""

from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.spec_types import Boolean
from nova_wrs_lm.spec_types import FirstSet
from nova_wrs_lm.spec_types import Fixed
from nova_wrs_lm.spec_types import Gate
from nova_wrs_lm.spec_types import IntRange
from nova_wrs_lm.spec_types import LowestNonZero
from nova_wrs_lm.spec_types import NovaOption
from nova_wrs_lm.spec_types import OwnOption
from nova_wrs_lm.spec_types import Setting

TIMEOUT = Setting(
    name='live_migration_timeout',
    title='Live migration timeout',
    unit='seconds',
    help=('Seconds a live migration may run before it is aborted (or '
          'forced to complete, per [libvirt] live_migration_timeout_action). '
          '0 means no timeout.'),
    value=IntRange(minimum=120, maximum=800, also=(0,),
                   labels={0: 'no timeout'}),
    keys={
        FLAVOR: ('hw:wrs:live_migration_timeout', 'hw:live_migration_timeout'),
        IMAGE: ('hw_wrs_live_migration_timeout', 'hw_live_migration_timeout'),
        INSTANCE: ('hw:wrs:live_migration_timeout',
                   'hw:live_migration_timeout'),
    },
    precedence=LowestNonZero((FLAVOR, IMAGE, INSTANCE)),
    changes_during_migration=True,
    default=OwnOption(
        name='default_timeout',
        default=180,
        help=('Live migration timeout in seconds used when neither the '
              'flavor, the image nor the instance metadata sets one. 0 '
              'disables the timeout. Raise it for large or busy instances '
              'on slow migration networks.')),
)

MAX_DOWNTIME = Setting(
    name='live_migration_max_downtime',
    title='Live migration maximum downtime',
    unit='milliseconds',
    help=('Largest pause of the instance, in milliseconds, that the final '
          'switch-over of a live migration may cause. The downtime is raised '
          'in steps up to this value, at most 2000000 (QEMU\'s limit, '
          '2000 s).'),
    value=IntRange(minimum=100, maximum=2_000_000),
    keys={
        FLAVOR: ('hw:wrs:live_migration_max_downtime',),
        IMAGE: ('hw_wrs_live_migration_max_downtime',),
        INSTANCE: ('hw:wrs:live_migration_max_downtime',
                   'hw_wrs_live_migration_max_downtime'),
    },
    precedence=FirstSet((FLAVOR, INSTANCE, IMAGE)),
    default=NovaOption('libvirt', 'live_migration_downtime'),
    changes_during_migration=True,
)

AUTO_CONVERGE = Setting(
    name='live_migration_auto_converge',
    title='Live migration auto-converge',
    unit='boolean',
    help=('Let the hypervisor throttle the instance\'s vCPUs when it dirties '
          'memory faster than it can be copied, so that the migration '
          'converges.'),
    value=Boolean(),
    keys={
        FLAVOR: ('hw:wrs:live_migration_auto_converge',
                 'hw:wrs:live_migration_permit_auto_converge'),
        INSTANCE: ('hw:wrs:live_migration_auto_converge',
                   'hw:wrs:live_migration_permit_auto_converge'),
    },
    ignored={
        IMAGE: ('hw_wrs_live_migration_auto_converge',
                'hw_wrs_live_migration_permit_auto_converge'),
    },
    precedence=FirstSet((INSTANCE, FLAVOR)),
    default=Fixed(True, 'enabled'),
    gates=(
        Gate('libvirt', 'live_migration_permit_auto_converge', True,
             '[libvirt] live_migration_permit_auto_converge is false'),
        Gate('libvirt', 'live_migration_permit_post_copy', False,
             '[libvirt] live_migration_permit_post_copy is true '
             '(post-copy is used instead of auto-converge)'),
    ),
)

TUNNEL = Setting(
    name='live_migration_tunnel',
    title='Live migration tunnelling',
    unit='boolean',
    help=('Carry the migration data through the libvirtd connection '
          '(VIR_MIGRATE_TUNNELLED with VIR_MIGRATE_PEER2PEER) instead of a '
          'direct hypervisor connection.'),
    value=Boolean(),
    keys={
        FLAVOR: ('hw:wrs:live_migration_tunnel',),
        INSTANCE: ('hw:wrs:live_migration_tunnel',),
    },
    ignored={
        IMAGE: ('hw_wrs_live_migration_tunnel',),
    },
    precedence=FirstSet((INSTANCE, FLAVOR)),
    default=NovaOption('libvirt', 'live_migration_tunnelled'),
    gates=(
        Gate('libvirt', 'live_migration_with_native_tls', False,
             '[libvirt] live_migration_with_native_tls is true (native TLS '
             'replaces tunnelling)'),
    ),
)

INSTANCE_HA = Setting(
    name='instance_ha',
    title='Instance HA restart',
    unit='boolean',
    help=('Restart the guest on its own host when it ends without Nova '
          'asking (QEMU killed or crashed, a guest panic, a virsh destroy '
          'from outside Nova), as Masakari\'s instance monitor does for '
          'HA_Enabled instances; see doc/instance-ha.md. Read by '
          'wrs_lm.LibvirtDriver when the guest ends.'),
    value=Boolean(),
    keys={
        INSTANCE: ('HA_Enabled',),
    },
    precedence=FirstSet((INSTANCE,)),
    default=OwnOption(
        name='restart_all_instances',
        default=False,
        help=('Whether wrs_lm.LibvirtDriver restarts a guest that ended '
              'without Nova asking when its instance metadata does not set '
              'the [wrs_lm] ha_enabled_metadata_key key (Masakari\'s '
              '[instance_failure] process_all_instances). An instance whose '
              'metadata sets the key to false is never restarted.')),
    key_option='ha_enabled_metadata_key',
    live_migration=False,
)

#: The table, in the order settings are reported.
SETTINGS = (TIMEOUT, MAX_DOWNTIME, AUTO_CONVERGE, TUNNEL, INSTANCE_HA)

#: The settings of an instance's live-migration policy.
LIVE_MIGRATION_SETTINGS = tuple(s for s in SETTINGS if s.live_migration)

BY_NAME = {s.name: s for s in SETTINGS}


def keys_for(source):
    """Map every key (canonical and alias) read from ``source`` to its
    setting."""
    return {key: setting
            for setting in SETTINGS
            for key in setting.keys.get(source, ())}


def recognised_keys(source):
    """Every key of ``source`` the resolver looks at: those it reads and
    those it reports as not read there (e.g. image auto-converge keys)."""
    return set(keys_for(source)) | {
        key for setting in SETTINGS
        for key in setting.ignored.get(source, ())}


def keys_changeable_during_migration():
    """The instance-metadata keys (canonical and alias) whose change a
    running live migration applies."""
    return {key: setting
            for setting in SETTINGS if setting.changes_during_migration
            for key in setting.keys.get(INSTANCE, ())}


def all_keys(conf=None):
    """Map every key of every source to its setting (for validation of
    user input wherever it is given); with ``conf``, an instance key that
    a ``[wrs_lm]`` option renames (``Setting.key_option``) is the one that
    option names."""
    found = {}
    for setting in SETTINGS:
        for source, keys in list(setting.keys.items()) + list(
                setting.ignored.items()):
            if source == INSTANCE and keys is setting.keys.get(source):
                keys = setting.keys_in(INSTANCE, conf)
            for key in keys:
                found[key] = setting
    return found
