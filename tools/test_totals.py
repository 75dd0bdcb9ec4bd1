"""Print the totals of stestr runs (subunit files) as one closing line."""

import sys

import subunit
import testtools


def _totals(paths):
    result = testtools.StreamSummary()
    result.startTestRun()
    for path in paths:
        with open(path, 'rb') as stream:
            subunit.ByteStreamToStreamResult(
                stream, non_subunit_name='stdout').run(result)
    result.stopTestRun()
    failed = len(result.errors) + len(result.failures)
    skipped = len(result.skipped)
    return result.testsRun - failed - skipped, failed, skipped


def main(argv):
    passed, failed, skipped = _totals(argv)
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
