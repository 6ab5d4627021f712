"""Typed SQLAlchemy 2 models. Times are stored in UTC; snapshot times as integer epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from outreach.domain import PostStatus

# Posts waiting for the dispatcher, as SQL shared by the partial index `ix_posts_ready` and the claim
# query: SQLite uses a partial index only when the query repeats its condition term for term.
READY_STATUSES = (PostStatus.APPROVED.value, PostStatus.RETRYING.value)
READY_SQL = f"status IN ({', '.join(repr(s) for s in READY_STATUSES)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; outreach stores aware UTC datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # "IOT", "SMN"
    name: Mapped[str] = mapped_column(String(200))


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(60))
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_hash: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    key: Mapped[str] = mapped_column(String(120))  # the id written in the campaign file
    kind: Mapped[str] = mapped_column(String(20))  # MeetingKind
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    community: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(120))
    venue: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    themes: Mapped[list[Any]] = mapped_column(default=list)
    audience: Mapped[str] = mapped_column(String(200), default="")

    organisation: Mapped[Organisation] = relationship()


class Post(Base):
    """One post × channel × language: the unit that is reviewed, published and measured."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "source_key", "channel", "language"),
        Index("ix_posts_due", "status", "due_at"),
        Index("ix_posts_channel_status", "channel", "status"),
        Index("ix_posts_updated", "updated_at"),  # the dashboard's data version (analytics.data_version)
        Index("ix_posts_published", "status", "published_at"),  # the rollup's months read from the posts
        # The dispatcher's queue, in the order it is served: only posts waiting to go out.
        Index("ix_posts_ready", text("coalesce(next_attempt_at, due_at)"), "id",
              sqlite_where=text(READY_SQL), postgresql_where=text(READY_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    source_key: Mapped[str] = mapped_column(String(300))  # rule id + meeting id / occurrence
    rule_key: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(1000))
    media: Mapped[list[Any]] = mapped_column(default=list)  # [{"path", "alt_text", "card"...}]
    content_hash: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # PostStatus
    approval_required: Mapped[bool] = mapped_column(default=False)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)  # attempt rows so far (numbers never repeat)
    attempt_budget_from: Mapped[int] = mapped_column(default=0, server_default="0")  # retry by hand: budget anew
    rate_limited_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_reconcile: Mapped[bool] = mapped_column(default=False)
    # Since when the post may exist on its channel's platform (an attempt that may have reached it and
    # is not settled): every later send reconciles back to here, whatever the attempt budget says.
    may_exist_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle: Mapped[dict[str, Any]] = mapped_column(default=dict)  # intermediate ids (container, rkey)
    remote_id: Mapped[str | None] = mapped_column(String(300))
    remote_url: Mapped[str | None] = mapped_column(String(1000))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The prepared files the published post uploaded: [{"sha256", "bytes", "mime_type", "file", "path", ...}]
    # (written with `published`; the archive copies exactly these bytes).
    published_media: Mapped[list[Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    campaign: Mapped[Campaign | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()


class PublishAttempt(Base):
    """Audit log: one row per try to publish a post, written before the network call."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # started|published|reconciled|retry|failed|lost_lease|manual_due
    error_kind: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    remote_id: Mapped[str | None] = mapped_column(String(300))


class Approval(Base):
    """Who approved or rejected which language variant, when and why."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))  # approved|rejected|revoked
    reviewer: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))  # what exactly was approved
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class ChannelState(Base):
    """Per-channel bookkeeping: rate-limit blocks, token expiry, last check."""

    __tablename__ = "channel_state"

    channel: Mapped[str] = mapped_column(String(120), primary_key=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(20))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    account_id: Mapped[str | None] = mapped_column(String(200))
    account_name: Mapped[str | None] = mapped_column(String(300))


class MetricColumns:
    """The one metric vocabulary (outreach.domain.METRIC_NAMES), shared by snapshots and their rollup."""

    views: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    watch_time_s: Mapped[int | None] = mapped_column(BigInteger)  # total seconds watched (video), summable


class EngagementSnapshot(MetricColumns, Base):
    """Append-only: one row per metrics fetch of one post. Never updated, never pruned."""

    __tablename__ = "engagement_snapshots"
    __table_args__ = (Index("ix_engagement_post_time", "post_id", "captured_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    captured_at: Mapped[int] = mapped_column(BigInteger)  # epoch seconds UTC
    youth_reach: Mapped[int | None] = mapped_column(BigInteger)  # only when the platform measures it
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # platform's own names and values
    api_version: Mapped[str | None] = mapped_column(String(32))  # e.g. "v25.0" (Graph), "v1" (Mastodon)
    definition: Mapped[str | None] = mapped_column(String(40))  # definitions.csv set: "instagram@2025-04-21"


class PostMetricsLatest(MetricColumns, Base):
    """Rollup: the latest snapshot's values per post, so dashboards do not scan history."""

    __tablename__ = "post_metrics_latest"
    # the top posts by reach, walked from the largest (analytics.top_posts)
    __table_args__ = (Index("ix_post_metrics_latest_reach", "reach"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    captured_at: Mapped[int] = mapped_column(BigInteger)
    snapshots: Mapped[int] = mapped_column(default=1)
    youth_reach: Mapped[int | None] = mapped_column(BigInteger)
    next_harvest_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    gone_at: Mapped[int | None] = mapped_column(BigInteger)  # epoch the platform first said "no such post"


class AudienceSnapshot(Base):
    """Append-only account-level audience breakdown rows (age bucket, gender) per channel."""

    __tablename__ = "audience_snapshots"
    __table_args__ = (Index("ix_audience_channel_time", "channel", "captured_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(120))
    captured_at: Mapped[int] = mapped_column(BigInteger)
    metric: Mapped[str] = mapped_column(String(60))  # follower_demographics | engaged_audience_demographics
    timeframe: Mapped[str | None] = mapped_column(String(30))
    age_bucket: Mapped[str | None] = mapped_column(String(20))
    gender: Mapped[str | None] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)


class PostYouthEstimate(Base):
    """Estimated youth reach per post: reach × the channel's youth share at the audience snapshot
    nearest the post's publication (metric and capture time kept, so every figure shows its source)."""

    __tablename__ = "post_youth_estimates"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    share: Mapped[float] = mapped_column(Float)  # young people / everyone, 0..1
    estimated: Mapped[int | None] = mapped_column(BigInteger)  # round(latest reach × share)
    source_metric: Mapped[str] = mapped_column(String(60))  # follower_demographics | ...
    source_captured_at: Mapped[int] = mapped_column(BigInteger)  # epoch of the audience snapshot
    young: Mapped[str] = mapped_column(String(20))  # the age range used, e.g. "13-24"


class PostMonthRollup(Base):
    """Published posts summed per month of publication (UTC, "2027-03"; "" for a published post without a
    time) and per what the dashboard groups and filters by: campaign, organisation, community, city,
    platform, channel, language. One row per group; the sums are `outreach.rollup.MEASURES`, built from the
    posts with their latest metrics and youth estimates by the same query that reads the posts directly.
    Months named in `post_rollup_changes` are stale: readers take them from the posts until a refresh."""

    __tablename__ = "post_month_rollup"
    __table_args__ = (Index("ix_post_month_rollup_month", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    community: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(16))
    posts: Mapped[int] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    reach_n: Mapped[int] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    views_n: Mapped[int] = mapped_column(BigInteger)
    engagement: Mapped[int | None] = mapped_column(BigInteger)
    youth_measured: Mapped[int | None] = mapped_column(BigInteger)
    youth_measured_n: Mapped[int] = mapped_column(BigInteger)
    youth_estimated: Mapped[int | None] = mapped_column(BigInteger)
    youth_estimated_n: Mapped[int] = mapped_column(BigInteger)
    watch_time_s: Mapped[int | None] = mapped_column(BigInteger)
    watch_time_n: Mapped[int] = mapped_column(BigInteger)
    engagement_reached: Mapped[int | None] = mapped_column(BigInteger)  # interactions of posts that report reach
    aged_n: Mapped[int] = mapped_column(BigInteger)  # posts with reach and a youth figure (measured or estimated)
    aged_youth: Mapped[int | None] = mapped_column(BigInteger)
    aged_reach: Mapped[int | None] = mapped_column(BigInteger)
    first_published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_published: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PostRollupChange(Base):
    """Append-only: a month whose rollup rows a write made stale, written by database triggers on posts,
    their latest metrics and youth estimates, and meetings (every writer, the CLI's and raw SQL's too).
    Only inserted, so writers never wait on each other; `outreach.rollup.refresh` rebuilds the months it
    reads here and deletes exactly the rows it read."""

    __tablename__ = "post_rollup_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))


class HarvestChannel(Base):
    """Harvest bookkeeping per channel: when a rate limit lets us resume, last passes, last error."""

    __tablename__ = "harvest_channels"

    channel: Mapped[str] = mapped_column(String(120), primary_key=True)
    resume_at: Mapped[int | None] = mapped_column(BigInteger)  # epoch; no metrics calls before it
    last_pass_at: Mapped[int | None] = mapped_column(BigInteger)
    last_audience_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(20))
    last_error_since: Mapped[int | None] = mapped_column(BigInteger)  # epoch of the first failure in a row


class MeetingOutcome(Base):
    """Offline evidence for one meeting: attendance by age group and by gender, evaluation, notes.
    Aggregates only: never names or other identities of attendees."""

    __tablename__ = "meeting_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    age_under_18: Mapped[int] = mapped_column(Integer, default=0)
    age_18_24: Mapped[int] = mapped_column(Integer, default=0)
    age_25_34: Mapped[int] = mapped_column(Integer, default=0)
    age_35_plus: Mapped[int] = mapped_column(Integer, default=0)
    age_unknown: Mapped[int] = mapped_column(Integer, default=0)
    gender_woman: Mapped[int] = mapped_column(Integer, default=0)
    gender_man: Mapped[int] = mapped_column(Integer, default=0)
    gender_other: Mapped[int] = mapped_column(Integer, default=0)
    gender_unknown: Mapped[int] = mapped_column(Integer, default=0)
    evaluation: Mapped[float | None] = mapped_column(Float)  # mean evaluation score, 1..10
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(500), default="dashboard")  # csv path or "dashboard"
    source_line: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class WorkerHeartbeat(Base):
    """One row per worker process: a monitor sees a dead worker by its `last_seen`."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_s: Mapped[float] = mapped_column(Float)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # clean shutdown


class Alert(Base):
    """An incident that needs a person, notified once (`key` is unique per incident)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # e.g. "post-failed:42", "auth:peer-mastodon"
    kind: Mapped[str] = mapped_column(String(40))  # AlertKind
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_error: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
