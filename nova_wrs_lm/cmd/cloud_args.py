"""What every command that talks to a cloud shares: ``--format`` and
``--os-cloud``, the compute API client they give, the exit status of bad
usage."""

from nova_wrs_lm.cloud import compute as compute_api
from nova_wrs_lm.cloud import connection

#: Bad usage, or a cloud that cannot be reached.
EXIT_INVALID = 2


def add(cmd):
    """``--format table|json`` and ``--os-cloud NAME`` on ``cmd``."""
    cmd.add_argument('--format', choices=('table', 'json'), default='table')
    cmd.add_argument('--os-cloud', metavar='NAME', default=None,
                     help='the clouds.yaml entry (default: OS_CLOUD, else '
                          'the OS_* variables)')


def compute(args, conn=None):
    """The :class:`~nova_wrs_lm.cloud.compute.Compute` client of ``conn``,
    else of a connection made from ``args.os_cloud``."""
    return compute_api.Compute(conn or connection.connect(args.os_cloud))
