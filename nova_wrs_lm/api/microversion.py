"""The compute API microversion Nova will serve a request at, read before
Nova's router does (the filter runs in front of it)."""

import microversion_parse
from nova import exception
from nova.api.openstack import api_version_request
from nova.api.openstack import wsgi


def is_below(req, version):
    """Whether Nova will treat ``req`` as older than ``version`` (an
    ``APIVersionRequest``).

    The legacy ``/v2`` endpoint counts as below every version (Nova's
    ``LegacyV2CompatibleWrapper`` drops the version headers), no header as
    Nova's default version, ``latest`` as not below.  An unparsable version
    counts as not below: Nova rejects the request itself.
    """
    script = req.script_name.rstrip('/')
    if script.endswith('/v2'):
        return True
    try:
        text = microversion_parse.get_version(
            req.headers, service_type='compute',
            legacy_headers=[wsgi.LEGACY_API_VERSION_REQUEST_HEADER])
        if text is None:
            requested = api_version_request.APIVersionRequest(
                api_version_request.DEFAULT_API_VERSION)
        elif text == 'latest':
            return False
        else:
            requested = api_version_request.APIVersionRequest(text)
    except (ValueError, TypeError, exception.InvalidAPIVersionString):
        return False
    return requested < version
