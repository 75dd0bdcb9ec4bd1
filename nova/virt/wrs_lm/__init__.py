"""Nova loads ``compute_driver`` only as ``nova.virt.<value>``.

This thin package is installed by the nova-wrs-lm distribution (no file of
Nova's is replaced, no ``nova/__init__.py`` is shipped) so that a deployer can
set ``compute_driver = wrs_lm.LibvirtDriver``.  The code lives in
``nova_wrs_lm.virt``.
"""

from nova_wrs_lm.virt.driver import LibvirtDriver

__all__ = ['LibvirtDriver']
