"""etc/nova/policy.yaml.sample is what oslopolicy-sample-generator makes
of the rules in nova_wrs_lm.api.policies today."""

import os
import tempfile

from nova import test
from oslo_config import cfg
from oslo_policy import generator

from nova_wrs_lm.api import policies

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc',
                      'nova', 'policy.yaml.sample')


class PolicySampleTest(test.NoDBTestCase):

    def test_sample_is_current(self):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, 'policy.yaml.sample')
            generator.generate_sample(
                args=['--namespace', 'nova_wrs_lm', '--output-file', fresh],
                conf=cfg.ConfigOpts())
            with open(fresh) as f:
                expected = f.read()
        with open(SAMPLE) as f:
            self.assertEqual(
                expected, f.read(),
                'etc/nova/policy.yaml.sample is stale; regenerate it with '
                'oslopolicy-sample-generator --namespace nova_wrs_lm '
                '--output-file etc/nova/policy.yaml.sample')

    def test_rules_default_to_admin(self):
        rules = policies.list_rules()
        self.assertEqual(['wrs_lm:os-hosts:host_down_reported',
                          'wrs_lm:history'], [r.name for r in rules])
        for rule in rules:
            self.assertEqual('rule:context_is_admin', rule.check_str)
            self.assertTrue(rule.description)
