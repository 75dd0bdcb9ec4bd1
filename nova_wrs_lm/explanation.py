"""The explanation of one instance's live-migration policy, as data.

:func:`explain` resolves the flavor, image and instance stores and works
out what is applied to libvirt; the result carries everything the
``explain`` command prints, in the table or as JSON (server, inputs,
effective policy and where each value came from, the values not used and
why, the libvirt plan), so that other tools get the same facts.
"""

import dataclasses

from nova_wrs_lm import resolver
from nova_wrs_lm import spec_table
from nova_wrs_lm.spec_types import DEFAULT
from nova_wrs_lm.spec_types import SOURCES
from nova_wrs_lm.virt import migration_flags


@dataclasses.dataclass(frozen=True)
class Explanation:
    """One explained policy."""

    #: ``{source: {key: value}}`` as given (or read from the server).
    stores: dict
    policy: resolver.Policy
    #: What is applied to libvirt (flags, max downtime, timeout).
    libvirt: dict
    #: The server the stores were read from, when there was one.
    server: object = None
    #: What a rolled-back migration leaves the instance in
    #: (:func:`rollback_rule`).
    on_rollback: dict = dataclasses.field(default_factory=dict)

    def inputs(self):
        """``(source, key, value)`` of every input, in report order."""
        return [(source, key, value) for source in SOURCES
                for key, value in sorted((self.stores.get(source) or {})
                                         .items())]

    def label(self, source):
        """How the report names ``source`` (``image (volume ID)`` for the
        boot volume's image metadata of a volume-backed server)."""
        if self.server is None:
            return source
        return self.server.source_label(source)

    def input_rows(self):
        """:meth:`inputs` with each source as the report names it."""
        return [(self.label(source), key, value)
                for source, key, value in self.inputs()]

    def ignored_rows(self):
        """``(source, key, value, why)`` of every value not used."""
        return [(self.label(i.source), i.key, str(i.value),
                 i.message or i.why) for i in self.policy.ignored]

    def rows(self):
        """``(setting, value, source, from)`` of every setting."""
        rows = []
        for setting in spec_table.SETTINGS:
            choice = self.policy[setting.name]
            where = choice.key or ''
            if choice.source == DEFAULT:
                where = setting.default.describe()
            if choice.reason:
                where = '%s; wanted %s from %s' % (
                    choice.reason, setting.value.format(choice.requested),
                    self.label(choice.requested_source))
            rows.append((setting.name,
                         setting.value.display(choice.value, setting.unit),
                         self.label(choice.source), where))
        return rows

    def as_dict(self):
        doc = self.policy.as_dict()
        doc['ignored'] = [
            {'source': i.source, 'key': i.key, 'value': i.value,
             'why': i.why, 'message': i.message or i.why}
            for i in self.policy.ignored]
        doc['libvirt'] = dict(self.libvirt)
        doc['on_rollback'] = dict(self.on_rollback)
        doc['inputs'] = [{'source': source, 'key': key, 'value': value}
                         for source, key, value in self.inputs()]
        if self.server is not None:
            doc['server'] = self.server.as_dict()
        return doc


def _libvirt_plan(policy, conf):
    to_set, to_clear = migration_flags.changes(policy)
    action = conf.libvirt.live_migration_timeout_action
    return {
        'flags_set': list(to_set),
        'flags_cleared': list(to_clear),
        'max_downtime_ms': policy.max_downtime,
        'timeout_s': policy.timeout,
        'timeout_action': action if policy.timeout else None,
    }


def rollback_rule(conf):
    """The driver's rule for a rolled-back migration
    (:mod:`nova_wrs_lm.virt.rollback`), with this configuration's
    prefixes."""
    prefixes = list(conf.wrs_lm.failure_disabled_reason_prefixes)
    return {
        'error_if': ('the source compute service is forced down, or '
                     'disabled with a reason starting with %s (case and '
                     'leading spaces ignored)' % ' or '.join(
                         repr(p) for p in prefixes)),
        'otherwise': 'ACTIVE on the source, migration failed (as Nova)',
        'cancelled': 'ACTIVE on the source (an operator\'s abort)',
        'failure_disabled_reason_prefixes': prefixes,
    }


def explain(stores, conf, strict=True, server=None):
    """Resolve ``stores`` and return the :class:`Explanation`.

    :param conf: ConfigOpts with ``[libvirt]`` and ``[wrs_lm]``.
    :param strict: raise :class:`~nova_wrs_lm.spec_types.InvalidValue` on
        an invalid value (user input); stored values are reported instead.
    :param server: the :class:`~nova_wrs_lm.cloud.server_inputs.
        ServerInputs` the stores were read from, if any.
    """
    policy = resolver.resolve(conf, strict=strict, **stores)
    return Explanation(stores, policy, _libvirt_plan(policy, conf), server,
                       rollback_rule(conf))
