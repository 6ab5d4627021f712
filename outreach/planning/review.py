"""Review and operator actions on posts: approve, reject, retry, cancel, confirm a manual post.

Used by the CLI and the dashboard alike; every status change goes through `lifecycle.transition`
and every review decision leaves an `Approval` row (who, when, why, and exactly which content).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import lifecycle
from outreach.db import Database
from outreach.db.models import Approval, Campaign, ChannelState, EngagementSnapshot, Post, PostMetricsLatest
from outreach.domain import PostStatus
from outreach.errors import UsageError


class ReviewError(UsageError):
    """A review action that cannot be done as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class PostSelector:
    """Which posts an action applies to: explicit ids, or every post of a campaign/language/channel."""

    ids: Sequence[int] = ()
    campaign: str | None = None
    language: str | None = None
    channel: str | None = None

    def is_empty(self) -> bool:
        return not (self.ids or self.campaign or self.language or self.channel)


@dataclass(frozen=True, slots=True)
class ActionResult:
    post_id: int
    channel: str
    language: str
    before: str
    after: str

    def line(self) -> str:
        return f"post {self.post_id} · {self.channel} · {self.language} · {self.before} → {self.after}"


def _select(s: Session, selector: PostSelector, statuses: Sequence[PostStatus]) -> list[Post]:
    if selector.is_empty():
        raise ReviewError("name post ids, or select posts with --campaign/--language/--channel")
    query = select(Post).where(Post.status.in_([st.value for st in statuses])).order_by(Post.id)
    if selector.ids:
        query = query.where(Post.id.in_(list(selector.ids)))
    if selector.campaign:
        query = query.join(Campaign, Post.campaign_id == Campaign.id).where(Campaign.slug == selector.campaign)
    if selector.language:
        query = query.where(Post.language == selector.language)
    if selector.channel:
        query = query.where(Post.channel == selector.channel)
    posts = list(s.scalars(query))
    if selector.ids:
        found = {p.id for p in posts}
        missing = [i for i in selector.ids if i not in found]
        if missing:
            existing = {p.id: p.status for p in s.scalars(select(Post).where(Post.id.in_(missing)))}
            problems = [f"post {i}: {'does not exist' if i not in existing else 'is ' + existing[i]}"
                        for i in missing]
            allowed = ", ".join(st.value for st in statuses)
            raise ReviewError("; ".join(problems) + f" (this action applies to: {allowed})")
    return posts


def _apply(db: Database, selector: PostSelector, statuses: Sequence[PostStatus], target: PostStatus,
           *, decision: str | None = None, reviewer: str = "", reason: str = "",
           now: datetime | None = None) -> list[ActionResult]:
    now = now or datetime.now(UTC)
    results = []
    with db.write() as s:
        for post in _select(s, selector, statuses):
            before = lifecycle.transition(post, target)
            if decision:
                s.add(Approval(post_id=post.id, decision=decision, reviewer=reviewer, reason=reason,
                               content_hash=post.content_hash, decided_at=now))
            if target in (PostStatus.APPROVED, PostStatus.CANCELLED):
                post.next_attempt_at = None
            results.append(ActionResult(post.id, post.channel, post.language, before.value, target.value))
    return results


def approve(db: Database, selector: PostSelector, *, reviewer: str, reason: str = "",
            now: datetime | None = None) -> list[ActionResult]:
    """Approve pending language variants; they will be published at their due time."""
    if not reviewer.strip():
        raise ReviewError("a reviewer name is required")
    return _apply(db, selector, [PostStatus.PENDING_REVIEW], PostStatus.APPROVED, decision="approved",
                  reviewer=reviewer, reason=reason, now=now)


def reject(db: Database, selector: PostSelector, *, reviewer: str, reason: str,
           now: datetime | None = None) -> list[ActionResult]:
    """Reject pending (or approved, not yet published) variants, with a reason for the volunteer."""
    if not reviewer.strip():
        raise ReviewError("a reviewer name is required")
    if not reason.strip():
        raise ReviewError("a reason is required when rejecting, so the volunteer knows what to change")
    results = _apply(db, selector, [PostStatus.PENDING_REVIEW, PostStatus.APPROVED], PostStatus.REJECTED,
                     decision="rejected", reviewer=reviewer, reason=reason, now=now)
    return results


