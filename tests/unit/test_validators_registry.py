"""The validators as Nova loads them: through the installed entry point."""

import testscenarios
import testtools
from nova import exception
from nova.api.validation.extra_specs import validators

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR


class RegistryTest(testtools.TestCase):

    def test_every_flavor_key_and_alias_is_registered(self):
        for setting in spec_table.SETTINGS:
            for key in setting.keys.get(FLAVOR, ()):
                self.assertIn(key, validators.VALIDATORS)
                self.assertEqual(
                    'nova_wrs_lm.extra_specs.validators',
                    type(validators.VALIDATORS[key]).__module__)


class ValidateTest(testscenarios.WithScenarios, testtools.TestCase):

    scenarios = [
        ('timeout', {'key': 'hw:wrs:live_migration_timeout',
                     'good': ['0', '120', '150', '800', 600],
                     'bad': ['-1', '1', '119', '801', 'abc', '', ' ', '1e3',
                             '12O', 'true',
                             # Non-canonical spellings of valid numbers.
                             ' 150 ', '-0', '+120', '0120', '00',
                             '\uff11\uff15\uff10',  # full-width 150
                             '\u0661\u0665\u0660'],  # Arabic-Indic 150
                     'message': 'hw:wrs:live_migration_timeout must be 0 or '
                                'in the range 120 to 800'}),
        ('timeout alias', {'key': 'hw:live_migration_timeout',
                           'good': ['0', '800'],
                           'bad': ['119'],
                           'message': 'hw:live_migration_timeout must be 0 '
                                      'or in the range 120 to 800'}),
        ('downtime', {'key': 'hw:wrs:live_migration_max_downtime',
                      'good': ['100', '5000', '2000000'],
                      'bad': ['99', '0', '-100', 'x', '100.0', '2000001',
                              '9223372036854775808'],
                      'message': 'hw:wrs:live_migration_max_downtime must be '
                                 'in the range 100 to 2000000'}),
        ('auto-converge', {'key': 'hw:wrs:live_migration_auto_converge',
                           'good': ['true', 'False', 'YES', 'off', '1', 't'],
                           'bad': ['maybe', '', '2', 'enabled', ' true',
                                   'false ', '\ttrue'],
                           'message': 'hw:wrs:live_migration_auto_converge '
                                      'must be a boolean (true or false)'}),
        ('auto-converge alias',
         {'key': 'hw:wrs:live_migration_permit_auto_converge',
          'good': ['true'], 'bad': ['maybe'],
          'message': 'hw:wrs:live_migration_permit_auto_converge must be a '
                     'boolean (true or false)'}),
        ('tunnel', {'key': 'hw:wrs:live_migration_tunnel',
                    'good': ['true', 'false'], 'bad': ['tunnel'],
                    'message': 'hw:wrs:live_migration_tunnel must be a '
                               'boolean (true or false)'}),
    ]

    def test_good_values_pass(self):
        for value in self.good:
            validators.validate(self.key, value)

    def test_bad_values_give_the_message(self):
        for value in self.bad:
            exc = self.assertRaises(exception.ValidationError,
                                    validators.validate, self.key, value)
            self.assertEqual(self.message, exc.format_message(), value)
