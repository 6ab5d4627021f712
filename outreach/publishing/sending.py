"""Sending, the platform side of publishing: one claimed post at a time — reconcile first when an
earlier try may have reached the platform, then publish — checked against the lease before every
send, and every answer or error turned into a `Result` (published, retry at T, failed) in one place.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from outreach.archive.captures import WarcRecorder, capture_dir
from outreach.config import ConfigError, MissingSecret, Settings
from outreach.connectors import Connector, ConnectorError, RateLimited, TransientError, connector_class
from outreach.connectors.errors import AuthError, NeedsPerson
from outreach.db import Database
from outreach.db.models import Campaign, Meeting
from outreach.db.models import Post as PostRow
from outreach.domain import ErrorKind, MediaItem, PostStatus, PublishRequest, PublishResult
from outreach.publishing.leases import Leases
from outreach.publishing.media import uploaded_files
from outreach.publishing.results import Claim, Clock, ConnectorFactory, MediaResolver, Outcome, Result, utcnow
from outreach.publishing.resume import Resume, ResumeFiles
from outreach.publishing.retry import RetryPolicy
from outreach.publishing.statements import FENCED
from outreach.redact import strip_url_queries

log = logging.getLogger("outreach.publishing")

class TooLate(ConnectorError):
    """Not sent: the post announces a meeting that has begun (`SendSteps._too_late`)."""

    kind = ErrorKind.TOO_LATE


class SendSteps:
    """Sending one claimed post; the `Dispatcher` sets these attributes."""

    db: Database
    clock: Clock
    lease: timedelta
    leases: Leases
    request_s: float  # the worst case of one request (leases.worst_request_s)
    retry: RetryPolicy
    media: MediaResolver
    connectors: ConnectorFactory
    resume: ResumeFiles  # capabilities of interrupted uploads, on this machine only

    def send_one(self, claim: Claim) -> Result | None:
        """Send one claimed post — asking the platform first when an earlier try may have reached it —
        and say what came of it; None, sending nothing, when its lease would not outlast a request
        (it ran out, or another worker has it now). Nothing is written here but intermediate handles."""
        if not self._may_send(claim):
            return None
        result = self._reconcile_then_publish(claim)
        if result is None:
            return None
        if result.target is not PostStatus.RETRYING:  # the publish ended: no upload to resume
            self.resume.discard(claim.post_id)
        blocked = self._connector_block(claim.channel)  # the platform's headers say the quota is spent
        if blocked is not None:
            result.block_until = max(blocked, result.block_until or blocked)
        return result

    def _reconcile_then_publish(self, claim: Claim) -> Result | None:
        channel = claim.channel
        media: tuple[MediaItem, ...] = ()
        if claim.has_media:
            try:
                with self.db.session() as s:
                    post = s.get(PostRow, claim.post_id)
                    assert post is not None
                    media = self.media(post, claim.platform)
            except Exception as exc:  # a broken image is this post's problem, not the worker's
                return self._failure(claim, ConnectorError(channel, f"media: {exc}"), permanent=True)
        # The claim's handle gets this machine's capabilities back, if it has the post's resume file.
        resume = self.resume.attempt(claim.post_id, claim.lease_token, claim.handle)
        req = PublishRequest(post_id=claim.post_id, text=claim.text, language=claim.language,
                             idempotency_key=claim.idempotency_key, media=media, link=claim.link,
                             handle=dict(resume.handle), attempt_started_at=claim.first_attempt_at)
        try:
            connector = self.connectors(channel)
        except MissingSecret as exc:
            return self._failure(claim, AuthError(channel, exc.detail), permanent=True, hold_channel=True)
        except ConfigError as exc:  # unknown channel or platform: fix the config (nothing was sent)
            return self._failure(claim, ConnectorError(channel, f"configuration: {exc}"), permanent=True)
        sending = False  # from the call to `connector.publish` on, the platform may have the post, whatever fails
        try:
            if claim.needs_reconcile:
                found = connector.reconcile(req)
                if found is not None:
                    return self._published(claim, found, reconciled=True, media=media)
                if not self._may_send(claim):  # the look-back took what the lease had left
                    return None
            late = self._too_late(claim)
            if late is not None:  # nothing was sent; a person decides (publish by hand, or cancel)
                return self._failure(claim, TooLate(channel, late), permanent=True)
            sending = True
            return self._published(claim, connector.publish(req, save_handle=lambda h: self._save_handle(claim, h, resume)),
                                   reconciled=False, media=media)
        except Exception as exc:
            result = self._result_of_error(claim, exc)
            if sending:  # a failed read after the write (a permalink, a status poll) is no proof of absence
                result.post["may_exist_since"] = claim.may_exist_since or claim.claimed_at or self.clock()
                if result.target is not PostStatus.MANUAL_DUE:  # a person was told and checks it themselves
                    result.post["needs_reconcile"] = True
            return result

    def _too_late(self, claim: Claim) -> str | None:
        """Why this post must not go out now, if it announces a meeting that has begun: due before the
        start, claimed after it (a worker down for a day, a long rate limit, a retry by hand)."""
        if claim.meeting_id is None:
            return None
        with self.db.session() as s:
            row = s.execute(select(Meeting.starts_at, Campaign.timezone).join(PostRow, PostRow.meeting_id == Meeting.id)
                            .join(Campaign, Campaign.id == Meeting.campaign_id)
                            .where(PostRow.id == claim.post_id, PostRow.due_at < Meeting.starts_at)).first()
        if row is None or self.clock() < row.starts_at:
            return None
        began = row.starts_at.astimezone(ZoneInfo(row.timezone))
        return (f"not sent: the meeting it is about began at {began:%Y-%m-%d %H:%M} ({row.timezone}), and an "
                "announcement after the start would mislead; publish it by hand if it still matters, or cancel it")

    def _result_of_error(self, claim: Claim, exc: Exception) -> Result:
        """What an error from the platform (or from reading its answer) means for this attempt."""
        channel = claim.channel
        if isinstance(exc, RateLimited):
            return self._rate_limited(claim, exc)
        if isinstance(exc, AuthError):
            return self._failure(claim, exc, permanent=True, hold_channel=True)
        if isinstance(exc, MissingSecret):
            return self._failure(claim, AuthError(channel, exc.detail), permanent=True, hold_channel=True)
        if isinstance(exc, ConfigError):
            return self._failure(claim, ConnectorError(channel, f"configuration: {exc}"), permanent=True)
        if isinstance(exc, (KeyError, ValueError, TypeError)):  # an answer we cannot read: it may have acted
            err = TransientError(channel, strip_url_queries(f"unreadable answer from the platform ({type(exc).__name__}: "
                                 f"{exc}); will check whether the post exists"), ambiguous=True)
            return self._failure(claim, err, permanent=False, ambiguous=True)
        if isinstance(exc, TransientError):
            return self._failure(claim, exc, permanent=False, ambiguous=exc.ambiguous)
        if isinstance(exc, NeedsPerson):
            return self._handed_over(claim, exc)
        if isinstance(exc, ConnectorError):
            return self._failure(claim, exc, permanent=True)
        log.error("post %s to %s: unexpected error", claim.post_id, channel, exc_info=exc)  # a bug
        err = TransientError(channel, strip_url_queries(f"unexpected error: {type(exc).__name__}: {exc}"), ambiguous=True)
        return self._failure(claim, err, permanent=False, ambiguous=True)

    def _may_send(self, claim: Claim) -> bool:
        """Will this claim's lease outlast one more request (worst case)?"""
        if self.leases.can_send(claim.lease_token, self.request_s):
            return True
        log.info("post %s to %s: lease too short to send; given back unsent", claim.post_id, claim.channel)
        return False

    def _save_handle(self, claim: Claim, handle: dict[str, Any], resume: Resume | None = None) -> None:
        """Persist an intermediate handle now (before the connector's next call) and extend the lease:
        one statement fenced by the lease token, its row count checked (the claim holds the handle
        as read at the claim; only the lease holder writes it). Capabilities (upload URLs) go to this
        machine's resume file, never to the database."""
        merged = claim.handle if claim.handle is not None else {}
        merged.update(handle)
        if resume is None:
            resume = self.resume.attempt(claim.post_id, claim.lease_token, None)
        until = self.clock() + self.lease
        with self.db.write_connection() as conn:
            rows = conn.execute(FENCED, {"b_post": claim.post_id, "b_token": claim.lease_token,
                                         "handle": resume.public(merged), "lease_until": until}).rowcount
        if rows != 1:
            resume.abandon()
            raise TransientError(claim.channel, "lease lost to another worker; stopping this attempt")
        self.leases.extended(claim.lease_token, until)

    def _connector_block(self, channel: str) -> datetime | None:
        """Until when this channel's connector knows it must not be called (None: it may be)."""
        try:
            blocked = getattr(self.connectors(channel), "blocked_until", None)
        except Exception:  # an unknown channel fails when its post is sent, with the reason
            return None
        return blocked if blocked is not None and blocked > self.clock() else None

    def _attempt_row(self, outcome: str, *, error: ConnectorError | None = None, message: str | None = None,
                     remote_id: str | None = None) -> dict[str, Any]:
        """The attempt's columns: always the same keys, so a batch is written in one statement."""
        return {"outcome": outcome, "finished_at": self.clock(), "remote_id": remote_id,
                "error_kind": error.kind.value if error else None,
                "message": error.message if error else message,
                "http_status": error.http_status if error else None}

    def _published(self, claim: Claim, result: PublishResult, *, reconciled: bool,
                   media: tuple[MediaItem, ...] = ()) -> Result:
        detail = result.url or result.remote_id
        return Result(
            claim, PostStatus.PUBLISHED,
            post={"remote_id": result.remote_id, "remote_url": result.url,
                  "published_at": result.published_at or self.clock(), "needs_reconcile": False,
                  "published_media": _uploaded(media),
                  "may_exist_since": None,
                  "next_attempt_at": None, "last_error": None, "error_kind": None},
            attempt=self._attempt_row(
                "reconciled" if reconciled else "published", remote_id=result.remote_id,
                message="found on the platform after an interrupted attempt" if reconciled else None),
            outcome=Outcome(claim.post_id, claim.channel, claim.language, "published",
                            f"{detail} (reconciled)" if reconciled else detail),
            lost=f"published as {result.remote_id}", permalink=result.url)

    def _rate_limited(self, claim: Claim, exc: RateLimited) -> Result:
        now = self.clock()
        resume = exc.resume_at(now)
        return Result(
            claim, PostStatus.RETRYING,
            post={"rate_limited_count": claim.rate_limited_count + 1, "next_attempt_at": resume,
                  "may_exist_since": claim.may_exist_since,
                  "last_error": exc.message, "error_kind": exc.kind.value},
            attempt=self._attempt_row("retry", error=exc),
            outcome=Outcome(claim.post_id, claim.channel, claim.language, "retrying",
                            f"rate limited; next try {resume.isoformat(timespec='seconds')}"),
            lost="rate limited", block_until=resume)

    def _failure(self, claim: Claim, exc: ConnectorError, *, permanent: bool, ambiguous: bool = False,
                 hold_channel: bool = False) -> Result:
        now = self.clock()
        tries = claim.attempt_number - claim.attempt_budget_from - claim.rate_limited_count
        # The platform may have acted, or holds part of the post (a container, an upload): the post
        # stays marked so (since this claim, or earlier).
        may_exist = claim.may_exist_since
        if ambiguous or claim.handle:
            may_exist = may_exist or claim.claimed_at or now
        post = {"needs_reconcile": claim.needs_reconcile or ambiguous, "last_error": exc.message,
                "error_kind": exc.kind.value, "may_exist_since": may_exist}
        if permanent or self.retry.exhausted(tries):
            target, status, next_at = PostStatus.FAILED, "failed", None
            detail = exc.message if permanent else f"gave up after {tries} attempts: {exc.message}"
        else:
            target, status = PostStatus.RETRYING, "retrying"
            next_at = now + timedelta(seconds=self.retry.delay_s(tries))
            detail = f"{exc.message}; next try {next_at.isoformat(timespec='seconds')}"
        hold = ({"last_error": exc.message, "last_error_kind": exc.kind.value, "last_error_at": now}
                if hold_channel else None)
        return Result(claim, target, post={**post, "next_attempt_at": next_at},
                      attempt=self._attempt_row(status if status == "failed" else "retry", error=exc),
                      outcome=Outcome(claim.post_id, claim.channel, claim.language, status, detail),
                      lost=exc.message, hold=hold)

    def _handed_over(self, claim: Claim, exc: NeedsPerson) -> Result:
        """A person must finish or check the post (TikTok's inbox): `manual_due` with the connector's
        words, never sent again; `outreach confirm` records where it appeared."""
        return Result(claim, PostStatus.MANUAL_DUE,
                      post={"needs_reconcile": False, "next_attempt_at": None, "last_error": exc.message,
                            "error_kind": None},
                      attempt=self._attempt_row("manual_due", message=exc.message),
                      outcome=Outcome(claim.post_id, claim.channel, claim.language, "manual_due", exc.message),
                      lost=exc.message)

    def _manual(self, claim: Claim) -> Result:
        return Result(claim, None, {}, {}, Outcome(claim.post_id, claim.channel, claim.language, "manual_due",
                                                   "to post by hand; confirm with `outreach confirm`"))


