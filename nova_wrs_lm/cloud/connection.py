"""An openstacksdk connection from ``clouds.yaml`` or ``OS_*``."""


class CloudError(Exception):
    """The cloud, or something in it, could not be read; ``str()`` says
    what and why, for the user.  ``status_code``: the HTTP status of the
    API's answer, None when there was none."""

    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code


def connect(cloud=None):
    """An openstacksdk Connection for the ``clouds.yaml`` entry ``cloud``
    (default: ``OS_CLOUD``, else the ``OS_*`` variables).  The SDK
    negotiates the compute microversion (2.47 and later embed the flavor
    and its extra specs in a server)."""
    import openstack
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions

    try:
        return openstack.connect(cloud=cloud)
    except (exceptions.ConfigException,
            ks_exceptions.ClientException) as exc:
        raise CloudError('no cloud to read from: %s (set OS_CLOUD or '
                         'the OS_* variables, or pass --os-cloud)' %
                         exc) from None
