"""The policy is resolved from what the instance object carries: an
attribute it was not sent with is never loaded (in nova-compute that would
be one call to nova-conductor), and what is not an instance gets the
configured defaults."""

import testtools
from nova import context as nova_context
from nova import objects

from nova_wrs_lm import config_loader
from nova_wrs_lm.virt import instance_policy

TIMEOUT = 'hw:wrs:live_migration_timeout'

objects.register_all()


def _instance(**fields):
    return objects.Instance(uuid='6a1c4c4a-6f3e-4a8e-9b43-2e0e1f1a5a11',
                            **fields)


class ResolveTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = config_loader.load()
        self.default = instance_policy.resolve(None, self.conf)

    def test_reads_every_source_the_instance_carries(self):
        instance = _instance(
            flavor=objects.Flavor(extra_specs={TIMEOUT: '200'}),
            system_metadata={'image_hw_wrs_live_migration_timeout': '300'},
            metadata={TIMEOUT: '150'})
        policy = instance_policy.resolve(instance, self.conf)
        self.assertEqual(150, policy.timeout)
        self.assertEqual((), instance_policy.not_carried(instance))

    def test_never_loads_what_the_instance_was_not_sent_with(self):
        # With a context, reading instance.metadata would lazy-load it
        # (through the conductor on a compute; here, from a database
        # that does not exist).
        instance = _instance(
            flavor=objects.Flavor(extra_specs={TIMEOUT: '200'}))
        instance._context = nova_context.get_admin_context()
        policy = instance_policy.resolve(instance, self.conf)
        self.assertEqual(200, policy.timeout)
        self.assertEqual(('system_metadata', 'metadata'),
                         instance_policy.not_carried(instance))
        self.assertFalse(instance.obj_attr_is_set('metadata'))
        self.assertFalse(instance.obj_attr_is_set('system_metadata'))

    def test_orphaned_instance_without_sources_gets_the_defaults(self):
        # What Nova's unit tests hand the driver: no context, no metadata.
        policy = instance_policy.resolve(_instance(), self.conf)
        self.assertEqual(self.default.summary(), policy.summary())

    def test_refreshed_metadata_counts_even_if_not_carried(self):
        policy = instance_policy.resolve(_instance(), self.conf,
                                         metadata={TIMEOUT: '120'})
        self.assertEqual(120, policy.timeout)

    def test_dict_or_none_gets_the_defaults(self):
        for thing in ({'uuid': 'x', 'metadata': {TIMEOUT: '150'}}, None):
            policy = instance_policy.resolve(thing, self.conf)
            self.assertEqual(self.default.summary(), policy.summary())

    def test_flavor_without_extra_specs_is_not_loaded(self):
        flavor = objects.Flavor(flavorid='1')
        instance = _instance(flavor=flavor, metadata={},
                             system_metadata={})
        instance_policy.resolve(instance, self.conf)
        self.assertFalse(flavor.obj_attr_is_set('extra_specs'))
