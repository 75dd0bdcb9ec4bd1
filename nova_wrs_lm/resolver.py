"""Resolve the effective live-migration policy of one instance.

Input: the flavor's extra specs, the image's properties and the instance's
metadata as plain dicts, and a ConfigOpts with Nova's ``[libvirt]`` and this
package's ``[wrs_lm]`` groups.  Output: a :class:`Policy` saying, for every
setting of :mod:`nova_wrs_lm.spec_table`, the value, the source it came
from, the key that set it and the reason a gate changed it.  Everything the
resolver knows about keys and rules comes from the table.
"""

import dataclasses
import typing as ty

from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import CONFIG
from nova_wrs_lm.spec_types import DEFAULT
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from nova_wrs_lm.spec_types import InvalidValue
from nova_wrs_lm.spec_types import Setting

#: Why a stored value did not count.
INVALID = 'invalid'
NOT_READ = 'not read from this source'
SHADOWED = 'canonical key set too'


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A valid value one source sets."""

    source: str
    key: str
    value: ty.Any


@dataclasses.dataclass(frozen=True)
class Ignored:
    """A stored value that did not take part in the resolution."""

    setting: str
    source: str
    key: str
    value: ty.Any
    why: str
    message: str = ''


@dataclasses.dataclass(frozen=True)
class Choice:
    """The effective value of one setting."""

    setting: Setting
    value: ty.Any
    source: str
    key: str | None = None
    reason: str | None = None
    #: What the precedence rule picked before any gate (value, source).
    requested: ty.Any = None
    requested_source: str | None = None

    def as_dict(self):
        out = {'value': self.value, 'source': self.source}
        if self.key:
            out['key'] = self.key
        if self.reason:
            out['reason'] = self.reason
            out['requested'] = self.requested
            out['requested_source'] = self.requested_source
        return out


@dataclasses.dataclass(frozen=True)
class Policy:
    """The resolved policy of one instance."""

    choices: dict[str, Choice]
    ignored: tuple[Ignored, ...] = ()

    def __getitem__(self, name):
        return self.choices[name]

    @property
    def timeout(self):
        return self.choices[spec_table.TIMEOUT.name].value

    @property
    def max_downtime(self):
        return self.choices[spec_table.MAX_DOWNTIME.name].value

    @property
    def auto_converge(self):
        return self.choices[spec_table.AUTO_CONVERGE.name].value

    @property
    def tunnel(self):
        return self.choices[spec_table.TUNNEL.name].value

    def as_dict(self):
        return {name: choice.as_dict()
                for name, choice in self.choices.items()}

    def summary(self):
        """One line: each value and its source (for logs)."""
        return ', '.join(
            '%s=%s (%s)' % (name, choice.value, choice.source)
            for name, choice in self.choices.items())


def _candidates(setting, stores, conf, strict, ignored):
    """Yield the valid value of each read source, canonical key first."""
    for source in setting.sources():
        store = stores.get(source) or {}
        found = None
        for key in setting.keys_in(source, conf):
            if key not in store:
                continue
            raw = store[key]
            if found is not None:
                ignored.append(Ignored(setting.name, source, key, raw,
                                       SHADOWED))
                continue
            try:
                value = setting.parse(key, raw)
            except InvalidValue as exc:
                if strict:
                    raise
                ignored.append(Ignored(setting.name, source, key, raw,
                                       INVALID, exc.message))
                continue
            found = Candidate(source, key, value)
        if found is not None:
            yield found
    for source, keys in setting.ignored.items():
        store = stores.get(source) or {}
        for key in keys:
            if key in store:
                ignored.append(Ignored(setting.name, source, key,
                                       store[key], NOT_READ))


def _resolve_one(setting, stores, conf, strict, ignored):
    candidates = list(_candidates(setting, stores, conf, strict, ignored))
    # Candidates come in the precedence's order (Setting.sources()).
    picked = setting.precedence.pick(candidates)
    if picked is None:
        value, source, key = setting.default.current(conf), DEFAULT, None
    else:
        value, source, key = picked.value, picked.source, picked.key
    for gate in setting.gates:
        if value and getattr(getattr(conf, gate.group),
                             gate.option) != gate.required:
            return Choice(setting, False, CONFIG, key, gate.reason,
                          requested=value, requested_source=source)
    return Choice(setting, value, source, key)


def resolve(conf, flavor=None, image=None, instance=None, strict=False):
    """Resolve every setting of the table.

    :param conf: ConfigOpts with ``[libvirt]`` and ``[wrs_lm]`` registered.
    :param flavor: flavor extra specs.
    :param image: image properties (without the ``image_`` prefix Nova
        gives them in system metadata).
    :param instance: instance metadata.
    :param strict: raise :class:`InvalidValue` on the first invalid value
        instead of ignoring it (user input is strict, stored values are not).
    """
    stores = {FLAVOR: flavor, IMAGE: image, INSTANCE: instance}
    ignored = []
    choices = {setting.name: _resolve_one(setting, stores, conf, strict,
                                          ignored)
               for setting in spec_table.SETTINGS}
    return Policy(choices, tuple(ignored))


def resolve_one(setting, conf, flavor=None, image=None, instance=None):
    """The :class:`Choice` of one ``setting`` of the table (stored values:
    an invalid one is ignored) and the :class:`Ignored` values, as
    :func:`resolve` would make them."""
    stores = {FLAVOR: flavor, IMAGE: image, INSTANCE: instance}
    ignored = []
    choice = _resolve_one(setting, stores, conf, False, ignored)
    return choice, tuple(ignored)
