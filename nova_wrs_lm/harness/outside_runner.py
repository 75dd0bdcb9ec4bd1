"""Nova's test cases outside a test runner.

A Nova test case builds its cloud in ``setUp()`` and takes it down in its
cleanups.  :func:`started` does both around a ``with`` block (the demo's
cloud); :func:`run_quietly` runs a benchmark written as a test method.
"""

import contextlib
import logging
import os
import sys
import unittest
import warnings


@contextlib.contextmanager
def quiet():
    """No warnings and no log: Nova and eventlet warn on import
    (deprecations), Nova's services log as they start and stop."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        previous = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(previous)


@contextlib.contextmanager
def started(case, verbose=False):
    """``case`` set up for the block, then cleaned up; quiet unless
    ``verbose``.

    Nova sets up oslo.log when ``nova.test`` is imported (a root handler
    and an excepthook that logs): both are put back as they were.
    """
    saved = (list(logging.getLogger().handlers), sys.excepthook)
    hush = contextlib.nullcontext if verbose else quiet
    try:
        with hush():
            case.setUp()
        yield case
    finally:
        try:
            with hush():
                case.doCleanups()
        finally:
            handlers, sys.excepthook = saved
            logging.getLogger().handlers[:] = handlers


def run_quietly(case):
    """Run ``case``, print any error or failure, return the result."""
    logging.disable(logging.INFO)  # Nova's service start/stop chatter
    with open(os.devnull, 'w') as devnull:
        result = unittest.TextTestRunner(verbosity=0,
                                         stream=devnull).run(case)
    for _test, trace in result.errors + result.failures:
        print(trace)
    return result
