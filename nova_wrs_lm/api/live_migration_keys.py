"""Validation of the spec table's keys a user sends, in instance metadata
(the live-migration keys and the instance-HA key) and in flavor extra
specs.

The rule and the message come from the spec table (``setting.parse``), so
an invalid value gets the same 400 text from instance metadata, server
create/rebuild and flavor extra specs at every microversion as from the
flavor validator Nova runs at 2.86 and later.
"""

import nova.conf

from nova_wrs_lm import conf  # noqa: F401 (registers [wrs_lm])
from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import InvalidValue

CONF = nova.conf.CONF
# Flavor extra specs: the keys Nova's validators know (2.86 and later).
_FLAVOR_KEYS = spec_table.keys_for(FLAVOR)


def metadata_error(metadata):
    """The message for the first invalid live-migration key of instance
    ``metadata`` (a dict from a request body), or None."""
    # Every spelling of every source is checked, so a key copied from a
    # flavor or an image is not stored with a bad value either; the
    # instance-HA key as [wrs_lm] ha_enabled_metadata_key names it.
    return _first_error(metadata, spec_table.all_keys(CONF))


def extra_specs_error(extra_specs):
    """The message for the first invalid live-migration key of flavor
    ``extra_specs`` (a dict from a request body), or None."""
    return _first_error(extra_specs, _FLAVOR_KEYS)


def _first_error(items, known):
    if not isinstance(items, dict):
        return None  # Nova's own schema rejects the shape
    for key, value in items.items():
        setting = known.get(key)
        if setting is None:
            continue
        try:
            setting.parse(key, value)
        except InvalidValue as exc:
            return exc.message
    return None
