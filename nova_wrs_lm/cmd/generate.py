"""``nova-wrs-lm generate``: write the files derived from the spec table.

``metadefs``: the Glance metadefs namespaces (into the package and
``etc/metadefs``); ``docs``: the Markdown table of keys (``doc/`` and
README.md).
"""

import os
import sys

from nova_wrs_lm import docs_table
from nova_wrs_lm import metadefs


def add_parser(commands):
    parser = commands.add_parser(
        'generate', help='regenerate the files derived from the spec table',
        description=__doc__)
    parser.add_argument('what', choices=('metadefs', 'docs'))
    parser.add_argument(
        '--output-dir', metavar='DIR',
        help='write here instead of the default locations')
    parser.set_defaults(run=run)
    return parser


def run(args, out=None):
    out = out or sys.stdout
    if args.what == 'metadefs':
        dirs = [args.output_dir] if args.output_dir else [
            metadefs.PACKAGE_DIR, os.path.join('etc', 'metadefs')]
        for directory in dirs:
            for path in metadefs.write(directory):
                out.write('wrote %s\n' % path)
    else:
        directory = args.output_dir or 'doc'
        path = os.path.join(directory, docs_table.FILENAME)
        os.makedirs(directory, exist_ok=True)
        with open(path, 'w') as f:
            f.write(docs_table.render())
        out.write('wrote %s\n' % path)
        if not args.output_dir:
            with open('README.md') as f:
                readme = docs_table.render_readme(f.read())
            with open('README.md', 'w') as f:
                f.write(readme)
            out.write('wrote README.md\n')
    return 0
