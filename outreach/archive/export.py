"""`outreach archive export`: a BagIt bag (SHA-256 + SHA-512) with everything needed to prove, years
later, what was published, when, where, in which language and what it reached.

Every section streams from the database (server-side cursors, `yield_per`) to its file; the bag's
checksums are computed by `bagit` afterwards. No token, cookie or personal data of followers goes
in; counts of people under the privacy threshold are written as "<10".
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import bagit
from sqlalchemy import and_, or_, select

from outreach import __version__
from outreach.archive import tables
from outreach.archive.captures import Redactor, capture_dir, warc_day
from outreach.archive.figures import programme, resolve_organisation
from outreach.archive.media import variant_media
from outreach.archive.tables import Column, Writer, columns_of, iso_local, iso_utc
from outreach.credentials import credential_secrets
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
from outreach.domain import PostStatus

Progress = Callable[[str, int, "int | None"], None]
CHECKSUMS = ("sha256", "sha512")
POSTS_BATCH = 500  # posts per approvals lookup in posts.json
PEOPLE = ("views", "reach", "likes", "comments", "shares", "saves", "clicks", "youth_reach", "estimated")
OUTCOME_PEOPLE = ("age_under_18", "age_18_24", "age_25_34", "age_35_plus", "age_unknown",
                  "gender_woman", "gender_man", "gender_other", "gender_unknown")


@dataclass(slots=True)
class ExportReport:
    bag_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    payload_bytes: int = 0
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        """What the CLI prints: one line per count, then every warning."""
        out = [f"bag written to {self.bag_dir} ({self.payload_bytes:,} bytes in {self.elapsed_s:.1f} s)"]
        out += [f"  {name.replace('_', ' ')}: {value:,}" for name, value in self.counts.items()]
        out += [f"warning: {w}" for w in self.warnings]
        return out


def period_from_dates(first: date, last: date, *, timezone: str) -> tuple[datetime, datetime]:
    """`--from 2026-01-01 --to 2026-12-31` as [first 00:00 local, day after last 00:00 local)."""
    if last < first:
        raise ValueError(f"the period is reversed: --to {last} is before --from {first}")
    tz = ZoneInfo(timezone)
    try:
        return (datetime.combine(first, datetime.min.time(), tz),
                datetime.combine(last + timedelta(days=1), datetime.min.time(), tz))
    except OverflowError:
        raise ValueError(f"--to {last} is the last day of the calendar; choose an earlier date") from None


def secrets_of(settings: Any) -> list[str]:
    """Every secret value the configuration knows of: channel env vars and stored rotating credentials."""
    values = list(settings.secret_values())
    store = Path(getattr(settings, "state_dir", ".outreach")) / "credentials"
    for path in store.glob("*.json") if store.is_dir() else ():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        values += credential_secrets(data) if isinstance(data, dict) else []
    return values


def export_archive(db: Database, settings: Any, out_dir: str | os.PathLike[str], *, start: datetime,
                   end: datetime, organisation: str | None = None, progress: Progress | None = None,
                   language: str = "nl", warc_dir: str | os.PathLike[str] | None = None,
                   threshold: int | None = None, report: bool = True, pdf: bool = True,
                   source_organization: str | None = None, now: datetime | None = None) -> ExportReport:
    """Write a BagIt bag for [start, end) into `out_dir` (new or empty); see the README for its layout."""
    began = time.perf_counter()
    bag_dir = Path(out_dir)
    if bag_dir.exists() and any(bag_dir.iterdir()):
        raise FileExistsError(f"{bag_dir} exists and is not empty; choose a new directory for the bag")
    bag_dir.mkdir(parents=True, exist_ok=True)
    prog = programme(settings)
    tz = ZoneInfo(getattr(settings, "timezone", "Europe/Amsterdam"))
    redactor = Redactor(secrets_of(settings))
    w = Writer(db, bag_dir, redactor, tz, prog.threshold if threshold is None else threshold, progress)
    result = ExportReport(bag_dir)
    with db.session() as s:
        org = resolve_organisation(s, organisation)
    chosen = _post_ids(org, start, end)
    c = result.counts
    c["posts"], c["posts_published"], c["media_files"] = _posts_json(w, chosen, result)
    c["publish_attempts"] = w.write_csv("publish_attempts.csv", "publish attempts", _attempt_columns(),
                                        select(*[col.expr for col in _attempt_columns()])
                                        .join_from(PublishAttempt, Post, Post.id == PublishAttempt.post_id)
                                        .where(PublishAttempt.post_id.in_(chosen))
                                        .order_by(PublishAttempt.post_id, PublishAttempt.number))
    meetings = _meeting_ids(org, start, end)
    c["meetings"] = _write(w, "meetings.csv", "meetings", Meeting, meetings, Meeting.id,
                           extra=[Column("organisation", Organisation.code), Column("campaign", Campaign.slug)],
                           joins=[(Organisation, Organisation.id == Meeting.organisation_id),
                                  (Campaign, Campaign.id == Meeting.campaign_id)])
    c["meeting_outcomes"] = _write(w, "meeting_outcomes.csv", "meeting outcomes", MeetingOutcome, meetings,
                                   MeetingOutcome.meeting_id, people=OUTCOME_PEOPLE,
                                   # a local file path says nothing to an evaluator; free-text notes
                                   # can name attendees, so they never leave the database (README)
                                   skip=("source", "notes"), same_total=(OUTCOME_PEOPLE[:5], OUTCOME_PEOPLE[5:]))
    c["engagement_snapshots"] = _write(w, "metrics/engagement_snapshots.csv", "engagement snapshots",
                                       EngagementSnapshot, chosen, EngagementSnapshot.post_id,
                                       skip=("raw",), order=(EngagementSnapshot.post_id, EngagementSnapshot.id),
                                       # measured youth reach keeps what it stands on (YouTube: logged-in viewers)
                                       extra=[Column("youth_basis", EngagementSnapshot.raw["youth_basis"].as_string())])
    c["post_metrics_latest"] = _write(w, "metrics/post_metrics_latest.csv", "latest metrics", PostMetricsLatest,
                                      chosen, PostMetricsLatest.post_id, skip=("next_harvest_at",))
    c["youth_estimates"] = _write(w, "metrics/youth_estimates.csv", "youth estimates", PostYouthEstimate,
                                  chosen, PostYouthEstimate.post_id, kinds={"source_captured_at": "epoch"})
    channels = select(Post.channel).where(Post.id.in_(chosen)).distinct()
    a = AudienceSnapshot
    audience = [col for col in columns_of(a, kinds={"captured_at": "epoch", "value": "people"})]
    c["audience_snapshots"] = w.write_csv(
        "metrics/audience_snapshots.csv", "audience snapshots", audience,
        select(*[col.expr for col in audience]).where(
            a.channel.in_(channels), a.captured_at >= int(start.timestamp()), a.captured_at < int(end.timestamp()))
        .order_by(a.channel, a.captured_at, a.id))
    c["warc_files"], c["warc_bytes"] = _copy_warcs(w, Path(warc_dir) if warc_dir else capture_dir(settings),
                                                   start, end, result)
    if report:
        from outreach.archive.report import write_report

        outcome = write_report(db, settings, bag_dir / "report", start=start, end=end, organisation=organisation,
                               language=language, pdf=pdf, now=now)
        if outcome.message and pdf:
            result.warnings.append(outcome.message)
    _write_readme(bag_dir)
    if progress:
        progress("checksums", 0, None)
    info = _bag_info(org, start, end, tz, c, source_organization, w.threshold)
    bag = bagit.make_bag(str(bag_dir), bag_info=info, checksums=list(CHECKSUMS), processes=1)
    result.payload_bytes = int(bag.info.get("Payload-Oxum", "0.0").split(".")[0])
    result.elapsed_s = time.perf_counter() - began
    if progress:
        progress("checksums", c["posts"], c["posts"])
    return result


# -- selections ---------------------------------------------------------------------------------

def _post_ids(org: Organisation | None, start: datetime, end: datetime) -> Any:
    """Posts of the period: published in it, or (never published) due in it; one organisation's if given."""
    published = and_(Post.published_at >= start, Post.published_at < end)
    unpublished = and_(Post.published_at.is_(None), Post.due_at >= start, Post.due_at < end)
    query = select(Post.id).where(or_(published, unpublished))
    if org is not None:
        query = query.where(Post.meeting_id.in_(select(Meeting.id).where(Meeting.organisation_id == org.id)))
    return query


