"""Validators for the live-migration flavor keys of the spec table.

Registered through the ``nova.api.extra_spec_validators`` entry point, so
that Nova's own ``nova.api.validation.extra_specs.validators.validate()``
(microversion 2.86 and later) accepts every flavor key and alias of
:mod:`nova_wrs_lm.spec_table` and rejects a bad value with the table's
message as the whole 400 ``message``.
"""

from nova import exception
from nova.api.validation.extra_specs import base

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import InvalidValue

_NOVA_BOUND = {'minimum': 'min', 'maximum': 'max'}


class _TableValidator(base.ExtraSpecValidator):
    """Nova's validator with the spec table's rule and message.

    Overrides ``ExtraSpecValidator.validate`` (Nova 34.0): Nova's own
    messages ("Validation failed; ...") do not name the valid range of a
    value that has a hole in it (0 or 120..800), so the table's rule is
    applied instead of Nova's min/max checks.
    """

    setting = None

    def validate(self, name, value):
        try:
            self.setting.parse(name, value)
        except InvalidValue as exc:
            raise exception.ValidationError(exc.message) from None


def _validator(setting, key):
    rule = setting.value
    value = {'type': rule.python_type, 'description': setting.help}
    # Nova's validator names the bounds min and max.
    value.update({_NOVA_BOUND[name]: bound
                  for name, bound in rule.bounds().items()})
    canonical = setting.canonical(FLAVOR)
    validator = _TableValidator(
        name=key,
        description=(setting.help if key == canonical else
                     '%s Alias of %s.' % (setting.help, canonical)),
        value=value,
        deprecated=key != canonical,
    )
    validator.setting = setting
    return validator


def register():
    """Entry point of ``nova.api.extra_spec_validators``."""
    return [_validator(setting, key)
            for setting in spec_table.SETTINGS
            for key in setting.keys.get(FLAVOR, ())]
