"""Meeting outcomes: attendance by age group and gender, evaluation score and notes, imported from
CSV (`outreach meetings import FILE`) or entered in the dashboard. Aggregates only.

CSV (UTF-8 with or without BOM, or UTF-16 with BOM; comma separated; header row required; only `meeting` is mandatory, missing count
columns mean 0):

    campaign,meeting,age_under_18,age_18_24,age_25_34,age_35_plus,age_unknown,
    gender_woman,gender_man,gender_other,gender_unknown,evaluation,notes

`campaign` is the campaign slug (needed only when a meeting id is used in two campaigns),
`meeting` the meeting id from the campaign file, counts are whole numbers >= 0, `evaluation` the
mean score 1-10 (blank: none). When both the age groups and the genders are filled in, their totals
must agree (put the rest in `age_unknown` / `gender_unknown`). Importing is all-or-nothing and
idempotent: the same file twice changes nothing; a changed row updates that meeting's outcome.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from outreach.db import Database
from outreach.db.models import Campaign, Meeting, MeetingOutcome
from outreach.inputs import TooLarge, read_limited

AGE_COLUMNS = ("age_under_18", "age_18_24", "age_25_34", "age_35_plus", "age_unknown")
GENDER_COLUMNS = ("gender_woman", "gender_man", "gender_other", "gender_unknown")
COUNT_COLUMNS = AGE_COLUMNS + GENDER_COLUMNS
COLUMNS = ("campaign", "meeting", *COUNT_COLUMNS, "evaluation", "notes")
SCORE_RANGE = (1.0, 10.0)
MAX_COUNT = 100_000  # people at one meeting; more is a typo (and would not fit the database)
MAX_NOTES = 4_000  # characters
MAX_FILE_BYTES = 20_000_000
MAX_SHOWN_ERRORS = 50
SAVE_AS = ("save it as UTF-8: in Excel choose Save As > \"CSV UTF-8 (Comma delimited)\"; in LibreOffice "
           "tick \"Edit filter settings\" and choose Unicode (UTF-8)")


@dataclass(frozen=True, slots=True)
class OutcomeValues:
    """What is recorded about one meeting (the dashboard form fills the same fields)."""

    counts: Mapping[str, int]
    evaluation: float | None = None
    notes: str = ""

    def problems(self) -> list[tuple[str, str]]:
        """(column, message) for anything that cannot be stored."""
        found = [(k, f"{v} is negative") for k, v in self.counts.items() if v < 0]
        found += [(k, f"{v} is more than {MAX_COUNT:,} people") for k, v in self.counts.items() if v > MAX_COUNT]
        if len(self.notes) > MAX_NOTES:
            found.append(("notes", f"longer than {MAX_NOTES:,} characters ({len(self.notes):,})"))
        found += [(k, "is not a known column") for k in self.counts if k not in COUNT_COLUMNS]
        ages = sum(self.counts.get(k, 0) for k in AGE_COLUMNS)
        genders = sum(self.counts.get(k, 0) for k in GENDER_COLUMNS)
        if ages and genders and ages != genders:
            found.append(("gender_unknown", f"age groups add up to {ages} but genders to {genders}; "
                                            "put the difference in age_unknown or gender_unknown"))
        low, high = SCORE_RANGE
        if self.evaluation is not None and not low <= self.evaluation <= high:
            found.append(("evaluation", f"{self.evaluation:g} is outside {low:g}-{high:g}"))
        return found


@dataclass
class ImportReport:
    path: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        if self.errors:
            shown = self.errors[:MAX_SHOWN_ERRORS]
            more = [f"… and {len(self.errors) - len(shown)} more"] if len(self.errors) > len(shown) else []
            return [*shown, *more, f"{self.path}: nothing imported ({len(self.errors)} problems)"]
        return [f"{self.path}: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"]


def _store(session: Any, meeting_id: int, values: OutcomeValues, *, source: str,
           line: int | None) -> str:
    """Create or update one meeting's outcome; returns created | updated | unchanged."""
    row = session.scalars(select(MeetingOutcome).where(MeetingOutcome.meeting_id == meeting_id)).first()
    wanted: dict[str, Any] = {k: int(values.counts.get(k, 0)) for k in COUNT_COLUMNS}
    wanted.update(evaluation=values.evaluation, notes=values.notes)
    if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
        return "unchanged"
    state = "updated" if row is not None else "created"
    row = row or MeetingOutcome(meeting_id=meeting_id)
    for key, value in wanted.items():
        setattr(row, key, value)
    row.source, row.source_line, row.recorded_at = source, line, datetime.now(UTC)
    session.add(row)
    return state


def record_outcome(db: Database, meeting_id: int, values: OutcomeValues, *, source: str = "dashboard") -> str:
    """Store one meeting's outcome (dashboard entry); raises ValueError naming the bad field."""
    problems = values.problems()
    if problems:
        raise ValueError("; ".join(f"{col}: {msg}" for col, msg in problems))
    with db.write() as s:
        if s.get(Meeting, meeting_id) is None:
            raise ValueError(f"meeting {meeting_id} does not exist")
        return _store(s, meeting_id, values, source=source, line=None)


