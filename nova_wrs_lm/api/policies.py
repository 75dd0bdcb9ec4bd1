"""oslo.policy rules of the API filter.

The rules are registered on Nova's own enforcer, so they live in Nova's
``policy.yaml`` beside Nova's rules and use Nova's ``context_is_admin``.
``list_rules()`` is the ``oslo.policy.policies`` entry point (namespace
``nova_wrs_lm``) used by ``oslopolicy-sample-generator``.
"""

import nova.policy
from nova.policies import base
from oslo_policy import policy

HOST_DOWN_REPORTED = 'wrs_lm:os-hosts:host_down_reported'
HISTORY = 'wrs_lm:history'

_RULES = [
    policy.DocumentedRuleDefault(
        name=HOST_DOWN_REPORTED,
        check_str=base.ADMIN,
        description=(
            'Report a compute host down (or up again) with '
            '``host_down_reported``: the host\'s compute services are '
            'forced down and its instances are marked stopped (or error, '
            'per ``[wrs_lm] host_down_instance_state``). Meant for an '
            'external monitor that has fenced the host (OPNFV Doctor, '
            'Masakari, a VIM).'),
        operations=[{'method': 'PUT', 'path': '/os-hosts/{host_name}'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=HISTORY,
        check_str=base.ADMIN,
        description=(
            'Read the history of the instances of a compute host, or of '
            'one server (``nova-wrs-lm history``): their instance actions '
            'and events, migrations and faults, whoever the project, and '
            'the host\'s compute service state.'),
        operations=[{'method': 'GET', 'path': '/os-wrs-lm-history'}],
        scope_types=['project']),
]


def list_rules():
    """Entry point of ``oslo.policy.policies``."""
    return list(_RULES)


def authorize(context, rule):
    """``context.can(rule)`` on Nova's enforcer, registering this module's
    rules on it first.

    Nova's enforcer is re-created whenever ``nova.policy.reset()`` runs
    (tests, SIGHUP), so the registration is checked on every call; it costs
    one dictionary lookup.  ``nova.policy`` exposes no public accessor
    that does not re-parse the configuration (``get_enforcer()`` does), so
    the module attribute is read after ``nova.policy.init()``.
    """
    nova.policy.init()
    enforcer = nova.policy._ENFORCER
    if rule not in enforcer.registered_rules:
        for default in _RULES:
            try:
                enforcer.register_default(default)
            except policy.DuplicatePolicyError:
                pass  # registered meanwhile by a concurrent request
        enforcer.load_rules()
    context.can(rule, target={})
