"""The instance actions the product records itself in Nova's
``instance_actions`` table, so that ``openstack server event list`` and
``nova-wrs-lm history`` show what it did inside Nova without an API call.
One place for their names; no Nova import (the CLI side reads them).

==========================  ==============================================
action                      recorded by
==========================  ==============================================
``host_down_reported``      the host-down report, for each instance it
                            marks down (:mod:`nova_wrs_lm.host_down`)
``ha-restart``              the driver, when it restarts a guest that
                            ended without Nova asking
                            (:mod:`nova_wrs_lm.virt.instance_ha`)
``error-after-rollback``    the driver, when it sets an instance whose
                            live migration off a failed host rolled back
                            to ERROR (:mod:`nova_wrs_lm.virt.rollback`)
==========================  ==============================================
"""

from nova_wrs_lm import recovery_state

HOST_DOWN_REPORTED = recovery_state.ACTION
HA_RESTART = 'ha-restart'
ERROR_AFTER_ROLLBACK = 'error-after-rollback'
#: The event of an ``error-after-rollback`` action.
ERROR_AFTER_ROLLBACK_EVENT = 'wrs_lm_error_after_rollback'