def retry(db: Database, selector: PostSelector, *, now: datetime | None = None) -> list[ActionResult]:
    """Send failed posts back to the queue with a fresh attempt budget; clears a channel's auth hold."""
    now = now or datetime.now(UTC)
    results = []
    with db.write() as s:
        for post in _select(s, selector, [PostStatus.FAILED, PostStatus.RETRYING]):
            before = lifecycle.transition(post, PostStatus.APPROVED)
            post.attempts = post.rate_limited_count = 0
            post.next_attempt_at = None
            state = s.get(ChannelState, post.channel)
            if state is not None and state.last_error_kind == "auth":
                state.last_error_kind = None
            results.append(ActionResult(post.id, post.channel, post.language, before.value, "approved"))
    return results


def cancel(db: Database, selector: PostSelector, *, now: datetime | None = None) -> list[ActionResult]:
    """Cancel posts that have not gone out."""
    statuses = [PostStatus.DRAFT, PostStatus.PENDING_REVIEW, PostStatus.APPROVED, PostStatus.REJECTED,
                PostStatus.RETRYING, PostStatus.FAILED, PostStatus.MANUAL_DUE]
    return _apply(db, selector, statuses, PostStatus.CANCELLED, now=now)


def confirm_manual(db: Database, post_id: int, *, permalink: str, confirmed_by: str,
                   reach: int | None = None, now: datetime | None = None) -> ActionResult:
    """A volunteer posted a `manual_due` post by hand: record where, by whom, and any reach figure."""
    now = now or datetime.now(UTC)
    if not permalink.strip():
        raise ReviewError("a permalink (or screenshot path) is required to confirm a manual post")
    with db.write() as s:
        post = s.get(Post, post_id)
        if post is None:
            raise ReviewError(f"post {post_id} does not exist")
        if post.status != PostStatus.MANUAL_DUE.value:
            raise ReviewError(f"post {post_id} is {post.status}, not manual_due")
        before = lifecycle.transition(post, PostStatus.PUBLISHED)
        post.remote_url = permalink
        post.remote_id = permalink
        post.published_at = now
        s.add(Approval(post_id=post.id, decision="confirmed", reviewer=confirmed_by,
                       reason="posted by hand", content_hash=post.content_hash, decided_at=now))
        if reach is not None:
            epoch = int(now.timestamp())
            s.add(EngagementSnapshot(post_id=post.id, captured_at=epoch, reach=reach,
                                     raw={"entered_by_hand": True, "by": confirmed_by}))
            s.merge(PostMetricsLatest(post_id=post.id, captured_at=epoch, reach=reach, snapshots=1))
        return ActionResult(post.id, post.channel, post.language, before.value, "published")


def reschedule(db: Database, post_id: int, due_at: datetime, *, now: datetime | None = None) -> ActionResult:
    """Move an unpublished post to a new time (aware datetime). A failed or retrying post goes back
    to the queue at that time with a fresh attempt budget. A post that came from a campaign file gets
    the file's time back when the file is loaded again: change the file to move it for good."""
    now = now or datetime.now(UTC)
    if due_at.tzinfo is None:
        raise ReviewError("the new time needs a time zone")
    movable = (PostStatus.DRAFT, PostStatus.PENDING_REVIEW, PostStatus.APPROVED, PostStatus.REJECTED,
               PostStatus.RETRYING, PostStatus.FAILED)
    with db.write() as s:
        post = s.get(Post, post_id)
        if post is None:
            raise ReviewError(f"post {post_id} does not exist")
        if PostStatus(post.status) not in movable:
            raise ReviewError(f"post {post_id} is {post.status}; only posts not yet out can be moved")
        before = post.status
        if post.status in (PostStatus.FAILED.value, PostStatus.RETRYING.value):
            lifecycle.transition(post, PostStatus.APPROVED)
            post.attempts = post.rate_limited_count = 0
        post.due_at = due_at
        post.next_attempt_at = None
        return ActionResult(post.id, post.channel, post.language, before, f"{post.status} at {due_at.isoformat()}")
