"""The libvirt module Nova's libvirt code uses.

Nova imports libvirt lazily (``nova.virt.libvirt.host`` and
``nova.virt.libvirt.migration`` each keep a module global that Nova's test
fixture replaces with its fake), so the module is looked up at call time,
never bound at import.  Read from Nova 34.0.0: ``driver.libvirt`` and
``migration.libvirt`` are the same module object once the driver is
imported.
"""

from nova.virt.libvirt import migration as libvirt_migrate


def get():
    """The libvirt module as Nova's migration helpers see it (the real
    one, or Nova's fake under its test fixture)."""
    return libvirt_migrate.libvirt
