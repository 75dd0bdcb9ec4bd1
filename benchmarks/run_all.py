"""Run every benchmark in this directory, one after the other, each in a
process of its own (each prints its own figures and baseline)."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    status = 0
    for name in sorted(os.listdir(HERE)):
        if (not name.endswith('.py') or name.startswith('_') or
                name == os.path.basename(__file__)):
            continue
        print('== %s' % name, flush=True)
        code = subprocess.call([sys.executable, os.path.join(HERE, name)])
        status = status or code
    return status


if __name__ == '__main__':
    sys.exit(main())
