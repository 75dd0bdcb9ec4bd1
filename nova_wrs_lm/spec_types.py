"""The vocabulary the spec table is written in.

Each class here is declarative data plus the one behaviour that belongs to
it (parsing a value, formatting its rule).  The table itself is
:mod:`nova_wrs_lm.spec_table`.
"""

import dataclasses
import functools
import re
import typing as ty

from oslo_config import cfg
from oslo_config import types
from oslo_utils import strutils

FLAVOR = 'flavor'
IMAGE = 'image'
INSTANCE = 'instance'
DEFAULT = 'default'
CONFIG = 'config'

#: Every place a value can be stored, in the order they are reported.
SOURCES = (FLAVOR, IMAGE, INSTANCE)


#: ASCII decimal digits, no sign, no space, no leading zero (0 itself is).
_CANONICAL_INTEGER = re.compile(r'0|[1-9][0-9]*', re.ASCII)


class InvalidValue(ValueError):
    """A stored or supplied value breaks its setting's rule."""

    def __init__(self, key, value, message):
        super().__init__(message)
        self.key = key
        self.value = value
        self.message = message


@dataclasses.dataclass(frozen=True)
class IntRange:
    """An integer with a lower bound, an optional upper bound and values
    that are accepted outside the range (``also``); ``labels`` say what a
    special value means where it is shown (e.g. ``0: 'no timeout'``)."""

    minimum: int
    maximum: int | None = None
    also: tuple[int, ...] = ()
    labels: dict[int, str] = dataclasses.field(default_factory=dict,
                                               hash=False, compare=False)

    #: The JSON-schema type (Glance metadefs).
    type_name = 'integer'
    #: The Python type of a parsed value (Nova's extra-spec validators).
    python_type = int

    @property
    def lowest(self):
        """The smallest accepted value (the bound for schemas and forms that
        cannot express a hole in the range)."""
        return min((self.minimum,) + self.also)

    def bounds(self):
        """The range as schemas and forms express it, which cannot show a
        hole in it: ``{'minimum': ..., 'maximum': ...}`` (no maximum when
        unbounded)."""
        found = {'minimum': self.lowest}
        if self.maximum is not None:
            found['maximum'] = self.maximum
        return found

    def examples(self):
        """One accepted and one refused spelling, from the rule itself."""
        return str(self.minimum), str(self.minimum - 1)

    def display(self, value, unit):
        """``value`` with its unit, or with its label when it has one."""
        if value in self.labels:
            return '%s (%s)' % (value, self.labels[value])
        return '%s %s' % (value, unit)

    def oslo_type(self):
        """The oslo.config type of an option that holds such a value."""
        return _RuleInteger(self)

    def rule(self):
        if self.maximum is None:
            text = f'an integer greater than or equal to {self.minimum}'
        else:
            text = f'in the range {self.minimum} to {self.maximum}'
        if self.also:
            extra = ' or '.join(str(v) for v in self.also)
            text = f'{extra} or {text}'
        return text

    def accepts(self, number):
        if number in self.also:
            return True
        if number < self.minimum:
            return False
        return self.maximum is None or number <= self.maximum

    def parse(self, raw):
        """The integer ``raw`` spells, accepted only in its canonical
        spelling (a JSON integer, or ASCII decimal digits with no sign,
        space or leading zero) so that every tool reading the stored value
        agrees with us on it."""
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int):
            number = raw
        elif isinstance(raw, str) and _CANONICAL_INTEGER.fullmatch(raw):
            number = int(raw)
        else:
            raise ValueError(raw)
        if not self.accepts(number):
            raise ValueError(raw)
        return number

    def format(self, value):
        return str(value)


@dataclasses.dataclass(frozen=True)
class Boolean:
    """A boolean spelled as ``oslo_utils.strutils.bool_from_string`` with
    ``strict=True`` accepts it (true/false, yes/no, on/off, 1/0, t/f,
    y/n; any case), without the surrounding spaces strutils would strip."""

    type_name = 'boolean'
    python_type = bool

    def bounds(self):
        return {}

    def examples(self):
        return 'true', 'maybe'

    def display(self, value, unit):
        return self.format(value)

    def oslo_type(self):
        return types.Boolean()

    def rule(self):
        return 'a boolean (true or false)'

    def parse(self, raw):
        if isinstance(raw, bool):
            return raw
        text = str(raw)  # a JSON number in flavor extra specs: 1, 0
        if text != text.strip():
            raise ValueError(raw)
        return strutils.bool_from_string(text, strict=True)

    def format(self, value):
        return 'true' if value else 'false'


class _RuleInteger(types.Integer):
    """An oslo.config integer whose valid values are an :class:`IntRange`'s
    (including its values outside the range)."""

    def __init__(self, rule):
        super().__init__(min=rule.lowest, max=rule.maximum,
                         type_name='integer value')
        self._rule = rule

    def __call__(self, value):
        number = super().__call__(value)
        if not self._rule.accepts(number):
            raise ValueError('must be %s' % self._rule.rule())
        return number


class _ConfigDefault:
    """A default read from a nova.conf option (``group``, ``name``)."""

    def option(self, setting):
        """The oslo.config option this package declares for the default,
        or None when the option belongs to someone else (or there is
        none)."""
        return None

    def current(self, conf):
        """The value ``conf`` has for the option."""
        return getattr(getattr(conf, self.group), self.name)

    def describe(self):
        return '[%s] %s' % (self.group, self.name)


