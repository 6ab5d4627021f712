"""Meeting outcomes from CSV: documented columns, file:line:column errors, all-or-nothing, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.db.models import Campaign, Meeting, MeetingOutcome, Organisation
from outreach.harvest import OutcomeValues, import_meeting_outcomes, record_outcome

from .conftest import START

HEADER = ("campaign,meeting,age_under_18,age_18_24,age_25_34,age_35_plus,age_unknown,"
          "gender_woman,gender_man,gender_other,gender_unknown,evaluation,notes\n")


@pytest.fixture
def db(sqlite_db):  # type: ignore[no-untyped-def]
    with sqlite_db.write() as s:
        org = Organisation(code="IOT", name="IOT")
        one, two = Campaign(slug="iot-2027", name="a", timezone="UTC"), Campaign(slug="smn-2027", name="b",
                                                                                 timezone="UTC")
        s.add_all([org, one, two])
        s.flush()
        for campaign, key in ((one, "rotterdam-01"), (one, "shared"), (two, "shared")):
            s.add(Meeting(campaign_id=campaign.id, key=key, kind="community", organisation_id=org.id,
                          community="Turkish", city="Rotterdam", venue="x", starts_at=START))
    return sqlite_db


def write(tmp_path: Path, body: str, name: str = "outcomes.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def outcomes(db) -> dict[str, MeetingOutcome]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        rows = s.execute(select(Meeting.key, Campaign.slug, MeetingOutcome).join(
            Meeting, Meeting.id == MeetingOutcome.meeting_id).join(Campaign, Campaign.id == Meeting.campaign_id))
        return {f"{slug}/{key}": outcome for key, slug, outcome in rows}


def test_import_is_idempotent_and_updates_changed_rows(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, ',rotterdam-01,4,11,6,3,1,15,9,1,0,"8,2","Goed gesprek,\nveel vragen"\n'
                           "smn-2027,shared,,,,,,,,,,,\n")
    report = import_meeting_outcomes(db, path)
    assert report.ok and (report.created, report.updated, report.unchanged) == (2, 0, 0), report.lines()
    got = outcomes(db)
    first = got["iot-2027/rotterdam-01"]
    assert (first.age_under_18, first.age_18_24, first.age_unknown, first.gender_other) == (4, 11, 1, 1)
    assert first.evaluation == pytest.approx(8.2) and first.notes == "Goed gesprek,\nveel vragen"
    assert first.source == str(path) and first.source_line == 2
    assert got["smn-2027/shared"].evaluation is None
    again = import_meeting_outcomes(db, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = write(tmp_path, "iot-2027,rotterdam-01,4,11,6,3,2,15,9,1,1,8.2,Goed gesprek\n")
    third = import_meeting_outcomes(db, changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 0)
    assert outcomes(db)["iot-2027/rotterdam-01"].age_unknown == 2


def test_errors_name_file_line_and_column_and_nothing_is_imported(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path,
                 "iot-2027,rotterdam-01,4,elf,6,3,1,,,,,8,\n"            # line 2: not a number
                 ",shared,1,1,1,1,0,4,0,0,0,,\n"                          # line 3: ambiguous meeting
                 'iot-2027,nowhere,1,1,1,1,0,4,0,0,0,,"two\nlines"\n'     # line 4: unknown meeting
                 "smn-2027,shared,1,1,1,1,0,2,0,0,0,11,\n"               # line 6: sums and score
                 "iot-2027,rotterdam-01,1,1,1,1,0,4,0,0,0,,\n")           # line 7: given twice
    report = import_meeting_outcomes(db, path)
    assert not report.ok
    assert report.errors == [
        f"{path}:2:4: age_18_24: 'elf' is not a whole number",
        f"{path}:3:2: meeting: meeting 'shared' is in 2 campaigns; fill in the campaign column",
        f"{path}:4:2: meeting: no meeting 'nowhere' in campaign 'iot-2027'",
        f"{path}:6:11: gender_unknown: age groups add up to 4 but genders to 2; "
        "put the difference in age_unknown or gender_unknown",
        f"{path}:6:12: evaluation: 11 is outside 1-10",
        f"{path}:7:2: meeting: 'rotterdam-01' already given on line 2",
    ]
    assert outcomes(db) == {}
    assert "nothing imported" in report.lines()[-1]


def test_header_problems(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("meeting,age_18_24,names\nrotterdam-01,12,Ayse\n", encoding="utf-8")
    report = import_meeting_outcomes(db, path)
    assert report.errors == [f"{path}:1:3: unknown column 'names' (known: campaign, meeting, age_under_18, "
                             "age_18_24, age_25_34, age_35_plus, age_unknown, gender_woman, gender_man, "
                             "gender_other, gender_unknown, evaluation, notes)"]
    missing = tmp_path / "missing.csv"
    assert import_meeting_outcomes(db, missing).errors[0].startswith(f"{missing}: cannot read")


def test_dashboard_entry_validates(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        meeting_id = s.scalars(select(Meeting.id).where(Meeting.key == "rotterdam-01")).one()
    assert record_outcome(db, meeting_id, OutcomeValues({"age_18_24": 12}, 7.5)) == "created"
    assert record_outcome(db, meeting_id, OutcomeValues({"age_18_24": 12}, 7.5)) == "unchanged"
    with pytest.raises(ValueError, match="age_18_24: -1 is negative"):
        record_outcome(db, meeting_id, OutcomeValues({"age_18_24": -1}))


ROW = ",rotterdam-01,4,11,6,3,1,15,9,1,0,8,Gesprek in het Türkçe en العربية\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])  # utf-16 writes a BOM
def test_utf8_with_or_without_bom_and_utf16_with_bom_are_read(db, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "outcomes.csv"
    path.write_bytes((HEADER + ROW).encode(encoding))
    report = import_meeting_outcomes(db, path)
    assert report.ok, report.lines()
    assert outcomes(db)["iot-2027/rotterdam-01"].notes == "Gesprek in het Türkçe en العربية"


@pytest.mark.parametrize(("data", "message"), [
    ((HEADER + ",rotterdam-01,,,,,,,,,,,café\n").encode("latin-1"), "is not UTF-8 or UTF-16 text; save it as UTF-8"),
    ((HEADER + ROW).encode("utf-16-le"), "NUL bytes (UTF-16 without a BOM?); save it as UTF-8"),
    ((HEADER + ",rotterdam-01," + "9" * 29 + ",,,,,,,,,,\n").encode(), "is more than 100,000 people"),
    ((HEADER + ",rotterdam-01," + "9" * 5000 + ",,,,,,,,,,\n").encode(), "is not a whole number"),
    ((HEADER + ',rotterdam-01,,,,,,,,,,,"' + "x" * 200_000 + '"\n').encode(), "cannot read as CSV: field larger"),
    ((HEADER + ",rotterdam-01,,,,,,,,,,nan,\n").encode(), "evaluation: nan is outside 1-10"),
])
def test_unreadable_or_out_of_bounds_files_are_one_line_and_import_nothing(db, tmp_path: Path, data: bytes,  # type: ignore[no-untyped-def]
                                                                           message: str) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(data)
    report = import_meeting_outcomes(db, path)
    assert not report.ok and any(message in line for line in report.lines()), report.lines()
    assert all(len(line) < 400 for line in report.lines()) and outcomes(db) == {}
