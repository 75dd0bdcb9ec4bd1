"""What the demo shows: records of each step, as text or JSON.

A step is a list of :class:`Record` (one request or check: what was done,
what Nova answered, what was expected, whether it held).  A step passes
when every one of its records holds and it raised nothing.
"""

import dataclasses
import json

from nova_wrs_lm import text_table


@dataclasses.dataclass
class Record:
    """One thing a step did and what came back."""

    action: str
    answer: str
    expected: str = ''
    ok: bool = True
    #: Extra machine-readable detail (JSON output only).
    data: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class StepResult:
    number: int
    title: str
    records: list = dataclasses.field(default_factory=list)
    #: What went wrong outside the records (an exception), or None.
    error: str | None = None
    seconds: float = 0.0
    #: Lines the reader must see (simulated or accelerated time, skips).
    notes: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return self.error is None and bool(self.records) and all(
            r.ok for r in self.records)

    def as_dict(self):
        return {
            'step': self.number,
            'title': self.title,
            'ok': self.ok,
            'seconds': round(self.seconds, 2),
            'notes': list(self.notes),
            'error': self.error,
            'records': [dataclasses.asdict(r) for r in self.records],
        }


def _wrap(text, width, indent):
    text = str(text)
    if '\n' in text:
        # Already laid out (a table): indent, do not re-wrap.
        return ('\n' + ' ' * indent).join(text.splitlines())
    lines = []
    for paragraph in text.splitlines() or ['']:
        while len(paragraph) > width:
            cut = paragraph.rfind(' ', 0, width)
            cut = cut if cut > width // 2 else width
            lines.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip()
        lines.append(paragraph)
    return ('\n' + ' ' * indent).join(lines)


def write_step(step, out):
    """Write one step as text, as soon as it has run."""
    out.write('\n== Step %d: %s\n' % (step.number, step.title))
    for note in step.notes:
        out.write('   NOTE: %s\n' % _wrap(note, 70, 9))
    for record in step.records:
        mark = 'ok  ' if record.ok else 'FAIL'
        out.write(' %s %s\n' % (mark, _wrap(record.action, 72, 6)))
        out.write('      -> %s\n' % _wrap(record.answer, 68, 9))
        if not record.ok and record.expected:
            out.write('      expected: %s\n' % _wrap(record.expected, 62,
                                                   16))
    if step.error:
        out.write(' FAIL %s\n' % _wrap(step.error, 72, 6))
    out.flush()


def summary_rows(steps):
    return [(str(s.number), s.title, 'pass' if s.ok else 'FAIL',
             '%d/%d' % (sum(r.ok for r in s.records), len(s.records)),
             '%.1f s' % s.seconds) for s in steps]


def write_summary(steps, total_seconds, out, notes=()):
    headers = ('step', 'what', 'result', 'checks', 'time')
    out.write('\nSummary\n')
    out.write(text_table.render(summary_rows(steps), headers) + '\n')
    passed = sum(s.ok for s in steps)
    out.write('steps: %d passed, %d failed in %.1f s\n' % (
        passed, len(steps) - passed, total_seconds))
    for note in notes:
        out.write('NOTE: %s\n' % note)
    out.flush()


def write_json(steps, total_seconds, out, notes=(), cloud=None):
    doc = {
        'ok': all(s.ok for s in steps),
        'seconds': round(total_seconds, 2),
        'notes': list(notes),
        'cloud': cloud or {},
        'steps': [s.as_dict() for s in steps],
    }
    out.write(json.dumps(doc, indent=2, default=str) + '\n')
    out.flush()