def _uploaded(media: tuple[MediaItem, ...]) -> list[dict[str, Any]] | None:
    """What the post uploaded, for the archive; a file gone already is noted, never a reason to fail."""
    try:
        return uploaded_files(media)
    except OSError as exc:
        log.warning("published media could not be recorded: %s", exc)
        return None


class ConnectorCache:
    """Builds one connector per channel and keeps it (sessions, limits and rate-limit state persist).
    With a `recorder`, every exchange with a platform is kept as WARC evidence (secrets removed)."""

    def __init__(self, settings: Settings, *, clock: Clock = utcnow, credentials: Any = None,
                 recorder: WarcRecorder | None = None) -> None:
        from outreach.credentials import FileCredentialStore

        self.settings = settings
        self.clock = clock
        self.credentials = credentials or FileCredentialStore(f"{settings.state_dir}/credentials")
        self.recorder = recorder
        self._cache: dict[str, Connector] = {}

    def __call__(self, channel: str) -> Connector:
        if channel not in self._cache:
            config = self.settings.channel(channel)
            cls = connector_class(config.platform)
            # `poll_interval_s` (channel option): the pause between status checks of one publish
            # (containers, processing); unset, the connector's own default.
            connector = cls(config, timeout_s=self.settings.worker.http_timeout_s, clock=self.clock,
                            credentials=self.credentials, on_exchange=self.recorder,
                            poll_interval_s=config.options.get("poll_interval_s"))
            if self.recorder is not None:
                self.recorder.add_secrets(connector.secret_strings())
            self._cache[channel] = connector
        return self._cache[channel]


def recorder_for(settings: Settings) -> WarcRecorder | None:
    """The WARC recorder real runs use (`[archive] capture = false` turns captures off)."""
    archive = settings.raw.get("archive", {})
    if isinstance(archive, dict) and archive.get("capture", True) is False:
        return None
    return WarcRecorder(capture_dir(settings), secrets=settings.secret_values(), background=True,
                        max_wait_s=30.0)

