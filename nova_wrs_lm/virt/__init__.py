"""The libvirt side of nova-wrs-lm: flags, monitor and driver."""
