"""Which libvirt migration flags a resolved policy sets and clears.

Pure functions of a :class:`nova_wrs_lm.resolver.Policy`; the driver applies
them on top of Nova's global flags and ``explain`` prints them.
"""

AUTO_CONVERGE = 'VIR_MIGRATE_AUTO_CONVERGE'
TUNNELLED = 'VIR_MIGRATE_TUNNELLED'
PEER2PEER = 'VIR_MIGRATE_PEER2PEER'


def changes(policy):
    """Return ``(set_names, cleared_names)`` for ``policy``.

    Tunnelling needs peer-to-peer; clearing it leaves PEER2PEER as Nova's
    configuration has it.
    """
    to_set, to_clear = [], []
    (to_set if policy.auto_converge else to_clear).append(AUTO_CONVERGE)
    if policy.tunnel:
        to_set += [TUNNELLED, PEER2PEER]
    else:
        to_clear.append(TUNNELLED)
    return tuple(to_set), tuple(to_clear)


def apply(flags, policy, libvirt):
    """Return Nova's ``flags`` with ``policy`` applied; ``libvirt`` is the
    module that defines the constants (real or Nova's fake)."""
    to_set, to_clear = changes(policy)
    for name in to_set:
        flags |= getattr(libvirt, name)
    for name in to_clear:
        flags &= ~getattr(libvirt, name)
    return flags
