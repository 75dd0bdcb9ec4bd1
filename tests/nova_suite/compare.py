"""A run of Nova's tests against our driver, compared with the checked-in
list of expected differences (``expected_differences.toml``).

Every test passes, except the listed ones, which must fail: a listed test
that passes means the list is stale; one that did not run at all (a
worker killed by the stage's time limit, a test renamed by a new Nova) is
an error too.  Used by ``tools/run-nova-suite.py``; no Nova import.
"""

import dataclasses
import os
import tomllib

EXPECTED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'expected_differences.toml')

#: Keys every entry of the list has.
REQUIRED_KEYS = ('test', 'reason', 'docs', 'ours')

PASS = 'success'
FAIL = 'fail'
SKIP = 'skip'


@dataclasses.dataclass(frozen=True)
class Difference:
    """One test of Nova's that fails with our driver on purpose."""

    test: str
    reason: str
    #: Where our docs say so (``doc/<page>.md#<anchor>``).
    docs: str
    #: Our test that shows the same path working (with a real instance,
    #: or the behaviour we choose instead).
    ours: str


def load(path=EXPECTED_FILE):
    """The list of expected differences (raises ValueError when an entry
    lacks a key or a test is listed twice)."""
    with open(path, 'rb') as stream:
        data = tomllib.load(stream)
    found = {}
    for entry in data.get('difference', []):
        missing = [key for key in REQUIRED_KEYS if not entry.get(key)]
        if missing:
            raise ValueError('%s: entry %r lacks %s' % (
                path, entry.get('test'), ', '.join(missing)))
        if entry['test'] in found:
            raise ValueError('%s: %s listed twice' % (path, entry['test']))
        found[entry['test']] = Difference(
            **{key: entry[key] for key in REQUIRED_KEYS})
    return found


@dataclasses.dataclass
class Verdict:
    """What a run says against the list."""

    passed: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    #: Listed tests that failed (as expected).
    expected_failures: list = dataclasses.field(default_factory=list)
    #: Unlisted tests that failed.
    unexpected_failures: list = dataclasses.field(default_factory=list)
    #: Listed tests that passed: the list is stale.
    stale: list = dataclasses.field(default_factory=list)
    #: Selected tests with no result (or listed tests not selected).
    not_run: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return not (self.unexpected_failures or self.stale or self.not_run)


def compare(selected, results, expected):
    """Compare one run with the list.

    :param selected: the test ids the run was to run.
    :param results: ``{test id: 'success' | 'fail' | 'skip'}``.
    :param expected: ``{test id: Difference}`` (empty for Nova's driver).
    """
    verdict = Verdict()
    for test in sorted(set(selected)):
        status = results.get(test)
        listed = test in expected
        if status is None:
            verdict.not_run.append(test)
        elif status == FAIL:
            (verdict.expected_failures if listed
             else verdict.unexpected_failures).append(test)
        elif listed:
            # A listed test that passes (or skips) no longer shows the
            # difference the list explains.
            verdict.stale.append(test)
        elif status == SKIP:
            verdict.skipped.append(test)
        else:
            verdict.passed.append(test)
    selected = set(selected)
    verdict.not_run += sorted(test for test in expected
                              if test not in selected)
    return verdict



def with_second_run(selected, results, expected, second):
    """The verdict once the unexpected failures of a run have run once
    more (``second``: their results then), and the tests that passed the
    second time (the flaky ones, reported, never hidden).  A test that
    fails again, or has no result the second time, stays a failure."""
    first = compare(selected, results, expected)
    flaky = [test for test in first.unexpected_failures
             if second.get(test) == PASS]
    merged = dict(results)
    merged.update({test: PASS for test in flaky})
    return compare(selected, merged, expected), flaky


def results_from_subunit(stream):
    """``{test id: status}`` from a subunit v2 byte stream (stestr's
    ``last --subunit``); a test that errored counts as failed."""
    import subunit
    import testtools

    results = {}

    def on_test(test):
        status = test['status']
        if status in ('success', 'xfail'):
            results[test['id']] = PASS
        elif status == 'skip':
            results[test['id']] = SKIP
        elif status in ('fail', 'uxsuccess'):
            results[test['id']] = FAIL

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(
        stream, non_subunit_name='stdout').run(result)
    result.stopTestRun()
    return results
