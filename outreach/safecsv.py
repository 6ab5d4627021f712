"""The one way outreach writes CSV for people: safe to open in Excel or LibreOffice.

- Text cells that start with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'`, as OWASP
  recommends against formula injection: a meeting note typed as `=HYPERLINK(…)` stays text.
  Numbers stay numbers (a negative count is not a formula).
- UTF-8 with a byte-order mark, so Excel shows Turkish, Arabic and Tigrinya correctly.
- Lists are written as text (`nl; ku`), not as Python or JSON notation.

Used by the archive's CSV files, the dashboard's downloads and any report table.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

ENCODING = "utf-8-sig"  # UTF-8 with BOM
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def neutralise(text: str) -> str:
    """Text that a spreadsheet would read as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Any) -> str:
    """One value as a safe CSV cell."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Number):
        if isinstance(value, float) and value != value:  # NaN: an empty cell, not "nan"
            return ""
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return neutralise(LIST_SEPARATOR.join(f"{k}: {_plain(v)}" for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return neutralise(LIST_SEPARATOR.join(_plain(v) for v in items))
    return neutralise(str(value))


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


class SafeWriter:
    """`csv.writer` whose every cell goes through `cell()`."""

    def __init__(self, handle: IO[str]) -> None:
        self._out = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self._out.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


@contextmanager
def open_csv(path: str | Path) -> Iterator[SafeWriter]:
    """Write a CSV file (UTF-8 with BOM) row by row: `with open_csv(p) as out: out.writerow([...])`."""
    with Path(path).open("w", encoding=ENCODING, newline="") as handle:
        yield SafeWriter(handle)


def csv_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A whole CSV as bytes (UTF-8 with BOM), for downloads."""
    buffer = io.StringIO()
    out = SafeWriter(buffer)
    out.writerow(header)
    out.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


def frame_csv_bytes(frame: Any) -> bytes:
    """A pandas DataFrame as a safe CSV download (without pandas' index)."""
    return csv_bytes(list(frame.columns), frame.itertuples(index=False, name=None))
