"""The live-migration policy of one Nova instance, from what is stored on
it: flavor extra specs, image properties (system metadata ``image_*``) and
instance metadata.

Stored values are resolved leniently: an invalid one is ignored (the next
rule applies) and reported by :func:`log`, never raised.

The policy is resolved from what the instance object **carries**: an
attribute it was not sent with is not loaded (in nova-compute a lazy load
is one call to nova-conductor).  In Nova 34.0.0 the instance a compute
gets for a live migration carries all three (nova-api loads ``metadata``
and ``system_metadata``, nova-conductor's live-migration task loads the
``flavor``, and the RPC call sends every loaded attribute), so a
migration start makes no conductor call of its own
(tests/functional/test_conductor_calls.py).  An attribute that is not
there counts as empty and is named in a warning; the instance metadata
is then still read at the first policy refresh.  Something that is not
an ``Instance`` (some of Nova's own tests pass a dict or None where
Nova's code never reads the instance) gets the configured defaults.
"""

from nova import objects
from oslo_log import log as logging

from nova_wrs_lm import resolver

LOG = logging.getLogger(__name__)

_IMAGE_PREFIX = 'image_'


def _image_properties(system_metadata):
    return {key[len(_IMAGE_PREFIX):]: value
            for key, value in (system_metadata or {}).items()
            if key.startswith(_IMAGE_PREFIX)}


#: The attributes the policy is read from, and what they hold.
_SOURCES = (('flavor', 'flavor extra specs'),
            ('system_metadata', 'image properties'),
            ('metadata', 'instance metadata'))


def not_carried(instance):
    """The attributes of :data:`_SOURCES` that ``instance`` was not sent
    with (all of them for something that is not a Nova object)."""
    is_set = getattr(instance, 'obj_attr_is_set', None)
    if is_set is None:
        return tuple(name for name, _ in _SOURCES)
    return tuple(name for name, _ in _SOURCES if not is_set(name))


def _carried(instance, name, missing):
    if name in missing:
        return None
    return getattr(instance, name)


def resolve(instance, conf, metadata=None):
    """Return the :class:`nova_wrs_lm.resolver.Policy` of ``instance``
    (with ``metadata`` as its instance metadata, when given), from the
    attributes it carries; never loads one."""
    missing = not_carried(instance)
    if metadata is not None:
        missing = tuple(name for name in missing if name != 'metadata')
    flavor = _carried(instance, 'flavor', missing)
    extra_specs = None
    if flavor is not None and flavor.obj_attr_is_set('extra_specs'):
        extra_specs = flavor.extra_specs
    return resolver.resolve(
        conf,
        flavor=dict(extra_specs or {}),
        image=_image_properties(
            _carried(instance, 'system_metadata', missing)),
        instance=dict((_carried(instance, 'metadata', missing)
                       if metadata is None else metadata) or {}),
    )


def refresh(context, instance, conf):
    """The policy of ``instance`` with its instance metadata as stored now:
    one read of the instance (through nova-conductor on a compute); its
    flavor and image properties do not change during a migration."""
    stored = objects.Instance.get_by_uuid(context, instance.uuid,
                                          expected_attrs=['metadata'])
    return resolve(instance, conf, metadata=dict(stored.metadata or {}))


def log(policy, instance):
    """Log one warning per ignored stored value (and one for the sources
    the instance did not carry) and one INFO line with the effective
    policy."""
    missing = not_carried(instance)
    if missing and hasattr(instance, 'obj_attr_is_set'):
        LOG.warning('The instance came without %s: live migration '
                    'settings from there are not read (no lazy load).',
                    ', '.join('%s (%s)' % (name, what)
                              for name, what in _SOURCES
                              if name in missing),
                    instance=instance)
    for ignored in policy.ignored:
        LOG.warning('Ignoring live migration setting %(key)s=%(value)r '
                    'from %(source)s: %(why)s; the next rule applies.',
                    {'key': ignored.key, 'value': ignored.value,
                     'source': ignored.source,
                     'why': ignored.message or ignored.why},
                    instance=instance)
    LOG.info('Live migration policy: %s', policy.summary(),
             instance=instance)