def _meeting_ids(org: Organisation | None, start: datetime, end: datetime) -> Any:
    query = select(Meeting.id).where(Meeting.starts_at >= start, Meeting.starts_at < end)
    return query.where(Meeting.organisation_id == org.id) if org is not None else query


def _write(w: Writer, rel: str, stage: str, model: Any, ids: Any, key: Any, *,
           people: tuple[str, ...] = PEOPLE, skip: tuple[str, ...] = (), kinds: dict[str, str] | None = None,
           extra: list[Column] | None = None, joins: list[tuple[Any, Any]] | None = None,
           order: tuple[Any, ...] | None = None, same_total: tuple[tuple[str, ...], ...] = ()) -> int:
    kinds = {"captured_at": "epoch", **{p: "people" for p in people}, **(kinds or {})}
    columns = columns_of(model, kinds=kinds, skip=skip) + (extra or [])
    query = select(*[col.expr for col in columns]).select_from(model)
    for target, on in joins or []:
        query = query.outerjoin(target, on)
    return w.write_csv(rel, stage, columns, query.where(key.in_(ids)).order_by(*(order or (key,))),
                       same_total=same_total)


def _attempt_columns() -> list[Column]:
    return columns_of(PublishAttempt, kinds={}) + [Column("channel", Post.channel), Column("platform", Post.platform),
                                                   Column("language", Post.language)]


