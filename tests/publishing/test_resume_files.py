"""The resume state that is a capability: split out of a handle before the database sees it, kept in an
owner-only file per post, given back only to an attempt whose handle names that file, and deleted when
the publish ends or the file is a week old."""

from __future__ import annotations

import copy
import json
import os
import stat
import time
from pathlib import Path

from outreach.connectors.capability import Capability, restore, split
from outreach.publishing.resume import KEY, MAX_AGE_S, ResumeFiles

SESSION = "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=xa298sd_SECRET1"
PART = "https://www.linkedin.com/dms-uploads/sp/v2/D5610AQ/uploadedVideo?sau=SECRET2"


def handle() -> dict:
    """A YouTube-like and a LinkedIn-like handle in one: a top-level URI and URLs nested in lists."""
    return {"marker": "outreach-1a2b", "session_uri": Capability(SESSION),
            "video": {"urn": "urn:li:video:C1", "etags": {"0": "e0"}, "token": None,
                      "parts": [[Capability(PART), 0, 99], [Capability(PART + "b"), 100, 150]]}}


def test_split_leaves_none_where_a_capability_was_and_restore_puts_it_back() -> None:
    public, found = split(handle())
    text = json.dumps(public)
    assert "SECRET" not in text and public["session_uri"] is None and public["video"]["parts"][1] == [None, 100, 150]
    assert found == {"/session_uri": SESSION, "/video/parts/0/0": PART, "/video/parts/1/0": PART + "b"}
    back = restore(json.loads(text), found)
    assert back == handle() and isinstance(back["video"]["parts"][0][0], Capability)
    assert restore({"marker": "m"}, found) == {"marker": "m"}  # paths the handle lost are skipped


def test_a_capability_hides_in_repr_and_stays_one_when_copied() -> None:
    value = Capability(SESSION)
    assert "SECRET" not in repr(value) and "SECRET" not in repr({"session_uri": value})
    assert str(value) == SESSION and value == SESSION
    assert isinstance(copy.deepcopy(value), Capability) and isinstance(copy.deepcopy(handle())["session_uri"], Capability)


def test_capabilities_go_to_an_owner_only_file_named_by_the_handle(tmp_path: Path) -> None:
    files = ResumeFiles(tmp_path / "resume")
    attempt = files.attempt(7, "lease-a", {})
    public = attempt.public(handle())
    assert "SECRET" not in json.dumps(public) and public[KEY].isalnum()
    [written] = (tmp_path / "resume").iterdir()
    assert written.name == f"7-{public[KEY]}.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600 and stat.S_IMODE(written.parent.stat().st_mode) == 0o700
    assert json.loads(written.read_text())["lease"] == "lease-a"

    again = files.attempt(7, "lease-b", json.loads(json.dumps(public)))  # the next claim, read from the database
    assert again.handle == {**handle(), KEY: public[KEY]} and isinstance(again.handle["session_uri"], Capability)
    assert again.public(again.handle) == public  # the same file, rewritten
    assert len(list((tmp_path / "resume").iterdir())) == 1


def test_a_handle_naming_no_file_here_gets_none_and_a_new_file(tmp_path: Path) -> None:
    files = ResumeFiles(tmp_path / "resume")
    public = files.attempt(7, "a", {}).public(handle())
    elsewhere = ResumeFiles(tmp_path / "other-machine").attempt(7, "b", dict(public))
    assert elsewhere.handle["session_uri"] is None  # the connector takes the safe path
    fresh = elsewhere.public({**elsewhere.handle, "session_uri": Capability(SESSION + "x")})
    assert fresh[KEY] != public[KEY]  # a file written for a later upload never mixes with the earlier one
    for name in ("../../etc/passwd", "", None, 5):
        assert files.attempt(7, "c", {**public, KEY: name}).handle["session_uri"] is None
    assert files.attempt(8, "d", dict(public)).handle["session_uri"] is None  # another post's handle


def test_files_go_when_the_publish_ends_when_the_lease_was_lost_and_after_a_week(tmp_path: Path) -> None:
    files = ResumeFiles(tmp_path / "resume")
    kept = files.attempt(1, "a", {}).public(handle())
    files.attempt(2, "a", {}).public(handle())
    files.discard(2)
    assert [p.name for p in (tmp_path / "resume").iterdir()] == [f"1-{kept[KEY]}.json"]

    lost = files.attempt(3, "a", {})
    lost.public(handle())
    lost.abandon()  # the fenced write found another lease holder
    restored = files.attempt(1, "b", dict(kept))
    restored.abandon()  # a file this attempt did not write stays for the one that did
    assert [p.name for p in (tmp_path / "resume").iterdir()] == [f"1-{kept[KEY]}.json"]

    no_more = files.attempt(1, "c", dict(kept))
    assert KEY not in no_more.public({"video_id": "v1"})  # nothing secret left: no file either
    assert not list((tmp_path / "resume").iterdir())

    old = ResumeFiles(tmp_path / "resume")
    stale = old.attempt(4, "a", {}).public(handle())
    path = tmp_path / "resume" / f"4-{stale[KEY]}.json"
    os.utime(path, (time.time() - MAX_AGE_S - 60,) * 2)
    ResumeFiles(tmp_path / "resume").attempt(5, "a", {})  # a worker starting sweeps
    assert not path.exists()
