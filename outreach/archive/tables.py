"""Streaming CSV sections of the archive: rows go from a server-side cursor straight to the file, so
memory stays flat however many snapshots five years leave behind."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Select, func, select

from outreach.archive.captures import Redactor
from outreach.db import Database
from outreach.db.models import UTCDateTime
from outreach.privacy import Count, Sum, is_small, people, protect
from outreach.safecsv import ENCODING, cell, neutralise

Progress = Callable[[str, int, "int | None"], None]
PROGRESS_EVERY = 10_000
SAME_TOTAL = "(row total)"  # the figure a row's column groups add up to (not written, but a reader can sum)
YIELD_PER = 2_000


@dataclass(frozen=True, slots=True)
class Column:
    """One CSV column: a header, the selected SQL expression and how its value is written."""

    name: str
    expr: Any
    kind: str = "text"  # text | int | people | time | epoch | float | json


@dataclass(slots=True)
class Writer:
    """What every section needs: the database, where to write, redaction, suppression, progress."""

    db: Database
    root: Path
    redactor: Redactor
    tz: ZoneInfo
    threshold: int
    progress: Progress | None = None
    _seen: dict[str, str] = field(default_factory=dict)

    def people(self, value: int | float | Count | None) -> str:
        """Counts of people below the threshold (but above zero) are written as "<10" (`outreach.privacy`)."""
        if isinstance(value, Count):
            return value.display if value.suppressed or value.hidden else "" if value.value is None \
                else str(value.value)
        if value is None:
            return ""
        if is_small(value, self.threshold):
            return people(value, threshold=self.threshold)
        return str(int(value)) if float(value).is_integer() else f"{value:g}"

    def text(self, value: Any) -> str:
        """Free text, redacted; short repeated values (channel names, buckets) are redacted once."""
        value = str(value)
        if len(value) > 64:
            return self.redactor.text(value)
        cached = self._seen.get(value)
        if cached is None:
            cached = self._seen[value] = self.redactor.text(value)
            if len(self._seen) > 4096:
                self._seen.clear()
        return cached

    def epoch(self, value: int | None) -> tuple[str, str]:
        if value is None:
            return "", ""
        moment = datetime.fromtimestamp(int(value), self.tz)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(value))), moment.isoformat(timespec="seconds")

    def cell(self, kind: str, value: Any) -> list[str]:
        """A value as its CSV cell(s): times give two (UTC and local), everything else one."""
        if kind == "time":
            return [iso_utc(value), iso_local(value, self.tz)]
        if kind == "epoch":
            return list(self.epoch(value))
        if kind == "people":
            return [self.people(value)]
        if value is None:
            return [""]
        if kind == "json":  # lists as text ("nl; ku"), other structures as JSON; never a formula
            text = cell(value) if isinstance(value, list) else json.dumps(value, ensure_ascii=False, sort_keys=True)
            return [neutralise(self.text(text))]
        if kind in ("int", "float"):
            return [str(value)]
        return [neutralise(self.text(cell(value) if isinstance(value, list | tuple) else value))]

    def headers(self, columns: Sequence[Column]) -> list[str]:
        names: list[str] = []
        for c in columns:
            names += [f"{c.name}_utc", f"{c.name}_local"] if c.kind in ("time", "epoch") else [c.name]
        return names

    def write_csv(self, rel: str, stage: str, columns: Sequence[Column], query: Select[Any], *,
                  same_total: Sequence[tuple[str, ...]] = ()) -> int:
        """Stream `query` (selecting `columns` in order) into `rel`; returns the row count. `same_total`:
        groups of people columns that add up to one figure per row (age groups and gender groups both
        make the attendance), protected together so no "<10" follows from the others."""
        total = self._count(query) if self.progress else None
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with path.open("w", encoding=ENCODING, newline="") as fh, self.db.engine.connect() as conn:
            out = csv.writer(fh)  # cells arrive made safe by cell(): text neutralised, numbers as numbers
            out.writerow(self.headers(columns))
            result = conn.execution_options(yield_per=YIELD_PER).execute(query)
            kinds = [c.kind for c in columns]
            simple = all(k in ("int", "float", "people", "epoch") for k in kinds)
            people, epoch = self.people, self.epoch
            names = [c.name for c in columns]
            for row in result:
                if same_total:
                    row = self.protect_row(names, row, same_total)
                line: list[str] = []
                if simple:  # the snapshot tables: numbers only, no per-cell dispatch
                    for kind, value in zip(kinds, row, strict=True):
                        if kind == "people":
                            line.append(people(value))
                        elif kind == "epoch":
                            line.extend(epoch(value))
                        else:
                            line.append("" if value is None else str(value))
                else:
                    for kind, value in zip(kinds, row, strict=True):
                        line.extend(self.cell(kind, value))
                out.writerow(line)
                rows += 1
                if self.progress and rows % PROGRESS_EVERY == 0:
                    self.progress(stage, rows, total)
        if self.progress:
            self.progress(stage, rows, total)
        return rows

    def protect_row(self, names: Sequence[str], row: Sequence[Any], groups: Sequence[tuple[str, ...]]) -> list[Any]:
        """The row with its people columns in `groups` as protected Counts ("<10", "×")."""
        values = dict(zip(names, row, strict=True))
        cells: dict[Any, Any] = {c: values[c] for group in groups for c in group}
        cells[SAME_TOTAL] = sum(values[c] or 0 for c in groups[0])
        safe = protect(cells, [Sum(SAME_TOTAL, group) for group in groups], threshold=self.threshold)
        return [safe[n] if n in cells else v for n, v in values.items()]

    def _count(self, query: Select[Any]) -> int:
        with self.db.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def iso_utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


def columns_of(model: Any, *, kinds: dict[str, str], skip: Iterable[str] = ()) -> list[Column]:
    """Every column of a model in table order, typed by `kinds` (default text/int by SQL type)."""
    skipped = set(skip)
    result = []
    for col in model.__table__.columns:
        if col.name in skipped:
            continue
        result.append(Column(col.name, getattr(model, col.key), kinds.get(col.name) or _kind(col.type)))
    return result


def _kind(sql_type: Any) -> str:
    if isinstance(sql_type, DateTime | UTCDateTime):
        return "time"
    try:
        python = sql_type.python_type
    except NotImplementedError:
        return "text"
    return "int" if python in (int, bool) else "float" if python is float else \
        "json" if python in (dict, list) else "text"