# -- posts.json -----------------------------------------------------------------------------------

def _posts_json(w: Writer, chosen: Any, result: ExportReport) -> tuple[int, int, int]:
    """posts.json: one object per planned post (campaign + source key), with its variants per channel
    and language, their approvals and archived media. Written element by element."""
    query = (select(Post, Campaign.slug, Campaign.timezone, Meeting.key, Organisation.code)
             .outerjoin(Campaign, Campaign.id == Post.campaign_id)
             .outerjoin(Meeting, Meeting.id == Post.meeting_id)
             .outerjoin(Organisation, Organisation.id == Meeting.organisation_id)
             .where(Post.id.in_(chosen)).order_by(Post.campaign_id, Post.source_key, Post.id))
    media_dir = w.root / "media"
    archived: dict[str, str] = {}
    total = posts = published = 0
    count = w._count(select(Post.id).where(Post.id.in_(chosen))) if w.progress else None
    with (w.root / "posts.json").open("w", encoding="utf-8") as fh, w.db.session() as s:
        fh.write("[\n")
        first = True
        # The identity map holds rows weakly: each batch is freed once written, so memory stays flat.
        for batch in _batches(s.execute(query.execution_options(yield_per=tables.YIELD_PER)), POSTS_BATCH):
            approvals = _approvals(s, [row[0].id for row in batch])
            for group in _groups(batch):
                head = group[0]
                post0, slug, _, meeting_key, org_code = head
                item = {"campaign": slug, "source_key": post0.source_key, "rule": post0.rule_key,
                        "meeting": meeting_key, "organisation": org_code,
                        "variants": [_variant(w, row, approvals.get(row[0].id, []), media_dir, archived, result)
                                     for row in group]}
                fh.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False, indent=1))
                first = False
                posts += len(group)
                published += sum(1 for row in group if row[0].status == PostStatus.PUBLISHED.value)
                total += 1
            if w.progress:
                w.progress("posts", posts, count)
        fh.write("\n]\n")
    return posts, published, len(set(archived.values()))


