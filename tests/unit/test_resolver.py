"""Every precedence and gate rule of the spec table, case by case."""

import testscenarios
import testtools

from nova_wrs_lm import config_loader
from nova_wrs_lm import resolver
from nova_wrs_lm.spec_types import InvalidValue

T = 'live_migration_timeout'
D = 'live_migration_max_downtime'
AC = 'live_migration_auto_converge'
TN = 'live_migration_tunnel'


def _case(expect, flavor=None, image=None, instance=None, conf=None):
    return {'flavor': flavor or {}, 'image': image or {},
            'instance': instance or {}, 'conf': conf or {},
            'expect': expect}


class ResolverRulesTest(testscenarios.WithScenarios, testtools.TestCase):
    """Each scenario: inputs and the expected (value, source) of settings."""

    scenarios = [
        # timeout ----------------------------------------------------------
        ('timeout defaults to 180', _case({T: (180, 'default')})),
        ('timeout default follows [wrs_lm] default_timeout',
         _case({T: (300, 'default')},
               conf={('wrs_lm', 'default_timeout'): 300})),
        ('timeout from flavor only',
         _case({T: (150, 'flavor')},
               flavor={'hw:wrs:live_migration_timeout': '150'})),
        ('timeout lowest wins: image below flavor',
         _case({T: (150, 'image')},
               flavor={'hw:wrs:live_migration_timeout': '300'},
               image={'hw_wrs_live_migration_timeout': '150'})),
        ('timeout lowest wins: instance lowest',
         _case({T: (120, 'instance')},
               flavor={'hw:wrs:live_migration_timeout': '300'},
               image={'hw_wrs_live_migration_timeout': '150'},
               instance={'hw:wrs:live_migration_timeout': '120'})),
        ('timeout zero does not win over non-zero',
         _case({T: (400, 'image')},
               flavor={'hw:wrs:live_migration_timeout': '0'},
               image={'hw_wrs_live_migration_timeout': '400'})),
        ('timeout every set value zero gives zero',
         _case({T: (0, 'flavor')},
               flavor={'hw:wrs:live_migration_timeout': '0'},
               instance={'hw:wrs:live_migration_timeout': '0'})),
        ('timeout tie goes to flavor',
         _case({T: (200, 'flavor')},
               flavor={'hw:wrs:live_migration_timeout': '200'},
               instance={'hw:wrs:live_migration_timeout': '200'})),
        ('timeout aliases are read',
         _case({T: (250, 'image')},
               flavor={'hw:live_migration_timeout': '700'},
               image={'hw_live_migration_timeout': '250'})),
        ('timeout canonical beats alias in one source',
         _case({T: (700, 'flavor')},
               flavor={'hw:wrs:live_migration_timeout': '700',
                       'hw:live_migration_timeout': '130'})),
        # max downtime -----------------------------------------------------
        ('downtime defaults to [libvirt] live_migration_downtime',
         _case({D: (500, 'default')})),
        ('downtime default follows nova.conf',
         _case({D: (800, 'default')},
               conf={('libvirt', 'live_migration_downtime'): 800})),
        ('downtime flavor beats instance and image',
         _case({D: (300, 'flavor')},
               flavor={'hw:wrs:live_migration_max_downtime': '300'},
               image={'hw_wrs_live_migration_max_downtime': '100'},
               instance={'hw:wrs:live_migration_max_downtime': '900'})),
        ('downtime instance beats image',
         _case({D: (900, 'instance')},
               image={'hw_wrs_live_migration_max_downtime': '100'},
               instance={'hw:wrs:live_migration_max_downtime': '900'})),
        ('downtime image when alone',
         _case({D: (100, 'image')},
               image={'hw_wrs_live_migration_max_downtime': '100'})),
        ('downtime instance alias',
         _case({D: (600, 'instance')},
               instance={'hw_wrs_live_migration_max_downtime': '600'})),
        # auto-converge ----------------------------------------------------
        ('auto-converge enabled by default when nova permits',
         _case({AC: (True, 'default')},
               conf={('libvirt', 'live_migration_permit_auto_converge'):
                     True})),
        ('auto-converge default gated off by nova',
         _case({AC: (False, 'config')})),
        ('auto-converge instance overrides flavor',
         _case({AC: (False, 'instance')},
               flavor={'hw:wrs:live_migration_auto_converge': 'true'},
               instance={'hw:wrs:live_migration_auto_converge': 'False'},
               conf={('libvirt', 'live_migration_permit_auto_converge'):
                     True})),
        ('auto-converge flavor alone',
         _case({AC: (False, 'flavor')},
               flavor={'hw:wrs:live_migration_permit_auto_converge': 'no'},
               conf={('libvirt', 'live_migration_permit_auto_converge'):
                     True})),
        ('auto-converge image value ignored',
         _case({AC: (True, 'flavor')},
               flavor={'hw:wrs:live_migration_auto_converge': 'true'},
               image={'hw_wrs_live_migration_auto_converge': 'false'},
               conf={('libvirt', 'live_migration_permit_auto_converge'):
                     True})),
        ('auto-converge gated off by post-copy',
         _case({AC: (False, 'config')},
               instance={'hw:wrs:live_migration_auto_converge': 'true'},
               conf={('libvirt', 'live_migration_permit_auto_converge'): True,
                     ('libvirt', 'live_migration_permit_post_copy'): True})),
        # tunnel -----------------------------------------------------------
        ('tunnel defaults to [libvirt] live_migration_tunnelled',
         _case({TN: (False, 'default')})),
        ('tunnel default follows nova.conf',
         _case({TN: (True, 'default')},
               conf={('libvirt', 'live_migration_tunnelled'): True})),
        ('tunnel instance overrides flavor',
         _case({TN: (True, 'instance')},
               flavor={'hw:wrs:live_migration_tunnel': 'false'},
               instance={'hw:wrs:live_migration_tunnel': 'true'})),
        ('tunnel flavor alone',
         _case({TN: (True, 'flavor')},
               flavor={'hw:wrs:live_migration_tunnel': 'yes'})),
        ('tunnel gated off by native TLS',
         _case({TN: (False, 'config')},
               flavor={'hw:wrs:live_migration_tunnel': 'true'},
               conf={('libvirt', 'live_migration_with_native_tls'): True})),
    ]

    def test_rule(self):
        conf = config_loader.load()
        for (group, name), value in self.conf.items():
            conf.set_override(name, value, group=group)
        policy = resolver.resolve(conf, flavor=self.flavor, image=self.image,
                                  instance=self.instance)
        for name, (value, source) in self.expect.items():
            choice = policy[name]
            self.assertEqual((value, source), (choice.value, choice.source),
                             name)
            if source == 'config':
                self.assertTrue(choice.reason)


class ResolverReportingTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = config_loader.load()

    def test_gate_reports_what_was_requested(self):
        self.conf.set_override('live_migration_permit_auto_converge', False,
                               group='libvirt')
        choice = resolver.resolve(
            self.conf,
            flavor={'hw:wrs:live_migration_auto_converge': 'true'})[AC]
        self.assertEqual(
            {'value': False, 'source': 'config',
             'key': 'hw:wrs:live_migration_auto_converge',
             'reason': '[libvirt] live_migration_permit_auto_converge is '
                       'false',
             'requested': True, 'requested_source': 'flavor'},
            choice.as_dict())

    def test_invalid_stored_value_is_ignored_and_next_rule_applies(self):
        policy = resolver.resolve(
            self.conf,
            flavor={'hw:wrs:live_migration_timeout': '300'},
            image={'hw_wrs_live_migration_timeout': 'abc'},
            instance={'hw:wrs:live_migration_max_downtime': '99'})
        self.assertEqual((300, 'flavor'),
                         (policy[T].value, policy[T].source))
        self.assertEqual((500, 'default'),
                         (policy[D].value, policy[D].source))
        ignored = {(i.source, i.key, i.value): i.message
                   for i in policy.ignored}
        self.assertEqual({
            ('image', 'hw_wrs_live_migration_timeout', 'abc'):
                'hw_wrs_live_migration_timeout must be 0 or in the range '
                '120 to 800',
            ('instance', 'hw:wrs:live_migration_max_downtime', '99'):
                'hw:wrs:live_migration_max_downtime must be in the range '
                '100 to 2000000',
        }, ignored)

    def test_invalid_canonical_falls_back_to_alias(self):
        policy = resolver.resolve(
            self.conf, flavor={'hw:wrs:live_migration_timeout': '5',
                               'hw:live_migration_timeout': '600'})
        self.assertEqual(('hw:live_migration_timeout', 600),
                         (policy[T].key, policy[T].value))

    def test_strict_raises_with_the_message(self):
        exc = self.assertRaises(
            InvalidValue, resolver.resolve, self.conf,
            instance={'hw:wrs:live_migration_tunnel': 'maybe'}, strict=True)
        self.assertEqual(
            'hw:wrs:live_migration_tunnel must be a boolean (true or false)',
            exc.message)

    def test_shadowed_alias_and_unread_image_keys_are_reported(self):
        policy = resolver.resolve(
            self.conf,
            flavor={'hw:wrs:live_migration_auto_converge': 'true',
                    'hw:wrs:live_migration_permit_auto_converge': 'false'},
            image={'hw_wrs_live_migration_tunnel': 'true'})
        self.assertEqual(
            {('flavor', 'hw:wrs:live_migration_permit_auto_converge',
              resolver.SHADOWED),
             ('image', 'hw_wrs_live_migration_tunnel', resolver.NOT_READ)},
            {(i.source, i.key, i.why) for i in policy.ignored})

    def test_unrelated_keys_are_not_reported(self):
        policy = resolver.resolve(self.conf, flavor={'hw:cpu_policy': 'x'},
                                  image={'hw_disk_bus': 'virtio'})
        self.assertEqual((), policy.ignored)
