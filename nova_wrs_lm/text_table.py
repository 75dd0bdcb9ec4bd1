"""Plain-text tables for the command line."""


def render(rows, headers):
    """``rows`` under ``headers`` in left-aligned columns, a dashed line
    under the headers, no trailing spaces, no final newline."""
    widths = [max(len(str(r[i])) for r in list(rows) + [headers])
              for i in range(len(headers))]
    line = '  '.join('%%-%ds' % w for w in widths)
    out = [line % tuple(headers), line % tuple('-' * w for w in widths)]
    out += [line % tuple(row) for row in rows]
    return '\n'.join(s.rstrip() for s in out)