def _batches(rows: Any, size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _groups(batch: list[Any]) -> Iterator[list[Any]]:
    """Consecutive rows of one planned post. A group split across two batches becomes two objects
    with the same campaign and source key; readers merge on that key (documented in README.txt)."""
    group: list[Any] = []
    for row in batch:
        if group and (row[0].campaign_id, row[0].source_key) != (group[0][0].campaign_id, group[0][0].source_key):
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _approvals(s: Any, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for a in s.scalars(select(Approval).where(Approval.post_id.in_(ids)).order_by(Approval.decided_at, Approval.id)):
        found.setdefault(a.post_id, []).append({
            "decision": a.decision, "reviewer": a.reviewer, "reason": a.reason,
            "content_hash": a.content_hash, "decided_at": a.decided_at})
    return found


def _variant(w: Writer, row: Any, approvals: list[dict[str, Any]], media_dir: Path,
             archived: dict[str, str], result: ExportReport) -> dict[str, Any]:
    post, _, campaign_tz, _, _ = row
    tz = ZoneInfo(campaign_tz) if campaign_tz else w.tz
    decisions = [{**{k: v for k, v in a.items() if k != "decided_at"}, "reason": w.redactor.text(a["reason"]),
                  "decided_at_utc": iso_utc(a["decided_at"]), "decided_at_local": iso_local(a["decided_at"], tz)}
                 for a in approvals]
    return {
        "post_id": post.id, "channel": post.channel, "platform": post.platform, "language": post.language,
        "text": w.redactor.text(post.text), "link": post.link, "status": post.status,
        "content_hash": post.content_hash, "approval_required": post.approval_required,
        "due_at_utc": iso_utc(post.due_at), "due_at_local": iso_local(post.due_at, tz),
        "published_at_utc": iso_utc(post.published_at), "published_at_local": iso_local(post.published_at, tz),
        "timezone": tz.key, "remote_id": post.remote_id, "permalink": post.remote_url,
        "attempts": post.attempts, "error_kind": post.error_kind,
        "last_error": w.redactor.text(post.last_error) if post.last_error else None, "approvals": decisions,
        "media": variant_media(post, media_dir, archived, result.counts, result.warnings),
    }


# -- WARC files, README, bag-info -----------------------------------------------------------------

def _copy_warcs(w: Writer, source: Path, start: datetime, end: datetime, result: ExportReport) -> tuple[int, int]:
    """WARC files captured on the period's days (UTC). A file that somehow holds a configured secret
    is left out with a warning rather than exported."""
    first, last = start.astimezone(ZoneInfo("UTC")).date(), (end - timedelta(microseconds=1)).astimezone(
        ZoneInfo("UTC")).date()
    files = sorted(p for p in source.glob("*.warc.gz") if (day := warc_day(p)) and first <= day <= last) \
        if source.is_dir() else []
    copied = size = 0
    for i, path in enumerate(files, 1):
        if _holds_secret(path, w.redactor.secrets):
            result.warnings.append(f"{path.name} contains a configured secret and was not exported")
            continue
        target = w.root / "warc" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
        size += target.stat().st_size
        if w.progress:
            w.progress("warc files", i, len(files))
    return copied, size


def _holds_secret(path: Path, secrets: list[str]) -> bool:
    if not secrets:
        return False
    needles = [s.encode("utf-8") for s in secrets]
    overlap = max(len(n) for n in needles)
    tail = b""
    with gzip.open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:]
    return False


README = """Proof-of-impact archive made by outreach {version}.

posts.json                 one object per planned post (campaign + source_key) with its variants per
                           channel and language: text, status, due/published time in UTC and local
                           time, remote id, permalink, approvals, media. Objects with the same
                           campaign and source_key belong together.
media/                     the exact files each post uploaded, named by their SHA-256; a media
                           entry's archived_as and uploaded[].archived_as point here ("missing"
                           says why a file could not be archived).
publish_attempts.csv       every attempt to publish, with outcome and (redacted) error message.
meetings.csv               meetings of the period; meeting_outcomes.csv: attendance by age group and
                           gender (aggregates only), evaluation score.
metrics/                   engagement_snapshots.csv (every metrics fetch, append-only; youth_reach
                           is measured by the platform, youth_basis says how: never an estimate),
                           post_metrics_latest.csv, youth_estimates.csv (share, source, date) and
                           audience_snapshots.csv (account-level age/gender breakdowns).
warc/                      the platform API exchanges (WARC 1.1, credentials removed before writing).
report/                    the impact report as HTML and PDF.

Counts of people below the threshold in bag-info.txt are written as "<N>". No tokens and no data
about followers or commenters are included. Check the bag: `outreach archive verify <bag>` or
`bagit.py --validate <bag>`.
"""


def _write_readme(bag_dir: Path) -> None:
    (bag_dir / "README.txt").write_text(README.format(version=__version__), encoding="utf-8")


def _bag_info(org: Organisation | None, start: datetime, end: datetime, tz: ZoneInfo, counts: dict[str, int],
              source_organization: str | None, threshold: int) -> dict[str, str]:
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    info = {
        "Source-Organization": source_organization or (org.name if org else "Verandering van binnenuit"),
        "External-Description": "Proof-of-impact archive: posts, publish attempts, meetings and outcomes, "
                                "metrics and audience snapshots, WARC captures and the impact report.",
        "External-Identifier": f"outreach-{start.astimezone(tz).date()}-{last}" + (f"-{org.code}" if org else ""),
        "Outreach-Period": f"{start.astimezone(tz).date()}/{last}",
        "Outreach-Period-Start": start.astimezone(tz).isoformat(timespec="seconds"),
        "Outreach-Period-End": end.astimezone(tz).isoformat(timespec="seconds"),
        "Outreach-Timezone": tz.key,
        "Outreach-Software-Version": f"outreach {__version__}",
        "Outreach-Small-Count-Threshold": str(threshold),
    }
    if org is not None:
        info["Outreach-Organisation"] = org.code
    info.update({f"Outreach-Count-{name.replace('_', '-').title()}": str(v) for name, v in counts.items()})
    return info
