"""JSON schemas of the request bodies the filter handles itself.

``PUT /os-hosts/{host_name}`` with ``host_down_reported`` comes in two
forms: the flat one, ``{"host_down_reported": true}``, and the OPNFV
Doctor one, ``{"host": {"host_down_reported": "true"}}``.  The value is a
boolean in any spelling Nova's own schemas accept
(``nova.api.validation.parameter_types.boolean``).  Nothing else may be
in the body: ``status`` and ``maintenance_mode`` belong to Nova's own
os-hosts update and are not mixed into a host-down report.
"""

import jsonschema
from nova.api.validation import parameter_types

_FLAT = {
    'type': 'object',
    'properties': {'host_down_reported': parameter_types.boolean},
    'required': ['host_down_reported'],
    'additionalProperties': False,
}

_DOCTOR = {
    'type': 'object',
    'properties': {'host': _FLAT},
    'required': ['host'],
    'additionalProperties': False,
}


class InvalidBody(ValueError):
    """The body breaks its schema; ``str()`` is the 400 message."""


def is_host_down_report(body):
    """Whether ``body`` is meant as a host-down report (either form)."""
    if not isinstance(body, dict):
        return False
    host = body.get('host')
    return 'host_down_reported' in body or (
        isinstance(host, dict) and 'host_down_reported' in host)


def validate_host_down_report(body):
    """Return the ``host_down_reported`` value of a body for which
    :func:`is_host_down_report` holds, as it was sent; raise
    :class:`InvalidBody` naming the first offending field."""
    flat = 'host_down_reported' in body
    _validate(_FLAT if flat else _DOCTOR, body)
    return (body if flat else body['host'])['host_down_reported']


def _validate(schema, body):
    validator = jsonschema.Draft4Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return
    path = '/'.join(str(p) for p in error.absolute_path) or 'body'
    if error.validator == 'enum':
        reason = 'It must be a boolean (true or false).'
    else:
        reason = error.message + '.'
    raise InvalidBody('Invalid input for field/attribute %s. Value: %s. %s'
                      % (path, _short(error.instance), reason))


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'
