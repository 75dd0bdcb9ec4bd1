"""nova-wrs-lm: per-instance live-migration policy for OpenStack Nova."""
