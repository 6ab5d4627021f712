"""A small, hand-checkable programme for the archive tests: two organisations, six meetings (one a
training, one before and one after the period), posts in three languages on two platforms (two of
them really published to the Mastodon sandbox), approvals, attempts, snapshots and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from outreach.db import Database
from outreach.db.models import (
    Approval,
    AudienceSnapshot,
    Campaign,
    EngagementSnapshot,
    Meeting,
    MeetingOutcome,
    Organisation,
    Post,
    PostMetricsLatest,
    PostYouthEstimate,
    PublishAttempt,
)
from outreach.domain import MediaItem
from outreach.publishing.media import uploaded_files

MASTODON_ENV = "ARCHIVE_TEST_MASTODON_TOKEN"
INSTAGRAM_ENV = "ARCHIVE_TEST_INSTAGRAM_TOKEN"
INSTAGRAM_TOKEN = "IGQVJfake-archive-token-5521c0ffee"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 1, 1, tzinfo=AMSTERDAM)  # what `--from 2026-01-01 --to 2026-12-31` gives
END = datetime(2027, 1, 1, tzinfo=AMSTERDAM)
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 18, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Published:
    """A post the sandbox really published: its text, language and what the platform answered."""

    text: str
    language: str
    remote_id: str
    url: str | None


@dataclass
class Seeded:
    post_ids: dict[str, int]
    meeting_ids: dict[str, int]
    media_file: Path


def png(path: Path, color: tuple[int, int, int] = (108, 52, 131)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (400, 400), color).save(path)
    return path


def seed(db: Database, *, published: list[Published], media_dir: Path) -> Seeded:
    """Insert the programme through the models. `published` are the two Mastodon posts (nl, tr)."""
    media = png(media_dir / "announce-m1.png")
    with db.write() as s:
        iot, smn = Organisation(code="IOT", name="Inspraakorgaan Turken"), \
            Organisation(code="SMN", name="Samenwerkingsverband Marokkaanse Nederlanders")
        campaign = Campaign(slug="veilig-2026", name="Veilig en gezien 2026", timezone="Europe/Amsterdam")
        s.add_all([iot, smn, campaign])
        s.flush()

        def meeting(key: str, org: Organisation, when: datetime, kind: str = "community") -> Meeting:
            m = Meeting(campaign_id=campaign.id, key=key, kind=kind, organisation_id=org.id, community="Turks",
                        city="Rotterdam" if org is iot else "Utrecht", venue="Buurthuis De Brug", starts_at=when,
                        languages=["nl", "tr"], themes=["lhbti"], audience="jongeren")
            s.add(m)
            return m

        meetings = {"m0": meeting("m0", iot, at(11, 1, year=2025)), "m1": meeting("m1", iot, at(3, 5)),
                    "m2": meeting("m2", smn, at(4, 10)), "m3": meeting("m3", iot, at(5, 20)),
                    "m4": meeting("m4", smn, at(9, 1)), "m5": meeting("m5", iot, at(2, 1), kind="training")}
        s.flush()
        s.add(MeetingOutcome(meeting_id=meetings["m1"].id, age_under_18=8, age_18_24=10, age_25_34=5,
                             age_35_plus=4, gender_woman=15, gender_man=10, gender_other=1, gender_unknown=1,
                             evaluation=8.4, notes="Goed gesprek", source="/home/coordinator/uitkomsten.csv"))
        s.add(MeetingOutcome(meeting_id=meetings["m2"].id, age_under_18=2, age_18_24=1, age_35_plus=3,
                             gender_woman=4, gender_man=2, evaluation=7.0))

        def post(key: str, *, source: str, channel: str, platform: str, language: str, text: str,
                 meeting_key: str, status: str, due: datetime, published_at: datetime | None = None,
                 remote_id: str | None = None, url: str | None = None, media_entries: list | None = None,
                 last_error: str | None = None, uploaded: list | None = None) -> Post:
            p = Post(campaign_id=campaign.id, meeting_id=meetings[meeting_key].id, source_key=source,
                     rule_key=source.split(":")[0], channel=channel, platform=platform, language=language,
                     text=text, media=media_entries or [], content_hash=f"hash-{key}", due_at=due, status=status,
                     approval_required=True, idempotency_key=f"idem-{key}", attempts=1 if published_at else 0,
                     remote_id=remote_id, remote_url=url, published_at=published_at, last_error=last_error,
                     published_media=uploaded)
            s.add(p)
            return p

        nl, tr = published
        image = [{"path": str(media), "alt_text": "Paarse kaart met de aankondiging", "mime_type": "image/png"}]
        sent = uploaded_files((MediaItem(str(media), "Paarse kaart met de aankondiging", "image/png"),))
        posts = {
            "p1": post("p1", source="announce:m1", channel="peer-mastodon", platform="mastodon", language="nl",
                       text=nl.text, meeting_key="m1", status="published", due=at(2, 26, 10),
                       published_at=at(2, 26, 10), remote_id=nl.remote_id, url=nl.url, media_entries=image,
                       uploaded=sent),
            "p2": post("p2", source="announce:m1", channel="peer-mastodon", platform="mastodon", language="tr",
                       text=tr.text, meeting_key="m1", status="published", due=at(2, 26, 10),
                       published_at=at(2, 26, 10), remote_id=tr.remote_id, url=tr.url, media_entries=image,
                       uploaded=sent),
            "p3": post("p3", source="recap:m2", channel="peer-instagram", platform="instagram", language="nl",
                       text="Terugblik: een open gesprek in Utrecht over veiligheid en acceptatie.",
                       meeting_key="m2", status="published", due=at(4, 11, 9), published_at=at(4, 11, 9),
                       remote_id="17890000000000003", url="https://www.instagram.com/p/Cfake3/",
                       media_entries=[{"card": "recap", "alt_text": "Terugblik-kaart"}]),
            "p4": post("p4", source="recap:m1", channel="peer-instagram", platform="instagram", language="ar",
                       text="لقاء مفتوح في روتردام حول الأمان والقبول.", meeting_key="m1", status="published",
                       due=at(3, 6, 9), published_at=at(3, 6, 9), remote_id="17890000000000004",
                       url="https://www.instagram.com/p/Cfake4/"),
            "p5": post("p5", source="announce:m3", channel="peer-mastodon", platform="mastodon", language="nl",
                       text="Bijeenkomst in Rotterdam op 20 mei.", meeting_key="m3", status="failed",
                       due=at(5, 13, 10), last_error=f"HTTP 401 for ?access_token={INSTAGRAM_TOKEN}"),
            "p6": post("p6", source="announce:m4", channel="peer-instagram", platform="instagram", language="nl",
                       text="Save the date: 1 september in Utrecht.", meeting_key="m4", status="approved",
                       due=at(8, 25, 10)),
            "p7": post("p7", source="announce:m0", channel="peer-mastodon", platform="mastodon", language="nl",
                       text="Vorig jaar: bijeenkomst in november.", meeting_key="m0", status="published",
                       due=at(10, 25, 10, year=2025), published_at=at(10, 25, 10, year=2025),
                       remote_id="109999", url="http://example.invalid/@peer/109999"),
        }
        s.flush()
        for key in ("p1", "p2", "p3", "p4", "p6"):
            s.add(Approval(post_id=posts[key].id, decision="approved", reviewer="aylin",
                           reason="klopt", content_hash=f"hash-{key}", decided_at=posts[key].due_at - timedelta(days=2)))
        for key in ("p1", "p2", "p3", "p4"):
            p = posts[key]
            s.add(PublishAttempt(post_id=p.id, number=1, worker="worker-a", started_at=p.due_at,
                                 finished_at=p.due_at + timedelta(seconds=2), outcome="published", http_status=200,
                                 remote_id=p.remote_id))
        s.add(PublishAttempt(post_id=posts["p5"].id, number=1, worker="worker-a", started_at=at(5, 13, 10),
                             finished_at=at(5, 13, 10), outcome="failed", error_kind="auth", http_status=401,
                             message=f"token {INSTAGRAM_TOKEN} was refused"))
        metrics = {"p1": (None, 120, 5, 1, 2), "p2": (None, 40, 3, 0, 1),
                   "p3": (900, 1500, 80, 6, 12), "p4": (300, 450, 30, 2, 5)}
        for key, (reach, views, likes, comments, shares) in metrics.items():
            p = posts[key]
            base = int(p.published_at.timestamp())
            for step, hours in enumerate((1, 24, 168), 1):
                s.add(EngagementSnapshot(post_id=p.id, captured_at=base + hours * 3600,
                                         reach=reach and reach * step // 3, views=views * step // 3,
                                         likes=likes * step // 3, comments=comments, shares=shares,
                                         raw={"note": f"raw with {INSTAGRAM_TOKEN}"}))
            s.add(PostMetricsLatest(post_id=p.id, captured_at=base + 168 * 3600, snapshots=3, reach=reach,
                                    views=views, likes=likes, comments=comments, shares=shares,
                                    youth_reach=400 if key == "p3" else None,
                                    watch_time_s=9000 if key == "p3" else None))  # p3 is a Reel: 2.5 hours watched
        s.add(PostYouthEstimate(post_id=posts["p4"].id, share=0.3, estimated=90, source_metric="follower_demographics",
                                source_captured_at=int(at(3, 1, 0).timestamp()), young="13-24"))
        for bucket, gender, value in (("13-17", "F", 120), ("18-24", "F", 300), ("25-34", "M", 4)):
            s.add(AudienceSnapshot(channel="peer-instagram", captured_at=int(at(3, 1, 0).timestamp()),
                                   metric="follower_demographics", timeframe="this_month", age_bucket=bucket,
                                   gender=gender, value=value))
    return Seeded(post_ids={k: v.id for k, v in posts.items()},
                  meeting_ids={k: v.id for k, v in meetings.items()}, media_file=media)
