"""``nova-wrs-lm host``: operations on a compute host, through openstacksdk
(``clouds.yaml`` with ``--os-cloud``, or the ``OS_*`` variables; admin
credentials).

* ``host drain HOST --for maintenance|failure``: move every instance off
  the host (:mod:`nova_wrs_lm.host_ops.drain`);
* ``host enable HOST``: enable the host and recover the instances a failed
  move left in ERROR on it (:mod:`nova_wrs_lm.host_ops.enable`);
* ``host report-down HOST [--clear]``: report the (fenced) host down, or
  clear that (``PUT /os-hosts/HOST`` with ``host_down_reported``,
  :mod:`nova_wrs_lm.host_down`);
* ``host recover HOST``: evacuate the instances of a host that is down
  inside its failover segment, restore their states, release the reserved
  hosts that took them, put the host in maintenance
  (:mod:`nova_wrs_lm.host_ops.recover`).

Parses and prints only.  Progress goes to stderr while a command runs;
the result (a table, or ``--format json``) to stdout.  Exit status: 0 when
everything succeeded, 1 otherwise, 2 for bad usage or a cloud that cannot
be reached.
"""

import json
import sys

from nova_wrs_lm import config_loader
from nova_wrs_lm import text_table
from nova_wrs_lm.cloud import connection
from nova_wrs_lm.cmd import cloud_args
from nova_wrs_lm.host_ops import drain
from nova_wrs_lm.host_ops import enable
from nova_wrs_lm.host_ops import recover

EXIT_FAILED = 1
EXIT_INVALID = cloud_args.EXIT_INVALID


def add_parser(commands):
    parser = commands.add_parser(
        'host', help='drain or enable a compute host',
        description=__doc__)
    hosts = parser.add_subparsers(dest='host_command', metavar='COMMAND')
    hosts.required = True

    cmd = hosts.add_parser(
        'drain', help='move every instance off a host',
        description=drain.__doc__)
    cmd.add_argument('host', metavar='HOST')
    cmd.add_argument('--for', dest='purpose', required=True,
                     choices=drain.PURPOSES,
                     help='maintenance: stop at the first failed move, no '
                          'instance put in ERROR; failure: move all that '
                          'can move, ERROR the others with the reason')
    cmd.add_argument('--reason', metavar='TEXT',
                     help='the service\'s disabled_reason after '
                          '"maintenance: " or "failure: " (default: %s)'
                          % drain.DEFAULT_REASON)
    cmd.add_argument('--concurrency', type=_positive, default=2,
                     metavar='N', help='moves in flight at once (default 2)')
    cmd.add_argument('--dry-run', action='store_true',
                     help='print the plan (each instance, live or cold, or '
                          'why it is skipped) and change nothing')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run_drain)

    cmd = hosts.add_parser(
        'enable', help='enable a host and recover its instances left in '
                       'ERROR by a failed move', description=enable.__doc__)
    cmd.add_argument('host', metavar='HOST')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run_enable)

    cmd = hosts.add_parser(
        'report-down', help='report a fenced host down (or clear that)',
        description='Report HOST down (PUT /os-hosts/HOST with '
                    'host_down_reported: true): its nova-compute service is '
                    'forced down at once and its instances are recorded '
                    'down (STOPPED or ERROR, [wrs_lm] '
                    'host_down_instance_state), keeping their states for '
                    'host recover. Only after the host is fenced: nothing '
                    'may run on it any more.')
    cmd.add_argument('host', metavar='HOST')
    cmd.add_argument('--clear', action='store_true',
                     help='clear the report (host_down_reported: false): '
                          'the service is no longer forced down')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run_report_down)

    cmd = hosts.add_parser(
        'recover', help='evacuate the instances of a host that is down',
        description=recover.__doc__)
    cmd.add_argument('host', metavar='HOST')
    cmd.add_argument('--force', action='store_true',
                     help='recover a host whose service is disabled for '
                          'maintenance (HA is off during maintenance)')
    cmd.add_argument('--concurrency', type=_positive, default=4,
                     metavar='N',
                     help='evacuations in flight at once (default 4)')
    cmd.add_argument('--dry-run', action='store_true',
                     help='print the plan (each instance, its state before '
                          'the failure, or why it is skipped) and change '
                          'nothing')
    cmd.add_argument('--config-file', action='append', default=[],
                     metavar='PATH',
                     help='nova.conf to read [wrs_lm] '
                          'recover_only_ha_enabled from (repeatable; '
                          'default: the files oslo.config finds for nova)')
    cloud_args.add(cmd)
    cmd.set_defaults(run=run_recover)
    return parser


def _positive(text):
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            '--concurrency must be a whole number of at least 1, got %r'
            % text)
    return value


def _cloud_error(command, exc, err):
    err.write('nova-wrs-lm host %s: error: %s\n' % (command, exc))
    return EXIT_INVALID


def _write_json(report, out):
    out.write(json.dumps(report.as_dict(), indent=2, sort_keys=True) + '\n')