@dataclasses.dataclass(frozen=True)
class OwnOption(_ConfigDefault):
    """The default comes from an option of this package's ``[wrs_lm]``
    group; the option itself is generated from this entry."""

    name: str
    default: ty.Any
    help: str
    group: str = 'wrs_lm'

    def registered(self):
        """The option's default when nova.conf does not set it."""
        return self.default

    def option(self, setting):
        return cfg.Opt(
            self.name, type=setting.value.oslo_type(), default=self.default,
            help='%s Valid values: %s (%s).' % (
                self.help, setting.value.rule(), setting.unit))


@dataclasses.dataclass(frozen=True)
class NovaOption(_ConfigDefault):
    """The default comes from an option Nova registers."""

    group: str
    name: str

    def registered(self):
        """The default Nova registers for the option, in its group."""
        try:
            return _nova_defaults()[(self.group, self.name)]
        except KeyError:
            raise LookupError(self.describe()) from None

    def describe(self):
        return "Nova's [%s] %s" % (self.group, self.name)


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A built-in default."""

    value: ty.Any
    label: str

    def current(self, conf):
        return self.value

    def registered(self):
        return self.value

    def describe(self):
        return 'built-in: %s' % self.label

    def option(self, setting):
        return None


@dataclasses.dataclass(frozen=True)
class LowestNonZero:
    """The lowest non-zero value among the sources that set one wins; when
    every set value is 0 the result is 0.  Ties go to the first source in
    ``order``."""

    order: tuple[str, ...]

    def pick(self, candidates):
        """The winning candidate (``.value``) of those given in ``order``,
        or None."""
        nonzero = [c for c in candidates if c.value != 0]
        if not nonzero:
            return candidates[0] if candidates else None
        return min(nonzero, key=lambda c: c.value)

    def describe(self):
        return ('lowest non-zero value among %s; 0 only if every set value '
                'is 0' % ', '.join(self.order))


@dataclasses.dataclass(frozen=True)
class FirstSet:
    """The first source in ``order`` that sets a value wins."""

    order: tuple[str, ...]

    def pick(self, candidates):
        """The first of the candidates (given in ``order``), or None."""
        return candidates[0] if candidates else None

    def describe(self):
        return ' > '.join(self.order)


@dataclasses.dataclass(frozen=True)
class Gate:
    """A Nova option that must have ``required`` for a ``True`` value of
    the setting to be applied; otherwise the setting is applied as
    ``False`` with ``reason``."""

    group: str
    option: str
    required: bool
    reason: str


@dataclasses.dataclass(frozen=True)
class Setting:
    """One live-migration setting: every spelling, its rule, its default
    and how the sources combine."""

    name: str
    title: str
    unit: str
    help: str
    value: IntRange | Boolean
    keys: dict[str, tuple[str, ...]]
    precedence: LowestNonZero | FirstSet
    default: OwnOption | NovaOption | Fixed
    gates: tuple[Gate, ...] = ()
    #: Spellings that are recognised in a source that is not read, so that
    #: the resolver can report them as ignored.
    ignored: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict)
    #: Whether a migration already running applies a change of the
    #: setting's instance metadata (the driver re-reads it every
    #: ``[wrs_lm] live_migration_policy_refresh_interval`` seconds; Nova 34
    #: accepts metadata changes of a migrating instance); other settings
    #: are fixed when the migration starts (libvirt takes them with the
    #: job).
    changes_during_migration: bool = False
    #: The ``[wrs_lm]`` option that names the instance-metadata key, when
    #: a deployment may rename it (the canonical instance key of ``keys``
    #: is that option's default); see :meth:`keys_in`.
    key_option: str | None = None
    #: Whether the setting is part of an instance's live-migration policy
    #: (False: read by the driver for something else, e.g. instance HA).
    live_migration: bool = True

    def keys_in(self, source, conf=None):
        """The keys of ``source`` as ``conf`` names them: the table's,
        except that a setting with a ``key_option`` is read, in instance
        metadata, from the key that option names (when ``conf`` has it)."""
        keys = self.keys.get(source, ())
        if (self.key_option and source == INSTANCE and conf is not None
                and hasattr(conf, 'wrs_lm')):
            configured = getattr(conf.wrs_lm, self.key_option, None)
            if configured:
                return (configured,)
        return keys

    def message(self, key):
        """The whole 400 message for an invalid value of ``key``."""
        return f'{key} must be {self.value.rule()}'

    def parse(self, key, raw):
        """Return the typed value of ``raw`` or raise :class:`InvalidValue`
        naming ``key``."""
        try:
            return self.value.parse(raw)
        except (TypeError, ValueError):
            raise InvalidValue(key, raw, self.message(key)) from None

    def default_text(self):
        """Where the default comes from and its registered value, e.g.
        ``[wrs_lm] default_timeout (180)``."""
        return '%s (%s)' % (self.default.describe(),
                            self.value.format(self.default.registered()))

    def canonical(self, source):
        return self.keys[source][0]

    def aliases(self, source):
        return self.keys[source][1:]

    def sources(self):
        """Sources that are read, in the order the precedence names them."""
        return tuple(s for s in self.precedence.order if s in self.keys)


@functools.lru_cache(maxsize=1)
def _nova_defaults():
    """``{(group, name): default}`` of every option Nova registers, from
    Nova's own ``nova.conf.opts.list_opts()`` (what its sample generator
    reads)."""
    from nova.conf import opts as nova_opts

    found = {}
    for group, opts in nova_opts.list_opts():
        name = getattr(group, 'name', group)
        for opt in opts:
            found[(name, opt.name)] = opt.default
    return found
