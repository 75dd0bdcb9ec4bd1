"""Flavor extra-spec validators registered with Nova."""
