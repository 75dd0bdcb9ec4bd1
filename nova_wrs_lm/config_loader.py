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
    nova_libvirt_conf.register_opts(conf)
    wrs_conf.register_opts(conf)
    conf(args=[], project='nova', default_config_files=list(config_files))
    return conf
