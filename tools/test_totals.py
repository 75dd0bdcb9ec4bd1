"""Print the last stestr run's totals as one closing line."""

import subprocess
import sys

import subunit
import testtools


def main():
    stream = subprocess.run(
        [sys.executable, '-m', 'stestr', 'last', '--subunit'],
        capture_output=True, check=False).stdout
    result = testtools.StreamSummary()
    case = subunit.ByteStreamToStreamResult(
        __import__('io').BytesIO(stream), non_subunit_name='stdout')
    result.startTestRun()
    case.run(result)
    result.stopTestRun()
    passed = result.testsRun - len(result.errors) - len(result.failures) - len(
        result.skipped)
    print('%d passed, %d failed, %d skipped' % (
        passed, len(result.errors) + len(result.failures),
        len(result.skipped)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
