"""The [wrs_lm] options generated from the spec table."""

import fixtures
import testtools

from nova_wrs_lm import config_loader


class DefaultTimeoutOptionTest(testtools.TestCase):

    def _load(self, value):
        path = self.useFixture(fixtures.TempDir()).join('nova.conf')
        with open(path, 'w') as f:
            f.write('[wrs_lm]\ndefault_timeout = %s\n' % value)
        conf = config_loader.load([path])
        return conf.wrs_lm.default_timeout

    def test_valid(self):
        for value in (0, 120, 800):
            self.assertEqual(value, self._load(value))

    def test_invalid_values_are_refused(self):
        for value in (1, 119, 801, -1):
            self.assertRaises(ValueError, self._load, value)
