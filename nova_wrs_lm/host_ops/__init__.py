"""Operations on a compute host over the compute API (openstacksdk): drain
it, bring it back.  The CLI is :mod:`nova_wrs_lm.cmd.host`."""
