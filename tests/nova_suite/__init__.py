"""Nova 34's own live-migration tests, run against our driver.

Only ``tools/run-nova-suite.py`` loads them (it sets ``WRS_LM_NOVA_SUITE``
and runs ``stestr --test-path ./tests/nova_suite``, in processes of their
own); the normal ``stestr run`` of ``./tests`` finds nothing here.  See
``doc/nova-tests.md``.
"""

import os


def load_tests(loader, standard_tests, pattern):
    mode = os.environ.get('WRS_LM_NOVA_SUITE')
    if not mode:
        return standard_tests
    from tests.nova_suite import selection
    return selection.suite(loader, driver=mode)
