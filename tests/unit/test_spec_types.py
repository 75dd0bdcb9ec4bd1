"""The behaviour of the spec vocabulary that consumers rely on instead of
switching on a value's type."""

import testtools

from nova_wrs_lm import spec_table
from nova_wrs_lm.resolver import Candidate
from nova_wrs_lm.spec_types import Boolean
from nova_wrs_lm.spec_types import FirstSet
from nova_wrs_lm.spec_types import IntRange
from nova_wrs_lm.spec_types import LowestNonZero
from nova_wrs_lm.spec_types import NovaOption


class NovaOptionTest(testtools.TestCase):

    def test_registered_reads_the_option_of_its_own_group(self):
        self.assertEqual(
            500, NovaOption('libvirt', 'live_migration_downtime').registered())

    def test_same_name_in_another_group_is_not_found(self):
        # [libvirt] live_migration_downtime exists; [DEFAULT] has none.
        self.assertRaises(
            LookupError,
            NovaOption('DEFAULT', 'live_migration_downtime').registered)


class PrecedencePickTest(testtools.TestCase):

    def _candidates(self, *values):
        return [Candidate(source, 'k', value)
                for source, value in zip(('flavor', 'image', 'instance'),
                                         values, strict=False)]

    def test_lowest_non_zero(self):
        pick = LowestNonZero(('flavor', 'image', 'instance')).pick
        self.assertIsNone(pick([]))
        self.assertEqual(150, pick(self._candidates(300, 0, 150)).value)
        self.assertEqual('flavor', pick(self._candidates(0, 0)).source)
        self.assertEqual('flavor', pick(self._candidates(200, 200)).source)

    def test_first_set(self):
        pick = FirstSet(('instance', 'flavor')).pick
        self.assertIsNone(pick([]))
        self.assertEqual(300, pick(self._candidates(300, 150)).value)


class ValueTypeTest(testtools.TestCase):

    def test_integer_bounds_examples_display(self):
        rule = spec_table.TIMEOUT.value
        self.assertIs(int, rule.python_type)
        self.assertEqual({'minimum': 0, 'maximum': 800}, rule.bounds())
        valid, invalid = rule.examples()
        self.assertEqual(120, rule.parse(valid))
        self.assertRaises(ValueError, rule.parse, invalid)
        self.assertEqual('0 (no timeout)', rule.display(0, 'seconds'))
        self.assertEqual('300 seconds', rule.display(300, 'seconds'))
        self.assertEqual({'minimum': 100}, IntRange(minimum=100).bounds())

    def test_boolean_bounds_examples_display(self):
        rule = Boolean()
        self.assertIs(bool, rule.python_type)
        self.assertEqual({}, rule.bounds())
        valid, invalid = rule.examples()
        self.assertTrue(rule.parse(valid))
        self.assertRaises(ValueError, rule.parse, invalid)
        self.assertEqual('false', rule.display(False, 'boolean'))

    def test_integer_option_type_keeps_the_hole_in_the_range(self):
        opt_type = spec_table.TIMEOUT.value.oslo_type()
        self.assertEqual(0, opt_type('0'))
        self.assertEqual(120, opt_type('120'))
        self.assertRaises(ValueError, opt_type, '119')
        self.assertRaises(ValueError, opt_type, '801')
