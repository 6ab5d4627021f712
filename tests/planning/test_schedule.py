"""Loading plans into the database: idempotent, transactional, never touching published posts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from outreach import lifecycle
from outreach.config import Settings
from outreach.db.engine import Database
from outreach.db.models import Approval, Campaign, Meeting, Organisation, Post
from outreach.domain import PostStatus
from outreach.planning import CampaignError, plan_campaign, schedule_campaign
from tests.planning.conftest import CAMPAIGNS

NOW = datetime(2027, 1, 1, tzinfo=UTC)
FILE = """\
campaign:
  id: small
  name: Small campaign
  channels: [peer-mastodon, peer-whatsapp]
meetings:
  - id: iot-rotterdam
    organisation: IOT
    community: Turkse Nederlanders
    city: Rotterdam
    venue: Wijkcentrum Feijenoord
    start: 2027-03-12 19:00
    languages: [nl, tr]
posts:
  - id: announce
    at: {days: -7, time: "18:00"}
    text:
      nl: "Bijeenkomst in {{ meeting.city }}"
      tr: "{{ meeting.city }} buluşması"
  - id: kickoff
    at: 2027-03-01 10:00
    approval: none
    text:
      nl: Vandaag begint het voorjaar.
"""


@pytest.fixture
def writes(db: Database) -> Iterator[list[str]]:
    """Every INSERT/UPDATE/DELETE statement sent to the database while the test runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    event.remove(db.engine, "before_cursor_execute", record)


def posts(db: Database) -> dict[tuple[str, str, str], Post]:
    with db.session() as s:
        return {(p.source_key, p.channel, p.language): p for p in s.scalars(select(Post))}


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def set_status(db: Database, key: tuple[str, str, str], *path: PostStatus) -> None:
    """Walk a post through lifecycle transitions, as the reviewer and the dispatcher would."""
    with db.write() as s:
        post = s.scalar(select(Post).where(Post.source_key == key[0], Post.channel == key[1],
                                           Post.language == key[2]))
        assert post is not None
        for status in path:
            lifecycle.transition(post, status)


def test_first_schedule_inserts_everything(db: Database, settings: Settings,
                                           write_campaign: Callable[..., Path]) -> None:
    report = schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    assert report.counts() == {"new": 6}  # announce: nl, tr × 2 channels; kickoff: nl × 2 channels
    assert report.meetings == {"new": 1} and report.organisations == {"new": 1}
    rows = posts(db)
    assert {k: p.status for k, p in rows.items()} == {
        ("announce/iot-rotterdam", "peer-mastodon", "nl"): "pending_review",
        ("announce/iot-rotterdam", "peer-mastodon", "tr"): "pending_review",
        ("announce/iot-rotterdam", "peer-whatsapp", "nl"): "approved",  # manual: posted by a person
        ("announce/iot-rotterdam", "peer-whatsapp", "tr"): "approved",
        ("kickoff", "peer-mastodon", "nl"): "approved",  # approval: none
        ("kickoff", "peer-whatsapp", "nl"): "approved",
    }
    keys = {p.idempotency_key for p in rows.values()}
    assert len(keys) == 6 and all(len(k) == 32 for k in keys)
    announce = rows["announce/iot-rotterdam", "peer-mastodon", "nl"]
    assert announce.due_at == datetime(2027, 3, 5, 17, 0, tzinfo=UTC)
    assert announce.meeting_id is not None and announce.rule_key == "announce"
    assert announce.text == "Bijeenkomst in Rotterdam" and announce.approval_required
    with db.session() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None and meeting.starts_at == datetime(2027, 3, 12, 18, 0, tzinfo=UTC)
        assert meeting.organisation.code == "IOT" and meeting.languages == ["nl", "tr"]
        campaign = s.scalar(select(Campaign))
        assert campaign is not None and campaign.slug == "small" and campaign.loaded_at == NOW


def test_second_run_is_all_unchanged_and_writes_nothing(db: Database, settings: Settings,
                                                        writes: list[str]) -> None:
    example = CAMPAIGNS / "voorjaar-2027.yaml"
    first = schedule_campaign(db, plan_campaign(example, settings), now=NOW)
    assert first.counts() == {"new": 434} and first.organisations == {"new": 7}
    assert count(db, Organisation) == 7 and count(db, Meeting) == 10
    before = {k: (p.updated_at, p.idempotency_key, p.status) for k, p in posts(db).items()}
    writes.clear()
    second = schedule_campaign(db, plan_campaign(example, settings), now=NOW + timedelta(hours=1))
    assert second.counts() == {"unchanged": 434}
    assert second.meetings == {"unchanged": 10} and not second.changed
    assert second.lines() == [] and len(second.lines(include_unchanged=True)) == 434
    assert writes == []
    assert {k: (p.updated_at, p.idempotency_key, p.status) for k, p in posts(db).items()} == before


