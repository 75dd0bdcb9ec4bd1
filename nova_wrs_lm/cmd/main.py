"""``nova-wrs-lm``: the package's command line."""

import argparse
import sys

from nova_wrs_lm.cmd import demo
from nova_wrs_lm.cmd import explain
from nova_wrs_lm.cmd import history
from nova_wrs_lm.cmd import host
from nova_wrs_lm.cmd import segment


def _parser():
    parser = argparse.ArgumentParser(
        prog='nova-wrs-lm',
        description='Per-instance live-migration policy and host operations '
                    'for OpenStack Nova.')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True
    demo.add_parser(commands)
    explain.add_parser(commands)
    history.add_parser(commands)
    host.add_parser(commands)
    segment.add_parser(commands)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())
