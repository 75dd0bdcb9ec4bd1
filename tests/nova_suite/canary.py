"""Checks that the run loads the driver it says it loads: a run whose
substitution silently did nothing would pass Nova's tests with Nova's
class."""

import os

from nova.tests.functional.libvirt import base
from nova.virt.libvirt import driver as libvirt_driver

from nova_wrs_lm.virt import driver as wrs_driver


def _expected():
    if os.environ.get('WRS_LM_NOVA_SUITE') == 'stock':
        # Nova's class, whatever the module attribute says now.
        return wrs_driver.LibvirtDriver.__bases__[0]
    return wrs_driver.LibvirtDriver


class DriverLoadedTest(base.ServersTestBase):
    """The class Nova's unit tests build and the class Nova's functional
    harness loads for ``compute_driver = libvirt.LibvirtDriver``."""

    def test_unit_tests_build_the_class(self):
        self.assertIs(_expected(), libvirt_driver.LibvirtDriver)

    def test_harness_computes_load_the_class(self):
        self.start_compute('canary')
        driver = self.computes['canary'].driver
        self.assertIs(_expected(), type(driver))
