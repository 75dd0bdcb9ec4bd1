"""The JSON body of a request the filter looks at, read as Nova would.

:func:`decode` returns what Nova's ``Resource`` would hand its controller,
or None where Nova would answer the request itself, and raises the
``webob.exc`` error to answer with where Nova 34 would fail with a 500
(or where the size limiter refuses the body).  The filter turns a raised
error into Nova's JSON fault.
"""

import webob.exc
from nova import exception
from oslo_serialization import jsonutils


def decode(req):
    """The decoded JSON body of ``req`` (a ``nova.api.openstack.wsgi.
    Request``), or None when it is empty or not JSON (Nova answers
    "Malformed request body" itself).

    :raises webob.exc.HTTPUnsupportedMediaType: a content type Nova does
        not read as JSON
    :raises webob.exc.HTTPRequestEntityTooLarge: from the ``sizelimit``
        middleware's reader, for a body over ``[wsgi] max_request_body_size``
    :raises webob.exc.HTTPBadRequest: a body that is not UTF-8, or JSON
        nested deeper than the parser can go (Nova answers that with a 500)
    """
    try:
        # Nova's Resource reads the body as JSON when the content type is
        # absent, text/plain or one of its JSON types, and answers 415 for
        # others -- after routes' middleware has parsed form content types,
        # which fails with a 500 on e.g. "multipart/form-data" without a
        # boundary.  The same 415 is answered here first.
        req.get_content_type()
    except exception.InvalidContentType:
        raise webob.exc.HTTPUnsupportedMediaType(
            explanation='Unsupported Content-Type') from None
    raw = req.body
    if not raw:
        return None
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        # Nova's Resource._process_stack decodes the body as UTF-8 to log
        # it and fails with a 500; what it means to answer is this.
        raise webob.exc.HTTPBadRequest(
            explanation='Malformed request body') from None
    try:
        return jsonutils.loads(text)
    except RecursionError:
        raise webob.exc.HTTPBadRequest(
            explanation='Malformed request body') from None
    except (ValueError, TypeError):
        return None
