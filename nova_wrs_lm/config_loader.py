"""A ConfigOpts with the option groups the resolver reads.

Used outside a running Nova service (the CLI), where nothing has
registered Nova's ``[libvirt]`` group yet.
"""

from nova.conf import libvirt as nova_libvirt_conf
from oslo_config import cfg

from nova_wrs_lm import conf as wrs_conf


def load(config_files=()):
    """Return a ConfigOpts with ``[libvirt]`` and ``[wrs_lm]`` registered
    and ``config_files`` (nova.conf and friends) parsed."""
    conf = cfg.ConfigOpts()
    # Register Nova's [libvirt] options under a group of this ConfigOpts:
    # nova.conf.libvirt.register_opts() would share Nova's OptGroup object,
    # and oslo.config keeps overrides in it.
    for group, opts in nova_libvirt_conf.list_opts().items():
        conf.register_opts(opts, group=getattr(group, 'name', group))
    wrs_conf.register_opts(conf)
    conf(args=[], project='nova', default_config_files=list(config_files))
    return conf
