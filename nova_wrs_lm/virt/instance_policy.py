"""The live-migration policy of one Nova instance, from what is stored on
it: flavor extra specs, image properties (system metadata ``image_*``) and
instance metadata.

Stored values are resolved leniently: an invalid one is ignored (the next
rule applies) and reported by :func:`log`, never raised.
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


def resolve(instance, conf, metadata=None):
    """Return the :class:`nova_wrs_lm.resolver.Policy` of ``instance``
    (with ``metadata`` as its instance metadata, when given)."""
    return resolver.resolve(
        conf,
        flavor=dict(instance.flavor.extra_specs or {}),
        image=_image_properties(instance.system_metadata),
        instance=dict((instance.metadata if metadata is None
                       else metadata) or {}),
    )


def refresh(context, instance, conf):
    """The policy of ``instance`` with its instance metadata as stored now:
    one read of the instance (through nova-conductor on a compute); its
    flavor and image properties do not change during a migration."""
    stored = objects.Instance.get_by_uuid(context, instance.uuid,
                                          expected_attrs=['metadata'])
    return resolve(instance, conf, metadata=dict(stored.metadata or {}))


def log(policy, instance):
    """Log one warning per ignored stored value and one INFO line with the
    effective policy."""
    for ignored in policy.ignored:
        LOG.warning('Ignoring live migration setting %(key)s=%(value)r '
                    'from %(source)s: %(why)s; the next rule applies.',
                    {'key': ignored.key, 'value': ignored.value,
                     'source': ignored.source,
                     'why': ignored.message or ignored.why},
                    instance=instance)
    LOG.info('Live migration policy: %s', policy.summary(),
             instance=instance)
