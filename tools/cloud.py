"""tools/cloud.sh: a real OpenStack cloud on this machine (parse and
print; the work is nova_wrs_lm.realcloud.deploy).

  up [--computes 2|3] [--no-apt]   install what is missing, start what is
                                   not running, upload the guest, write
                                   clouds.yaml, print how to use it
  down [--purge]                   stop every process it started (by PID);
                                   --purge also removes the state (not
                                   the venvs)
  down --if-tests-started          the same, only if tests/deployment
                                   brought the cloud up
  status                           what runs, and what listens

State directory: $WRS_LM_CLOUD_DIR (default /var/tmp/wrs-lm-cloud).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nova_wrs_lm.realcloud import deploy  # noqa: E402
from nova_wrs_lm.realcloud import processes  # noqa: E402


def _say(text):
    print('cloud: %s' % text if '\n' not in text else text, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='tools/cloud.sh', description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    sub = parser.add_subparsers(dest='command', required=True)
    up = sub.add_parser('up')
    up.add_argument('--computes', type=int, choices=(2, 3), default=2)
    up.add_argument('--no-apt', action='store_true',
                    help='do not install Debian packages')
    down = sub.add_parser('down')
    down.add_argument('--purge', action='store_true')
    down.add_argument('--if-tests-started', action='store_true',
                      help='only if tests/deployment brought it up (and '
                           'did not bring it down)')
    sub.add_parser('status')
    args = parser.parse_args(argv)

    cloud = deploy.Cloud(computes_count=getattr(args, 'computes', 2),
                         say=_say)
    if args.command == 'up':
        try:
            cloud.up(install_packages=not args.no_apt)
        except (deploy.CloudError, processes.ProcessError) as exc:
            print('cloud: up failed: %s' % exc, file=sys.stderr)
            print('cloud: logs in %s; tools/cloud.sh down stops what runs'
                  % cloud.lay.logs, file=sys.stderr)
            return 1
    elif args.command == 'down':
        if args.if_tests_started and not os.path.exists(
                cloud.lay.path(deploy.STARTED_BY_TESTS)):
            return 0
        stopped = cloud.down(purge=args.purge)
        _say('stopped %s' % (', '.join(stopped) or 'nothing (nothing ran)'))
        left = cloud.listening()
        if left:
            _say('still listening:\n  ' + '\n  '.join(left))
            return 1
    else:
        rows = cloud.status()
        width = max(len(r.name) for r in rows)
        for row in rows:
            print('%-*s  %-12s %s' % (width, row.name, 'pid %d' % row.pid
                                      if row.pid else 'stopped',
                                      row.detail))
        listening = cloud.listening()
        print('listening on the cloud\'s addresses: %d sockets' %
              len(listening))
        return 0 if all(r.pid for r in rows) else 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