def test_edit_updates_unpublished_and_sends_approved_back_to_review(
        db: Database, settings: Settings, write_campaign: Callable[..., Path]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    nl, tr = ("announce/iot-rotterdam", "peer-mastodon", "nl"), ("announce/iot-rotterdam", "peer-mastodon", "tr")
    kickoff = ("kickoff", "peer-mastodon", "nl")
    set_status(db, nl, PostStatus.APPROVED)  # a reviewer approved the Dutch text
    set_status(db, kickoff, PostStatus.PUBLISHING, PostStatus.PUBLISHED)  # already out
    old = posts(db)

    edited = (FILE.replace("Bijeenkomst in {{ meeting.city }}", "Kom naar {{ meeting.city }}!")
                  .replace("{{ meeting.city }} buluşması", "{{ meeting.city }} buluşmasına gelin!")
                  .replace("Vandaag begint het voorjaar.", "Vandaag begint de lente."))
    report = schedule_campaign(db, plan_campaign(write_campaign(edited), settings), now=NOW)
    lines = report.lines()
    assert report.counts() == {"needs review again": 1, "updated": 4, "kept": 1}
    new = posts(db)
    assert new[nl].status == "pending_review" and new[nl].text == "Kom naar Rotterdam!"
    assert new[tr].status == "pending_review" and new[tr].text == "Rotterdam buluşmasına gelin!"
    assert new[nl].idempotency_key == old[nl].idempotency_key and new[nl].updated_at == NOW
    assert f"needs review again: was approved; text, content hash · post {old[nl].id} · " \
           "announce/iot-rotterdam · peer-mastodon · nl" in lines
    # The published post is never touched, and the report says so.
    assert new[kickoff].status == "published" and new[kickoff].text == "Vandaag begint het voorjaar."
    assert new[kickoff].updated_at == old[kickoff].updated_at
    assert f"kept: already published · post {old[kickoff].id} · kickoff · peer-mastodon · nl" in lines
    # The manual kickoff is not published: updated, still approved (no review for manual posts).
    assert new["kickoff", "peer-whatsapp", "nl"].text == "Vandaag begint de lente."
    assert new["kickoff", "peer-whatsapp", "nl"].status == "approved"
    assert count(db, Approval) == 0  # going back to review records no decision


def test_time_change_keeps_the_approval(db: Database, settings: Settings,
                                        write_campaign: Callable[..., Path]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    nl = ("announce/iot-rotterdam", "peer-mastodon", "nl")
    set_status(db, nl, PostStatus.APPROVED)
    moved = FILE.replace('time: "18:00"', 'time: "20:00"')
    report = schedule_campaign(db, plan_campaign(write_campaign(moved), settings), now=NOW)
    assert report.counts() == {"updated": 4, "unchanged": 2}
    post = posts(db)[nl]
    assert post.status == "approved" and post.due_at == datetime(2027, 3, 5, 19, 0, tzinfo=UTC)


def test_approval_becoming_required_sends_approved_posts_to_review(
        db: Database, settings: Settings, write_campaign: Callable[..., Path]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    stricter = FILE.replace("    approval: none\n", "")
    report = schedule_campaign(db, plan_campaign(write_campaign(stricter), settings), now=NOW)
    assert report.counts() == {"needs review again": 1, "unchanged": 5}
    rows = posts(db)
    assert rows["kickoff", "peer-mastodon", "nl"].status == "pending_review"
    assert rows["kickoff", "peer-whatsapp", "nl"].status == "approved"  # manual posts need no review


def test_removed_posts_are_cancelled_but_published_ones_kept(
        db: Database, settings: Settings, write_campaign: Callable[..., Path]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    published = ("announce/iot-rotterdam", "peer-mastodon", "tr")
    set_status(db, published, PostStatus.APPROVED, PostStatus.PUBLISHING, PostStatus.PUBLISHED)
    without_announce = FILE[:FILE.index("  - id: announce")] + FILE[FILE.index("  - id: kickoff"):]
    report = schedule_campaign(db, plan_campaign(write_campaign(without_announce), settings), now=NOW)
    assert report.counts() == {"cancelled": 3, "kept": 1, "unchanged": 2}
    rows = posts(db)
    assert rows[published].status == "published"
    cancelled = [k for k, p in rows.items() if p.status == "cancelled"]
    assert sorted(cancelled) == [("announce/iot-rotterdam", "peer-mastodon", "nl"),
                                 ("announce/iot-rotterdam", "peer-whatsapp", "nl"),
                                 ("announce/iot-rotterdam", "peer-whatsapp", "tr")]
    assert any(line.startswith("kept: already published; no longer in the file") for line in report.lines())

    # Putting the rule back restores the cancelled posts (to review again), leaves the published one.
    again = schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    assert again.counts() == {"updated": 3, "unchanged": 3}
    rows = posts(db)
    assert rows["announce/iot-rotterdam", "peer-mastodon", "nl"].status == "pending_review"
    assert rows["announce/iot-rotterdam", "peer-whatsapp", "nl"].status == "approved"


def test_a_post_cancelled_by_hand_stays_cancelled(db: Database, settings: Settings,
                                                  write_campaign: Callable[..., Path]) -> None:
    file = write_campaign(FILE)
    schedule_campaign(db, plan_campaign(file, settings), now=NOW)
    key = ("announce/iot-rotterdam", "peer-mastodon", "nl")
    set_status(db, key, PostStatus.CANCELLED)
    edited = write_campaign(FILE.replace("Bijeenkomst in", "Bijeenkomst te"))
    report = schedule_campaign(db, plan_campaign(edited, settings), now=NOW)
    assert posts(db)[key].status == "cancelled"
    assert report.counts()["kept"] == 1


def test_past_posts_are_skipped_unless_asked(db: Database, settings: Settings,
                                             write_campaign: Callable[..., Path]) -> None:
    plan = plan_campaign(write_campaign(FILE), settings)
    late = datetime(2027, 3, 3, tzinfo=UTC)  # after the kickoff, before the announcement
    report = schedule_campaign(db, plan, now=late)
    assert report.counts() == {"skipped": 2, "new": 4}
    assert set(posts(db)) == {k for k in posts(db) if k[0] == "announce/iot-rotterdam"}
    assert schedule_campaign(db, plan, now=late, include_past=True).counts() == {"new": 2, "unchanged": 4}


def test_broken_file_writes_nothing(db: Database, settings: Settings, write_campaign: Callable[..., Path],
                                    writes: list[str]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    before = {k: (p.text, p.status, p.updated_at) for k, p in posts(db).items()}
    writes.clear()
    broken = FILE.replace("Vandaag begint het voorjaar.", "Vandaag {{ begint }}").replace(
        "Bijeenkomst in", "Kom naar")
    with pytest.raises(CampaignError):
        schedule_campaign(db, plan_campaign(write_campaign(broken), settings), now=NOW)
    assert writes == []
    assert {k: (p.text, p.status, p.updated_at) for k, p in posts(db).items()} == before


def test_a_failure_mid_way_rolls_everything_back(db: Database, settings: Settings,
                                                 write_campaign: Callable[..., Path]) -> None:
    plan = plan_campaign(write_campaign(FILE), settings)
    twice = dataclasses.replace(plan, posts=[*plan.posts, plan.posts[-1]])  # violates the unique key
    with pytest.raises(IntegrityError):
        schedule_campaign(db, twice, now=NOW)
    assert count(db, Campaign) == count(db, Meeting) == count(db, Organisation) == count(db, Post) == 0

    schedule_campaign(db, plan, now=NOW)
    edited = plan_campaign(write_campaign(FILE.replace("Bijeenkomst in", "Kom naar")), settings)
    with pytest.raises(IntegrityError):
        schedule_campaign(db, dataclasses.replace(edited, posts=[*edited.posts, edited.posts[-1]]), now=NOW)
    assert posts(db)["announce/iot-rotterdam", "peer-mastodon", "nl"].text == "Bijeenkomst in Rotterdam"


def test_summary_names_the_campaign_and_counts(db: Database, settings: Settings,
                                               write_campaign: Callable[..., Path]) -> None:
    report = schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    assert report.summary() == "campaign small: 6 new; meetings: 1 new"
    assert report.lines()[0].startswith("new: pending_review · post ")


def test_rejected_post_edited_goes_back_to_review_and_dropping_approval_approves(
        db: Database, settings: Settings, write_campaign: Callable[..., Path]) -> None:
    schedule_campaign(db, plan_campaign(write_campaign(FILE), settings), now=NOW)
    nl, tr = ("announce/iot-rotterdam", "peer-mastodon", "nl"), ("announce/iot-rotterdam", "peer-mastodon", "tr")
    set_status(db, nl, PostStatus.REJECTED)
    fixed = FILE.replace("Bijeenkomst in", "Welkom in")
    report = schedule_campaign(db, plan_campaign(write_campaign(fixed), settings), now=NOW)
    assert posts(db)[nl].status == "pending_review" and report.counts()["needs review again"] == 1
    relaxed = fixed.replace('time: "18:00"}', 'time: "18:00"}\n    approval: none')
    report = schedule_campaign(db, plan_campaign(write_campaign(relaxed), settings), now=NOW)
    rows = posts(db)
    assert rows[nl].status == rows[tr].status == "approved" and not rows[nl].approval_required
    assert any(line.startswith("updated: pending_review → approved") for line in report.lines())


def test_a_rule_at_0230_on_the_night_the_clocks_go_back_schedules(db: Database, settings: Settings,
                                                                  write_campaign: Callable[..., Path]) -> None:
    """Used to stop with an IntegrityError: two posts with one key that night."""
    text = """\
campaign:
  id: nacht
  name: Nacht
  channels: [peer-mastodon]
posts:
  - id: night
    cron: "30 2 * * sun"
    from: 2027-10-24
    until: 2027-11-07
    text: {nl: "Nachtpost"}
"""
    report = schedule_campaign(db, plan_campaign(write_campaign(text), settings), now=datetime(2027, 10, 1, tzinfo=UTC))
    assert report is not None
    due = sorted(p.due_at for p in posts(db).values())
    assert [d.replace(tzinfo=UTC) for d in due] == [datetime(2027, 10, 24, 0, 30, tzinfo=UTC),
                                                    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
                                                    datetime(2027, 11, 7, 1, 30, tzinfo=UTC)]
