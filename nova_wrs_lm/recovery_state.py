"""The state a host-down report keeps for a later recovery.

Before a report (:mod:`nova_wrs_lm.host_down`) changes an instance, it
records that instance's ``vm_state`` and ``power_state`` in an event of the
``host_down_reported`` instance action it writes, in the same transaction:
event :data:`EVENT`, result ``Success``, ``details`` as
:func:`details` formats them.  ``nova-wrs-lm host recover``
(:mod:`nova_wrs_lm.host_ops.recover`) reads them back through the compute
API (``GET /servers/{id}/os-instance-actions/{request_id}``, whose events
carry ``details`` for an admin from microversion 2.84) with :func:`parse`.

The one place where the format is declared; no Nova import, so that the
CLI side reads it without Nova's database code.
"""

import re

#: The instance action a report writes (Nova's ``instance_actions``).
ACTION = 'host_down_reported'
#: The event of that action that carries the state before the report.
EVENT = 'wrs_lm_state_before_report'

_PREFIX = 'Before the host was reported down: '
_PATTERN = re.compile(r'vm_state=(?P<vm_state>[a-z_-]+) '
                      r'power_state=(?P<power_state>\d+)')


#: Between the vm_state and the power_state in ``details``.
POWER_STATE_SEPARATOR = ' power_state='


def details_prefix():
    """What ``details`` starts with, up to the vm_state (the report's SQL
    builds the same text from these parts)."""
    return _PREFIX + 'vm_state='


def details(vm_state, power_state):
    """The event's ``details`` text for the state before the report."""
    return '%s%s%s%d' % (details_prefix(), vm_state, POWER_STATE_SEPARATOR,
                         power_state or 0)


def parse(text):
    """``(vm_state, power_state)`` from an event's ``details``, or None
    when the text is not one :func:`details` wrote."""
    match = _PATTERN.search(text or '')
    if match is None:
        return None
    return match.group('vm_state'), int(match.group('power_state'))
