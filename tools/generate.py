#!/usr/bin/env python3
"""Regenerate the committed files derived from the spec table.

A developer's tool, run from the repository root by ``tox -e genmetadefs``
and ``tox -e gendocs`` (never from an operator's shell: it writes into the
source tree).  ``tests/unit/test_generated_files.py`` fails when a committed
file is stale.

    python tools/generate.py metadefs   # etc/metadefs/*.json
    python tools/generate.py docs       # doc/spec-table.md, README.md table
"""

import argparse
import os
import sys

from nova_wrs_lm import docs_table
from nova_wrs_lm import metadefs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    print('wrote %s' % os.path.relpath(path, ROOT))


def generate_metadefs():
    directory = os.path.join(ROOT, metadefs.DIRECTORY)
    os.makedirs(directory, exist_ok=True)
    for filename, doc in sorted(metadefs.namespaces().items()):
        _write(os.path.join(directory, filename), metadefs.render(doc))


def generate_docs():
    _write(os.path.join(ROOT, 'doc', docs_table.FILENAME),
           docs_table.render())
    readme = os.path.join(ROOT, 'README.md')
    with open(readme) as f:
        text = f.read()
    _write(readme, docs_table.render_readme(text))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('what', choices=('metadefs', 'docs'), nargs='+')
    args = parser.parse_args(argv)
    for what in args.what:
        {'metadefs': generate_metadefs, 'docs': generate_docs}[what]()
    return 0


if __name__ == '__main__':
    sys.exit(main())
