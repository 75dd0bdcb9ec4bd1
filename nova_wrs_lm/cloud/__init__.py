"""Work that talks to a cloud through openstacksdk (``clouds.yaml``,
``--os-cloud``, ``OS_*``): library functions that return data, called by
the CLI (which only parses and prints), the demo and the tests."""
