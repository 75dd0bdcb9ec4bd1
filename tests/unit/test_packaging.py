"""The installed distribution adds to Nova without replacing its files."""

import importlib.metadata
import sysconfig

import testtools


def _installed():
    # The installed dist, not the nova_wrs_lm.egg-info a build leaves in
    # the source tree (which is on sys.path when tests run from it).
    purelib = sysconfig.get_paths()['purelib']
    (dist,) = [d for d in importlib.metadata.distributions(path=[purelib])
               if d.metadata['Name'] == 'nova-wrs-lm']
    return dist


class InstalledFilesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.files = [str(f) for f in _installed().files]

    def test_only_the_driver_shim_goes_into_novas_package(self):
        in_nova = sorted(f for f in self.files if f.startswith('nova/'))
        self.assertEqual(['nova/virt/wrs_lm/__init__.py'],
                         [f for f in in_nova if not f.endswith('.pyc')])

    def test_no_file_of_novas_etc_is_replaced(self):
        # Nova's wheel installs <prefix>/etc/nova/*; ours go under share/.
        self.assertEqual([], [f for f in self.files
                              if '/etc/nova/' in f
                              and 'share/nova-wrs-lm/' not in f])
        self.assertTrue(any('share/nova-wrs-lm/etc/metadefs/' in f
                            for f in self.files))

    def test_entry_points(self):
        eps = _installed().entry_points
        found = {(ep.group, ep.name): ep.value for ep in eps}
        self.assertEqual('nova_wrs_lm.extra_specs.validators',
                         found[('nova.api.extra_spec_validators', 'wrs_lm')])
        self.assertEqual('nova_wrs_lm.conf:list_opts',
                         found[('oslo.config.opts', 'nova_wrs_lm')])
        self.assertIn(('console_scripts', 'nova-wrs-lm'), found)
