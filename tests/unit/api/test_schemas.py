"""Request bodies of a host-down report."""

import unittest

from nova_wrs_lm.api import schemas


class HostDownReportTest(unittest.TestCase):

    def test_forms_recognised(self):
        for body in ({'host_down_reported': True},
                     {'host': {'host_down_reported': 'true'}},
                     {'host_down_reported': 'x', 'extra': 1}):
            self.assertTrue(schemas.is_host_down_report(body), body)
        for body in ({'host': {'status': 'enable'}}, {'host': 'x'}, [],
                     'host_down_reported', None, {}):
            self.assertFalse(schemas.is_host_down_report(body), body)

    def test_valid_values_returned_as_sent(self):
        for value in (True, False, 'true', 'False', 'yes', '0', 'on'):
            self.assertEqual(value, schemas.validate_host_down_report(
                {'host_down_reported': value}))
            self.assertEqual(value, schemas.validate_host_down_report(
                {'host': {'host_down_reported': value}}))

    def _error(self, body):
        with self.assertRaises(schemas.InvalidBody) as caught:
            schemas.validate_host_down_report(body)
        return str(caught.exception)

    def test_non_boolean(self):
        self.assertEqual(
            "Invalid input for field/attribute host_down_reported. Value: "
            "'maybe'. It must be a boolean (true or false).",
            self._error({'host_down_reported': 'maybe'}))
        self.assertIn('host/host_down_reported',
                      self._error({'host': {'host_down_reported': [1]}}))

    def test_nothing_else_in_the_body(self):
        self.assertIn("'status' was unexpected", self._error(
            {'host': {'host_down_reported': True, 'status': 'enable'}}))
        self.assertIn("'force' was unexpected", self._error(
            {'host_down_reported': True, 'force': True}))
        self.assertIn("'other' was unexpected", self._error(
            {'host': {'host_down_reported': True}, 'other': 1}))
