"""The one table the suite prints (and docs/reliability.md shows), and its notes."""

from __future__ import annotations

from collections.abc import Sequence

from faults.ledger import Row

COLUMNS = (
    ("scenario", "scenario"),
    ("acked", "acknowledged"),
    ("stored", "stored"),
    ("answered", "answered"),
    ("expected", "expected"),
    ("sent", "sent"),
    ("sent twice", "sent_twice"),
    ("lost", "lost"),
    ("500s", "server_errors"),
    ("stuck", "stuck"),
    ("forged in", "forged"),
)


def _cells(row: Row) -> list[str]:
    return [str(getattr(row, attr)) for _, attr in COLUMNS]


def markdown(rows: Sequence[Row]) -> str:
    """The table as Markdown, with numbered notes under it."""
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + notes(rows)


def notes(rows: Sequence[Row]) -> str:
    """Each scenario's notes: what was done to it and anything the ledger found."""
    out: list[str] = []
    for row in rows:
        if row.notes:
            out.append(f"* **{row.scenario}**: " + "; ".join(row.notes) + ".")
    return "\n".join(out) + ("\n" if out else "")


def plain(rows: Sequence[Row]) -> str:
    """The table aligned for a terminal."""
    grid = [[title for title, _ in COLUMNS], *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(COLUMNS))]
    rendered = []
    for n, line in enumerate(grid):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        rendered.append("  ".join(cells))
        if n == 0:
            rendered.append("  ".join("-" * w for w in widths))
    return "\n".join(rendered) + "\n"
