"""The spec table's rule applied to user-supplied keys: instance metadata
and flavor extra specs (nova_wrs_lm.api.live_migration_keys)."""

import unittest

from nova_wrs_lm import spec_table
from nova_wrs_lm.api import live_migration_keys as mv
from nova_wrs_lm.spec_types import FLAVOR


class MetadataErrorTest(unittest.TestCase):

    def test_first_invalid_live_migration_key_named(self):
        self.assertEqual(
            'hw:wrs:live_migration_timeout must be 0 or in the range 120 '
            'to 800',
            mv.metadata_error({'note': 'x',
                               'hw:wrs:live_migration_timeout': '119',
                               'hw:wrs:live_migration_tunnel': 'maybe'}))

    def test_valid_and_unrelated_keys_pass(self):
        self.assertIsNone(mv.metadata_error(
            {'hw:wrs:live_migration_timeout': '0',
             'hw:wrs:live_migration_tunnel': 'True', 'note': 'abc',
             'hw:wrs:live_migration_timout': 'typo is not ours'}))

    def test_every_spelling_of_every_source_in_metadata(self):
        for key, setting in spec_table.all_keys().items():
            self.assertEqual(setting.message(key),
                             mv.metadata_error({key: 'not a value'}), key)

    def test_flavor_keys_only_in_extra_specs(self):
        # Image spellings are not flavor keys: Nova accepts them
        # unvalidated at 2.86, so the filter must too below 2.86.
        self.assertIsNone(mv.extra_specs_error(
            {'hw_wrs_live_migration_max_downtime': '1'}))
        for key, setting in spec_table.keys_for(FLAVOR).items():
            self.assertEqual(setting.message(key),
                             mv.extra_specs_error({key: 'x'}), key)

    def test_non_string_values_and_shapes(self):
        key = 'hw:wrs:live_migration_max_downtime'
        self.assertIsNone(mv.metadata_error({key: 100}))
        for value in (99, None, [], {}, 1.5, True):
            self.assertIsNotNone(mv.metadata_error({key: value}), value)
        for items in (None, [key], 'x', 3):
            self.assertIsNone(mv.metadata_error(items))
