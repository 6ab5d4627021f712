"""The exported bag: valid for bagit and for verify_archive, complete, tamper-evident, token-free."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import bagit
import pytest
from warcio.archiveiterator import ArchiveIterator

from outreach.archive import export_archive, verify_archive
from outreach.archive.verify import ProblemKind
from tests.archive.conftest import TOKENS, Programme
from tests.archive.seed import END, NOW, START


def rows(bag: Path, rel: str) -> list[dict[str, str]]:
    with (bag / "data" / rel).open(encoding="utf-8-sig", newline="") as fh:  # Excel needs the BOM
        return list(csv.DictReader(fh))


def variants(bag: Path) -> dict[int, dict]:
    groups = json.loads((bag / "data" / "posts.json").read_text(encoding="utf-8"))
    return {v["post_id"]: {**v, "group": g} for g in groups for v in g["variants"]}


def test_bag_is_valid_for_bagit_and_for_verify(programme: Programme) -> None:
    bag = bagit.Bag(str(programme.bag))
    bag.validate()  # raises on any problem
    assert set(bag.algorithms) == {"sha256", "sha512"}
    report = verify_archive(programme.bag)
    assert report.ok, report.lines()
    assert report.files_checked >= 10
    assert "all match" in report.lines()[0]


def test_bag_info_names_source_period_version_and_counts(programme: Programme) -> None:
    info = bagit.Bag(str(programme.bag)).info
    assert info["Source-Organization"] == "Verandering van binnenuit"
    assert info["Outreach-Period"] == "2026-01-01/2026-12-31"
    assert info["Outreach-Period-Start"] == "2026-01-01T00:00:00+01:00"
    assert info["Outreach-Period-End"] == "2027-01-01T00:00:00+01:00"
    assert info["External-Identifier"] == "outreach-2026-01-01-2026-12-31"
    assert info["Outreach-Software-Version"].startswith("outreach ")
    assert info["Outreach-Count-Posts"] == "6"  # p7 was published before the period
    assert info["Outreach-Count-Posts-Published"] == "4"
    assert info["Outreach-Count-Meetings"] == "5"
    assert info["Outreach-Count-Warc-Files"] == "1"
    assert programme.export.counts["engagement_snapshots"] == 12


def test_posts_json_has_text_per_language_times_ids_permalinks_and_approvals(programme: Programme) -> None:
    found = variants(programme.bag)
    ids = programme.seeded.post_ids
    assert ids["p7"] not in found
    nl, tr = found[ids["p1"]], found[ids["p2"]]
    assert nl["group"] is not None and nl["group"]["source_key"] == tr["group"]["source_key"] == "announce:m1"
    assert {v["language"]: v["text"] for v in nl["group"]["variants"]} == {
        p.language: p.text for p in programme.published}
    assert nl["remote_id"] == programme.published[0].remote_id
    assert nl["permalink"] == programme.published[0].url
    assert nl["published_at_utc"] == "2026-02-26T10:00:00Z"
    assert nl["published_at_local"] == "2026-02-26T11:00:00+01:00"
    assert nl["approvals"][0]["reviewer"] == "aylin"
    assert nl["approvals"][0]["decided_at_local"] == "2026-02-24T11:00:00+01:00"
    media = nl["media"][0]
    assert media["archived_as"].startswith("media/")
    assert (programme.bag / "data" / media["archived_as"]).read_bytes() == programme.seeded.media_file.read_bytes()
    assert tr["media"][0]["archived_as"] == media["archived_as"]  # stored once
    assert found[ids["p4"]]["text"].startswith("لقاء")
    assert found[ids["p5"]]["status"] == "failed" and found[ids["p6"]]["published_at_utc"] == ""


def test_csvs_are_complete_and_suppress_small_counts(programme: Programme) -> None:
    bag, ids = programme.bag, programme.seeded.post_ids
    attempts = rows(bag, "publish_attempts.csv")
    assert {int(r["post_id"]) for r in attempts} == {ids[k] for k in ("p1", "p2", "p3", "p4", "p5")}
    assert {r["started_at_utc"] for r in attempts if int(r["post_id"]) == ids["p5"]} == {"2026-05-13T10:00:00Z"}
    outcomes = {r["meeting_id"]: r for r in rows(bag, "meeting_outcomes.csv")}
    m1, m2 = outcomes[str(programme.seeded.meeting_ids["m1"])], outcomes[str(programme.seeded.meeting_ids["m2"])]
    assert (m1["age_18_24"], m1["gender_woman"], m1["age_under_18"]) == ("10", "15", "<10")
    assert m2["age_35_plus"] == "<10" and m2["age_25_34"] == "0"
    assert "source" not in m1  # a coordinator's local file path is not evidence
    meetings = rows(bag, "meetings.csv")
    assert {r["key"] for r in meetings} == {"m1", "m2", "m3", "m4", "m5"}
    assert {r["organisation"] for r in meetings} == {"IOT", "SMN"}
    snapshots = rows(bag, "metrics/engagement_snapshots.csv")
    assert len(snapshots) == 12 and "raw" not in snapshots[0]
    p3 = [r for r in snapshots if int(r["post_id"]) == ids["p3"]]
    assert [r["views"] for r in p3] == ["500", "1000", "1500"] and p3[0]["comments"] == "<10"
    assert p3[0]["captured_at_utc"] == "2026-04-11T10:00:00Z"
    audience = {r["age_bucket"]: r["value"] for r in rows(bag, "metrics/audience_snapshots.csv")}
    assert audience == {"13-17": "120", "18-24": "300", "25-34": "<10"}
    estimates = rows(bag, "metrics/youth_estimates.csv")
    assert [(e["estimated"], e["source_metric"]) for e in estimates] == [("90", "follower_demographics")]


def test_warc_holds_each_publish_response_and_no_credentials(programme: Programme) -> None:
    warcs = sorted((programme.bag / "data" / "warc").glob("*.warc.gz"))
    assert len(warcs) == 1 and "-20260226-" in warcs[0].name
    published_ids, auth_headers = set(), []
    with warcs[0].open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "request":
                auth_headers += [k for k, _ in record.http_headers.headers if k.lower() == "authorization"]
            if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI").endswith(
                    "/api/v1/statuses"):
                published_ids.add(json.loads(record.content_stream().read())["id"])
    assert published_ids == {p.remote_id for p in programme.published}
    assert auth_headers == []


def test_no_token_anywhere_in_the_bag(programme: Programme) -> None:
    leaks = []
    for path in programme.bag.rglob("*"):
        if not path.is_file():
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        if path.suffix == ".pdf" and shutil.which("pdftotext"):
            data += subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
        leaks += [(path.name, token) for token in TOKENS if token.encode() in data]
    assert leaks == []
    # the seed put the Instagram token into an error message, an attempt message and raw metrics
    text = (programme.bag / "data" / "posts.json").read_text(encoding="utf-8")
    assert "access_token=***" in text


def test_flipped_byte_is_named(programme: Programme) -> None:
    bag = programme.copy_bag("flipped")
    target = bag / "data" / "meetings.csv"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    report = verify_archive(bag)
    assert not report.ok
    assert [(p.kind, p.path) for p in report.problems] == [(ProblemKind.ALTERED, "data/meetings.csv")]
    assert "sha256, sha512 checksum differs" in report.lines()[1]


def test_missing_and_unexpected_files_are_named(programme: Programme) -> None:
    bag = programme.copy_bag("incomplete")
    (bag / "data" / "publish_attempts.csv").unlink()
    (bag / "data" / "extra.txt").write_text("not part of the archive")
    (bag / "bag-info.txt").write_text((bag / "bag-info.txt").read_text().replace("Verandering", "Verandeirng"))
    found = {(p.kind, p.path) for p in verify_archive(bag).problems}
    assert found == {(ProblemKind.MISSING, "data/publish_attempts.csv"),
                     (ProblemKind.UNEXPECTED, "data/extra.txt"), (ProblemKind.ALTERED, "bag-info.txt")}


def test_not_a_bag_is_a_structure_problem(tmp_path: Path) -> None:
    report = verify_archive(tmp_path)
    assert not report.ok and report.problems[0].kind is ProblemKind.STRUCTURE


def test_organisation_filter_and_progress(programme: Programme, tmp_path: Path) -> None:
    report = export_archive(programme.db, programme.settings, tmp_path / "smn", start=START, end=END,
                            organisation="smn", report=False, now=NOW)
    found = variants(tmp_path / "smn")
    assert set(found) == {programme.seeded.post_ids["p3"], programme.seeded.post_ids["p6"]}
    assert {r["key"] for r in rows(tmp_path / "smn", "meetings.csv")} == {"m2", "m4"}
    assert bagit.Bag(str(tmp_path / "smn")).info["Source-Organization"].startswith("Samenwerkingsverband")
    assert report.counts["posts"] == 2 and verify_archive(tmp_path / "smn").ok
    stages = {stage for stage, _, _ in programme.progress}
    assert {"posts", "publish attempts", "engagement snapshots", "checksums"} <= stages
    assert ("engagement snapshots", 12, 12) in programme.progress


def test_refuses_to_write_into_a_non_empty_directory(programme: Programme, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        export_archive(programme.db, programme.settings, tmp_path, start=START, end=END, report=False)
    with pytest.raises(ValueError, match="known: IOT, SMN"):
        export_archive(programme.db, programme.settings, tmp_path / "x", start=START, end=END,
                       organisation="nope", report=False)


def test_posts_json_is_the_same_in_small_batches(programme: Programme, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from outreach.archive import export, tables

    monkeypatch.setattr(export, "POSTS_BATCH", 2)  # what a large archive does every 500 posts
    monkeypatch.setattr(tables, "YIELD_PER", 2)  # ... and its cursor every 2,000 rows
    export_archive(programme.db, programme.settings, tmp_path / "small", start=START, end=END, report=False)
    small, whole = variants(tmp_path / "small"), variants(programme.bag)
    assert small.keys() == whole.keys()
    assert all({k: v for k, v in small[i].items() if k != "group"} ==
               {k: v for k, v in whole[i].items() if k != "group"} for i in small)


def test_csvs_are_safe_in_a_spreadsheet_and_keep_notes_private(programme: Programme) -> None:
    """Formula-looking text is neutralised, files carry a BOM, lists are text, notes never leave."""
    from sqlalchemy import update

    from outreach.db.models import Meeting, MeetingOutcome

    with programme.db.write() as s:
        s.execute(update(Meeting).where(Meeting.key == "m1").values(
            venue='=HYPERLINK("http://evil.example","klik")', languages=["nl", "ku"]))
        s.execute(update(MeetingOutcome).values(notes="=HYPERLINK(\"http://x\") Ayşe kwam met haar broer"))
    out = programme.root / "safe-bag"
    export_archive(programme.db, programme.settings, out, start=START, end=END, now=NOW, report=False)
    raw = (out / "data" / "meetings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    m1 = next(r for r in rows(out, "meetings.csv") if r["key"] == "m1")
    assert m1["venue"] == '\'=HYPERLINK("http://evil.example","klik")' and m1["languages"] == "nl; ku"
    outcomes = rows(out, "meeting_outcomes.csv")
    assert outcomes and all("notes" not in r for r in outcomes)
    assert "Ayşe" not in "".join(p.read_text(encoding="utf-8-sig", errors="replace")
                                 for p in (out / "data").rglob("*.csv"))


def test_no_small_count_in_meeting_outcomes_follows_from_the_other_columns(programme: Programme) -> None:
    """Each row's age groups and gender groups add up to the same attendance: the attack of
    tests/test_privacy.py on both sums, row by row."""
    import csv

    from outreach.privacy import Count, Sum
    from tests.test_privacy import T, assert_nothing_recovered

    ages = ("age_under_18", "age_18_24", "age_25_34", "age_35_plus", "age_unknown")
    genders = ("gender_woman", "gender_man", "gender_other", "gender_unknown")
    path = programme.bag / "data" / "meeting_outcomes.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows and any(r["gender_other"] == "<10" for r in rows)

    def cell(text: str) -> Count:
        return Count(None, suppressed=True) if text == "<10" else Count(None, hidden=True) if text == "×" \
            else Count(int(text))

    for row in rows:
        cells = {c: cell(row[c]) for c in (*ages, *genders)}
        cells["attendance"] = Count(None, hidden=True)  # not in the file: any number
        cap = sum(c.value or 0 for c in cells.values()) + T * len(cells)
        assert_nothing_recovered(cells, [Sum("attendance", ages), Sum("attendance", genders)], cap=cap)


def test_a_row_whose_gender_groups_pin_two_small_cells_hides_a_third(tmp_path: Path) -> None:
    from outreach.archive.captures import Redactor
    from outreach.archive.tables import Writer

    w = Writer(None, tmp_path, Redactor([]), None, 10)  # type: ignore[arg-type]
    ages, genders = ("a1", "a2"), ("woman", "man", "other", "unknown")
    names = ["meeting", *ages, *genders]
    row = w.protect_row(names, [7, 20, 0, 18, 0, 1, 1], (ages, genders))  # 20 - 18 = 2: both 1
    shown = [w.people(v) if n != "meeting" else v for n, v in zip(names, row, strict=True)]
    assert shown == [7, "20", "0", "×", "0", "<10", "<10"]


def test_measured_youth_reach_is_archived_with_its_basis(programme: Programme, tmp_path: Path) -> None:
    import sqlite3

    from outreach.connectors.youtube import YOUTH_BASIS
    from outreach.db import Database
    from outreach.db.models import EngagementSnapshot

    with sqlite3.connect(programme.root / "outreach.db") as src, sqlite3.connect(tmp_path / "outreach.db") as dst:
        src.backup(dst)  # the live database (WAL included), copied
    db = Database(f"sqlite:///{tmp_path / 'outreach.db'}")
    p3 = programme.seeded.post_ids["p3"]
    with db.write() as s:  # what the harvester stores for a YouTube video whose viewers' ages were measured
        s.add(EngagementSnapshot(post_id=p3, captured_at=int(NOW.timestamp()) - 3600, views=1500, youth_reach=400,
                                 raw={"analytics_views": 1500, "age_shares": {"18-24": 26.7},
                                      "youth_basis": YOUTH_BASIS}))
    try:
        export_archive(db, programme.settings, tmp_path / "bag", start=START, end=END, now=NOW, pdf=False)
    finally:
        db.dispose()
    snapshots = rows(tmp_path / "bag", "metrics/engagement_snapshots.csv")
    measured = [r for r in snapshots if r["youth_reach"]]
    assert [(r["youth_reach"], r["youth_basis"]) for r in measured] == [("400", YOUTH_BASIS)]
    assert "logged-in viewers" in YOUTH_BASIS and all(r["youth_basis"] == "" for r in snapshots if not r["youth_reach"])
    assert "youth_basis" in (tmp_path / "bag" / "data" / "README.txt").read_text(encoding="utf-8")
