"""One module per resource the ``wrs_lm`` filter routes to.

A handler is called as ``handler(req, **path_parameters)`` with Nova's
``wsgi.Request``.  It returns the response to send, or None to pass the
request on to Nova; it raises a ``webob.exc.HTTPException`` to refuse the
request, which the filter answers as Nova's JSON fault.
"""
