"""One harness for the functional tests, the benchmarks and the demo: Nova's
in-process cloud with this package installed.

It depends on ``nova.tests``, Nova's own functional harness (shipped in the
nova wheel), and on what Nova's functional tests need (openstack-placement,
wsgi-intercept: this package's ``test`` extra).  Only this package imports
``nova.tests``; the runtime modules (driver, API filter, scheduler plugins,
CLI) never import it nor this package, except ``nova-wrs-lm demo`` when it
starts its cloud.

- :mod:`.settings`: what the harness sets in nova.conf (our driver,
  api-paste.ini, scheduler plugins);
- :mod:`.cloud`: the test cases (``ApiTestCase``, ``LibvirtTestCase``);
  importing it imports ``nova.tests`` (and eventlet's monkey-patching);
- :mod:`.migration_job`: the scripted libvirt migration jobs;
- :mod:`.clock`: the simulated clock of the migration monitors;
- :mod:`.waits`: waiting for a server or a migration, with one safety
  limit;
- :mod:`.outside_runner`: a test case set up outside a test runner;
- :mod:`.embedded`: the cloud as a context manager, the demo's vocabulary;
- :mod:`.sdk`: openstacksdk against the in-process cloud;
- :mod:`.segments`: failover segments declared through Nova's API.
"""
