#!/usr/bin/env python3
"""Run Nova 34's own live-migration tests against our driver.

The selection (tests/nova_suite/selection.py: Nova's libvirt driver unit
tests whose names contain ``live_migrat``, and the libvirt functional tests
that live-migrate or evacuate) runs in a stestr run of its own, with
``compute_driver = wrs_lm.LibvirtDriver`` where Nova's tests set
``libvirt.LibvirtDriver`` (and our class as
``nova.virt.libvirt.driver.LibvirtDriver`` for the unit tests).  The result
is compared with tests/nova_suite/expected_differences.toml: the run fails
when a test that is not listed fails, when a listed one passes (the list is
stale) and when a selected test has no result.  An unlisted failure is
run once more, alone: one that passes then is reported as flaky (it does
not fail the run); one that fails again does.

    tools/run-nova-suite.py [--stock] [--concurrency N] [--limit SECONDS]
                            [REGEX ...]

``--stock`` runs the same tests with Nova's own class (the baseline: every
test must pass).  REGEX filters the selection (stestr's filters); the
comparison then covers only what was selected.  See doc/nova-tests.md.
"""

import argparse
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.nova_suite import compare  # noqa: E402

TEST_PATH = './tests/nova_suite'


def _env(driver, dump_dir):
    env = dict(os.environ)
    env['WRS_LM_NOVA_SUITE'] = driver
    env['WRS_LM_NOVA_SUITE_DUMP_DIR'] = dump_dir
    # Nova's tests fail (rather than hang) after this many seconds each.
    env.setdefault('OS_TEST_TIMEOUT', '300')
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
                  if p])
    return env


def _stestr(*args):
    return [sys.executable, '-m', 'stestr', '--test-path', TEST_PATH] + list(
        args)


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as stream:
            found = [int(child) for child in stream.read().split()]
    except OSError:
        return []
    return found + [grand for child in found for grand in _children(child)]


def _run(command, env, limit, dump_dir):
    """Run stestr in a session of its own; past ``limit`` seconds, ask its
    workers for their green threads' stacks (SIGUSR2), then end the
    session.  Returns False when it had to be ended."""
    process = subprocess.Popen(command, cwd=ROOT, env=env,
                               start_new_session=True)
    try:
        process.wait(timeout=limit)
        return True
    except subprocess.TimeoutExpired:
        for child in _children(process.pid):
            try:
                os.kill(child, signal.SIGUSR2)
            except OSError:
                pass
        time.sleep(5)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print('== Nova suite: ended after %d s; stacks of the workers in '
              '%s/greenthreads-*.txt' % (limit, dump_dir))
        return False


def _print_list(title, tests, expected=None):
    if not tests:
        return
    print('%s (%d):' % (title, len(tests)))
    for test in tests:
        print('  ' + test)
        if expected and test in expected:
            print('      listed: ' + expected[test].reason.split('\n')[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--stock', action='store_true',
                        help="run with Nova's own driver class (baseline)")
    parser.add_argument('--concurrency', type=int, default=int(
        os.environ.get('WRS_LM_TEST_CONCURRENCY', '2')))
    parser.add_argument('--limit', type=int, default=int(
        os.environ.get('WRS_LM_NOVA_SUITE_LIMIT', '900')),
        help='seconds before the run is ended (default 900)')
    parser.add_argument('filters', nargs='*')
    args = parser.parse_args(argv)

    driver = 'stock' if args.stock else 'ours'
    expected = {} if args.stock else compare.load()
    dump_dir = tempfile.mkdtemp(prefix='nova-suite-')
    env = _env(driver, dump_dir)

    listed = subprocess.run(_stestr('list', *args.filters), cwd=ROOT,
                            env=env, capture_output=True, text=True)
    if listed.returncode:
        sys.stderr.write(listed.stdout + listed.stderr)
        return 1
    selected = [line for line in listed.stdout.splitlines()
                if line and not line.startswith(' ')]
    if args.filters:
        expected = {test: diff for test, diff in expected.items()
                    if test in selected}

    start = time.monotonic()
    finished = _run(_stestr('run', '--concurrency', str(args.concurrency),
                            *args.filters), env, args.limit, dump_dir)
    elapsed = time.monotonic() - start
    last = subprocess.run(_stestr('last', '--subunit'), cwd=ROOT, env=env,
                          capture_output=True)
    results = compare.results_from_subunit(
        io.BytesIO(last.stdout)) if finished else {}
    verdict = compare.compare(selected, results, expected)
    retried = []
    if finished and verdict.unexpected_failures:
        # Nova's own functional tests can fail under CPU load in its test
        # fixtures (seen: "Can't upgrade a READER transaction to a WRITER
        # mid-transaction" in a cold migration, beside stress-ng). Each
        # unexpected failure runs once more, alone; one that passes then
        # is reported as flaky below, never hidden; one that fails again
        # fails the run.
        again = list(verdict.unexpected_failures)
        print('== Nova suite: running the %d unexpected failure(s) once '
              'more, serially' % len(again))
        if _run(_stestr('run', '--serial', *['^%s$' % re.escape(test)
                                             for test in again]),
                env, args.limit, dump_dir):
            last = subprocess.run(_stestr('last', '--subunit'), cwd=ROOT,
                                  env=env, capture_output=True)
            second = compare.results_from_subunit(io.BytesIO(last.stdout))
            verdict, retried = compare.with_second_run(
                selected, results, expected, second)

    print('== Nova %s tests with %s driver: %d passed, %d skipped, %d '
          'expected failures (listed), %d unexpected failures, %d stale '
          'list entries, %d without a result, in %.0f s' % (
              '34', "Nova's" if args.stock else 'our',
              len(verdict.passed), len(verdict.skipped),
              len(verdict.expected_failures),
              len(verdict.unexpected_failures), len(verdict.stale),
              len(verdict.not_run), elapsed))
    _print_list('Expected differences (failed, as listed)',
                verdict.expected_failures, expected)
    _print_list('UNEXPECTED failures (not in tests/nova_suite/'
                'expected_differences.toml)', verdict.unexpected_failures)
    _print_list('STALE entries (listed, but passed: remove them)',
                verdict.stale, expected)
    _print_list('WITHOUT a result', verdict.not_run)
    _print_list('FLAKY: failed in the run, passed when run again alone',
                retried)
    return 0 if verdict.ok and finished else 1


if __name__ == '__main__':
    sys.exit(main())
