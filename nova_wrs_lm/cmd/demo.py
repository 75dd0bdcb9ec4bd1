"""``nova-wrs-lm demo``: every capability of the package, end to end, in a
real Nova running inside this process (no deployment needed).

The cloud is Nova's own in-process services (API, conductor, scheduler,
placement, six computes on Nova's fake libvirt with this package's
driver), with sqlite and in-memory messaging.  Each step prints what it
did and what Nova answered; a summary says which steps met their
expectations.  The exit status is 1 when any did not.
"""

import sys
import time

from nova_wrs_lm.demo import report
from nova_wrs_lm.demo import steps
from nova_wrs_lm.harness import embedded
from nova_wrs_lm.harness import settings

#: Exit status when a step's expectation is not met.
EXIT_FAILED = 1


def add_parser(commands):
    parser = commands.add_parser(
        'demo',
        help='run every capability end to end on an embedded Nova cloud',
        description=__doc__)
    parser.add_argument(
        '--step', type=int, action='append', metavar='N',
        choices=[number for number, _t, _f in steps.STEPS],
        help='run only step N (repeatable); steps: %s' % '; '.join(
            '%d %s' % (number, title) for number, title, _f in steps.STEPS))
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table',
                        help='table: steps as they run and a summary; '
                             'json: one document with every record')
    parser.add_argument('--verbose', action='store_true',
                        help='also stream Nova\'s own log to stderr')
    parser.set_defaults(run=run)
    return parser


def _run_step(cloud, number, title, function):
    result = report.StepResult(number, title)
    started = time.monotonic()
    try:
        function(cloud, result)
    except Exception as exc:  # a step that breaks is a failed step
        result.error = '%s: %s' % (type(exc).__name__, exc)
    result.seconds = time.monotonic() - started
    return result


def run(args, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()

    def progress(line):
        err.write('[%5.1fs] %s\n' % (time.monotonic() - started, line))
        err.flush()

    wanted = [s for s in steps.STEPS
              if not args.step or s[0] in args.step]
    notes = []
    if not settings.driver_available():
        err.write('nova-wrs-lm demo: error: compute_driver = %s cannot be '
                  'loaded (is nova-wrs-lm installed?)\n' %
                  settings.WRS_DRIVER)
        return EXIT_FAILED
    cloud = embedded.EmbeddedCloud(
        hosts=steps.HOSTS, verbose=args.verbose, progress=progress,
        overrides=steps.overrides, speed_up=steps.SPEED_UP)
    results = []
    with cloud:
        if not cloud.api_filter:
            notes.append('api-paste.ini without the wrs_lm filter: Nova\'s '
                         'own pipeline is used')
        for number, title, function in wanted:
            progress('step %d: %s' % (number, title))
            result = _run_step(cloud, number, title, function)
            results.append(result)
            if args.format != 'json':
                report.write_step(result, out)
        about = {
            'hosts': list(cloud.hosts),
            'compute_driver': cloud.compute_driver,
            'api_paste': cloud.api_paste,
            'wrs_lm_api_filter': cloud.api_filter,
        }
    total = time.monotonic() - started
    if args.format == 'json':
        report.write_json(results, total, out, notes=notes, cloud=about)
    else:
        report.write_summary(results, total, out, notes=notes)
    return 0 if all(r.ok for r in results) else EXIT_FAILED
