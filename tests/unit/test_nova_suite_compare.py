"""The comparison of a run of Nova's tests with the list of expected
differences (tests/nova_suite/compare.py) and the checked-in list."""

import os
import tempfile

import testtools

from tests.nova_suite import compare

DIFF = compare.Difference(test='t.listed', reason='on purpose',
                          docs='doc/x.md#y', ours='tests/z.py')


class CompareTest(testtools.TestCase):

    def test_everything_passes(self):
        verdict = compare.compare(['t.a', 't.b'], {'t.a': compare.PASS,
                                                   't.b': compare.SKIP}, {})
        self.assertTrue(verdict.ok)
        self.assertEqual(['t.a'], verdict.passed)
        self.assertEqual(['t.b'], verdict.skipped)

    def test_listed_failure_is_expected(self):
        verdict = compare.compare(['t.a', 't.listed'], {
            't.a': compare.PASS, 't.listed': compare.FAIL},
            {'t.listed': DIFF})
        self.assertTrue(verdict.ok)
        self.assertEqual(['t.listed'], verdict.expected_failures)

    def test_unlisted_failure_fails_the_run(self):
        verdict = compare.compare(['t.a'], {'t.a': compare.FAIL}, {})
        self.assertFalse(verdict.ok)
        self.assertEqual(['t.a'], verdict.unexpected_failures)

    def test_failure_that_passes_when_run_again_is_flaky(self):
        results = {'t.a': compare.PASS, 't.b': compare.FAIL,
                   't.listed': compare.FAIL}
        verdict, flaky = compare.with_second_run(
            ['t.a', 't.b', 't.listed'], results, {'t.listed': DIFF},
            {'t.b': compare.PASS})
        self.assertTrue(verdict.ok)
        self.assertEqual(['t.b'], flaky)
        self.assertEqual(['t.a', 't.b'], verdict.passed)
        self.assertEqual(['t.listed'], verdict.expected_failures)
        # The first run's results are not rewritten.
        self.assertEqual(compare.FAIL, results['t.b'])

    def test_failure_that_fails_again_or_has_no_result_fails_the_run(self):
        for second in ({'t.b': compare.FAIL}, {}):
            verdict, flaky = compare.with_second_run(
                ['t.a', 't.b'], {'t.a': compare.PASS, 't.b': compare.FAIL},
                {}, second)
            self.assertFalse(verdict.ok)
            self.assertEqual([], flaky)
            self.assertEqual(['t.b'], verdict.unexpected_failures)

    def test_listed_test_that_passes_is_stale(self):
        verdict = compare.compare(['t.listed'], {'t.listed': compare.PASS},
                                  {'t.listed': DIFF})
        self.assertFalse(verdict.ok)
        self.assertEqual(['t.listed'], verdict.stale)

    def test_test_without_result_fails_the_run(self):
        verdict = compare.compare(['t.a', 't.b'], {'t.a': compare.PASS}, {})
        self.assertFalse(verdict.ok)
        self.assertEqual(['t.b'], verdict.not_run)

    def test_listed_test_not_selected_fails_the_run(self):
        verdict = compare.compare(['t.a'], {'t.a': compare.PASS},
                                  {'t.listed': DIFF})
        self.assertFalse(verdict.ok)
        self.assertEqual(['t.listed'], verdict.not_run)


class ListTest(testtools.TestCase):

    def test_checked_in_list_is_complete_and_short(self):
        found = compare.load()
        self.assertLessEqual(len(found), 8)
        for test, difference in found.items():
            self.assertTrue(test.startswith('nova.tests.'), test)
            page = difference.docs.split('#')[0]
            self.assertTrue(os.path.exists(page), page)

    def test_entry_without_reason_is_refused(self):
        with tempfile.NamedTemporaryFile('w', suffix='.toml',
                                         delete=False) as out:
            out.write('[[difference]]\ntest = "t"\ndocs = "d"\n'
                      'ours = "o"\n')
        self.addCleanup(os.unlink, out.name)
        self.assertRaises(ValueError, compare.load, out.name)
