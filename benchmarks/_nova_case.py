"""Run a Nova test case (its databases and services are fixtures) outside
a test runner, so that a benchmark can time work inside it."""

import logging
import os
import unittest


def run_case(case):
    """Run ``case`` quietly, print any error or failure, return the
    result."""
    logging.disable(logging.INFO)  # Nova's service start/stop chatter
    with open(os.devnull, 'w') as devnull:
        result = unittest.TextTestRunner(verbosity=0,
                                         stream=devnull).run(case)
    for _test, trace in result.errors + result.failures:
        print(trace)
    return result