def _meeting_ids(db: Database) -> dict[tuple[str, str], int]:
    with db.session() as s:
        rows = s.execute(select(Campaign.slug, Meeting.key, Meeting.id).join(Campaign, Meeting.campaign_id == Campaign.id))
        return {(slug, key): mid for slug, key, mid in rows}


def import_meeting_outcomes(db: Database, csv_path: str | Path) -> ImportReport:
    """Read a meeting-outcomes CSV; on any problem import nothing and name file:line:column for each."""
    path = Path(csv_path)
    report = ImportReport(str(path))
    text = _read_text(path, report)
    if text is None:
        return report
    parsed: list[tuple[int, int, OutcomeValues]] = []
    try:
        _parse(db, path, text, report, parsed)
    except csv.Error as exc:  # a field over csv's size limit, a stray quote at the end of the file
        report.errors.append(f"{path}: cannot read as CSV: {exc}")
    if report.errors:
        return report
    with db.write() as s:
        for line_no, mid, values in parsed:
            state = _store(s, mid, values, source=str(path), line=line_no)
            setattr(report, state, getattr(report, state) + 1)
    return report


def _read_text(path: Path, report: ImportReport) -> str | None:
    """The file's text: UTF-8 (with or without BOM) or UTF-16 with BOM; anything else says how to save it."""
    try:
        data = read_limited(path, MAX_FILE_BYTES)
    except TooLarge:
        report.errors.append(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB; split it into several files")
        return None
    except OSError as exc:
        report.errors.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        if not utf16 and b"\x00" in data:
            report.errors.append(f"{path}: cannot read: the file holds NUL bytes (UTF-16 without a BOM?); {SAVE_AS}")
        else:
            report.errors.append(f"{path}: cannot read: byte {exc.start + 1} is not UTF-8 or UTF-16 text; {SAVE_AS}")
        return None
    if "\x00" in text:
        report.errors.append(f"{path}: cannot read: the file holds NUL bytes (UTF-16 without a BOM?); {SAVE_AS}")
        return None
    return text


def _parse(db: Database, path: Path, text: str, report: ImportReport,
           parsed: list[tuple[int, int, OutcomeValues]]) -> None:
    handle = io.StringIO(text, newline="")
    meetings = _meeting_ids(db)
    by_key: dict[str, list[int]] = {}
    for (_, key), mid in meetings.items():
        by_key.setdefault(key, []).append(mid)
    reader = csv.reader(handle)
    header = [h.strip().lower() for h in next(reader, [])]
    position = {name: i + 1 for i, name in enumerate(header)}
    for name, col in position.items():
        if name not in COLUMNS:
            report.errors.append(f"{path}:1:{col}: unknown column {name[:40]!r} (known: {', '.join(COLUMNS)})")
    if "meeting" not in position:
        report.errors.append(f"{path}:1: no 'meeting' column")
        return
    seen: dict[int, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row = {name: (cells[i - 1].strip() if i - 1 < len(cells) else "") for name, i in position.items()}

        def err(column: str, message: str, *, at: int = start) -> None:
            report.errors.append(f"{path}:{at}:{position.get(column, 0)}: {column}: {message}")

        mid = _resolve(row, meetings, by_key, err)
        counts: dict[str, int] = {}
        for name in COUNT_COLUMNS:
            cell = row.get(name, "")
            if cell == "":
                continue
            try:
                counts[name] = int(cell)
            except ValueError:
                err(name, f"{cell[:20]!r} is not a whole number")
        evaluation = None
        if row.get("evaluation"):
            try:
                evaluation = float(row["evaluation"].replace(",", "."))
            except ValueError:
                err("evaluation", f"{row['evaluation'][:20]!r} is not a number")
        values = OutcomeValues(counts, evaluation, row.get("notes", ""))
        for column, message in values.problems():
            err(column, message)
        if mid is not None:
            if mid in seen:
                err("meeting", f"{row['meeting']!r} already given on line {seen[mid]}")
            seen[mid] = start
            parsed.append((start, mid, values))


def _resolve(row: dict[str, str], meetings: dict[tuple[str, str], int], by_key: dict[str, list[int]],
             err: Any) -> int | None:
    key, campaign = row.get("meeting", ""), row.get("campaign", "")
    if not key:
        err("meeting", "empty; give the meeting id from the campaign file")
        return None
    if campaign:
        mid = meetings.get((campaign, key))
        if mid is None:
            err("meeting", f"no meeting {key!r} in campaign {campaign!r}")
        return mid
    ids = by_key.get(key, [])
    if len(ids) != 1:
        err("meeting", f"no meeting {key!r}" if not ids else
            f"meeting {key!r} is in {len(ids)} campaigns; fill in the campaign column")
        return None
    return ids[0]