def run_drain(args, out=None, err=None, conn=None, **drain_kwargs):
    out, err = out or sys.stdout, err or sys.stderr
    try:
        job = drain.Drain(
            cloud_args.compute(args, conn), args.host, args.purpose,
            args.reason, concurrency=args.concurrency,
            progress=lambda line: err.write(line + '\n'), **drain_kwargs)
        report = job.run(dry_run=args.dry_run)
    except connection.CloudError as exc:
        return _cloud_error('drain', exc, err)
    if args.format == 'json':
        _write_json(report, out)
    else:
        service = report.service
        out.write('Host %s drained for %s%s: service %s (%s), was %s\n\n' % (
            report.host, report.purpose,
            ' (dry run: nothing changed)' if report.dry_run else '',
            service['status'], service['disabled_reason'] or 'no reason',
            service['was']))
        out.write(text_table.render(
            [(o.name or '', o.id, o.action, o.result or 'planned',
              o.to or '', '' if o.seconds is None else '%.1f' % o.seconds,
              o.reason or '') for o in report.instances],
            ('name', 'id', 'action', 'result', 'to', 'seconds',
             'reason')) + '\n')
        out.write('\nmoved %d, failed %d, skipped %d\n' % (
            report.count(drain.MOVED), report.count(drain.FAILED),
            report.count(drain.SKIPPED)))
    return 0 if report.succeeded else EXIT_FAILED


def run_enable(args, out=None, err=None, conn=None, **enable_kwargs):
    out, err = out or sys.stdout, err or sys.stderr
    try:
        report = enable.Enable(
            cloud_args.compute(args, conn), args.host,
            progress=lambda line: err.write(line + '\n'),
            **enable_kwargs).run()
    except connection.CloudError as exc:
        return _cloud_error('enable', exc, err)
    if args.format == 'json':
        _write_json(report, out)
    else:
        out.write('Host %s enabled (was %s)\n\n' % (
            report.host, report.service['was']))
        out.write(text_table.render(
            [(o.name or '', o.id, o.result, o.reason or '')
             for o in report.instances],
            ('name', 'id', 'result', 'reason')) + '\n')
        out.write('\nrecovered %d, failed %d, left %d\n' % (
            report.count(enable.RECOVERED), report.count(enable.FAILED),
            report.count(enable.LEFT)))
    return 0 if report.succeeded else EXIT_FAILED


def run_report_down(args, out=None, err=None, conn=None, **_ignored):
    out, err = out or sys.stdout, err or sys.stderr
    try:
        answer = cloud_args.compute(args, conn).report_host_down(
            args.host, down=not args.clear)
    except connection.CloudError as exc:
        _cloud_error('report-down', exc, err)
        # 503: applied in some cells only; repeating completes it.
        return EXIT_FAILED if exc.status_code == 503 else EXIT_INVALID
    if args.format == 'json':
        out.write(json.dumps(answer, indent=2, sort_keys=True) + '\n')
        return 0
    if answer.get('host_down_reported'):
        out.write('Host %s reported down: nova-compute service %s, forced '
                  'down; %d instance(s) marked down, %d skipped\n' % (
                      answer['host'], answer['status'],
                      answer['instances_marked_down'],
                      len(answer.get('instances_skipped') or ())))
    else:
        out.write('Host %s: down report cleared, nova-compute service %s, '
                  'no longer forced down\n' % (answer['host'],
                                                answer['status']))
    skipped = answer.get('instances_skipped') or ()
    if skipped:
        out.write('\n' + text_table.render(
            [(i['id'], i['reason']) for i in skipped],
            ('skipped instance', 'reason')) + '\n')
    return 0


def _only_ha_enabled(args):
    import oslo_config.cfg
    files = args.config_file or oslo_config.cfg.find_config_files(
        project='nova')
    return config_loader.load(files).wrs_lm.recover_only_ha_enabled


def run_recover(args, out=None, err=None, conn=None, **recover_kwargs):
    out, err = out or sys.stdout, err or sys.stderr
    try:
        only_ha = _only_ha_enabled(args)
    except Exception as exc:  # oslo.config: a file missing, a bad value
        err.write('nova-wrs-lm host recover: error: cannot read the '
                  'configuration: %s\n' % exc)
        return EXIT_INVALID
    try:
        job = recover.Recover(
            cloud_args.compute(args, conn), args.host,
            concurrency=args.concurrency, only_ha_enabled=only_ha,
            force=args.force,
            progress=lambda line: err.write(line + '\n'), **recover_kwargs)
        report = job.run(dry_run=args.dry_run)
    except (connection.CloudError, recover.Refused) as exc:
        return _cloud_error('recover', exc, err)
    if args.format == 'json':
        _write_json(report, out)
    else:
        service = report.service
        out.write('Host %s %s: service %s, %s (%s), was %s\n' % (
            report.host,
            'recovery planned (dry run: nothing changed)' if report.dry_run
            else 'recovered', service['state'], service['status'],
            service['disabled_reason'] or 'no reason', service['was']))
        if report.nothing_to_do:
            out.write('Nothing to do: %s\n' % report.nothing_to_do)
        if report.instances:
            out.write('\n' + text_table.render(
                [(o.name or '', o.id, o.from_state or '',
                  o.result or 'planned', o.to or '',
                  '' if o.seconds is None else '%.1f' % o.seconds,
                  o.reason or '') for o in report.instances],
                ('name', 'id', 'from_state', 'result', 'to', 'seconds',
                 'reason')) + '\n')
        for entry in report.released:
            out.write('\nreserved host %s released: left %s%s%s' % (
                entry['host'], ', '.join(entry['removed_from']) or '-',
                '; joined %s' % ', '.join(entry['added_to'])
                if entry['added_to'] else '',
                '; error: %s' % entry['error'] if entry.get('error')
                else ''))
        out.write('\nrecovered %d, failed %d, skipped %d\n' % (
            report.count(recover.RECOVERED), report.count(recover.FAILED),
            report.count(recover.SKIPPED)))
    return 0 if report.succeeded else EXIT_FAILED
