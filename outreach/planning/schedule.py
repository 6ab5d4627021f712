"""Loading a plan into the database: an idempotent upsert in one transaction, with a report of changes.

Published and publishing posts are never touched. Unpublished posts follow the file: changed ones
are updated (approved content that changed goes back to review), removed ones are cancelled.
Running it twice on the same plan changes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import lifecycle
from outreach.db.engine import Database
from outreach.db.models import Campaign, Meeting, Organisation, Post
from outreach.domain import PostStatus as S
from outreach.planning.plan import Plan, PlannedMeeting, PlannedPost

DASHBOARD_RULE_PREFIX = "dashboard:"  # rule_key of posts made in the dashboard planner
REMOVED = "removed from the campaign file"  # last_error of posts cancelled because their rule went away


class Action(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    REVIEW_AGAIN = "needs review again"
    CANCELLED = "cancelled"
    UNCHANGED = "unchanged"
    KEPT = "kept"  # the file changed but the post may not (published, publishing, reconciling)
    SKIPPED = "skipped"  # a new post whose time has already passed


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    source_key: str
    channel: str
    language: str
    post_id: int | None = None
    detail: str = ""

    def line(self) -> str:
        post = f"post {self.post_id}" if self.post_id is not None else "post"
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.action.value}{detail} · {post} · {self.source_key} · {self.channel} · {self.language}"


@dataclass
class ScheduleReport:
    """What `schedule_campaign` did: one Change per post plus meeting/organisation counts."""

    campaign: str
    changes: list[Change] = field(default_factory=list)
    meetings: Counter[str] = field(default_factory=Counter)  # "new" / "updated" / "unchanged"
    organisations: Counter[str] = field(default_factory=Counter)

    def counts(self) -> Counter[str]:
        return Counter(c.action.value for c in self.changes)

    @property
    def changed(self) -> bool:
        """True when anything was written."""
        writes = {Action.NEW, Action.UPDATED, Action.REVIEW_AGAIN, Action.CANCELLED}
        return (any(c.action in writes for c in self.changes) or bool(self.meetings["new"] + self.meetings["updated"])
                or bool(self.organisations["new"] + self.organisations["updated"]))

    def summary(self) -> str:
        counts = self.counts()
        order = [a.value for a in Action]
        parts = [f"{counts[a]} {a}" for a in order if counts[a]] or ["no posts"]
        meetings = ", ".join(f"{n} {k}" for k, n in sorted(self.meetings.items()) if n)
        return f"campaign {self.campaign}: " + ", ".join(parts) + (f"; meetings: {meetings}" if meetings else "")

    def lines(self, *, include_unchanged: bool = False) -> list[str]:
        return [c.line() for c in self.changes if include_unchanged or c.action is not Action.UNCHANGED]


def schedule_campaign(db: Database, plan: Plan, *, now: datetime, include_past: bool = False) -> ScheduleReport:
    """Upsert the plan's organisations, meetings and posts in ONE transaction (all or nothing).

    New posts due before `now` are skipped unless `include_past` (an announcement for a meeting
    that already happened should not go out late). `now` also stamps created/updated times.
    """
    report = ScheduleReport(campaign=plan.campaign.slug)
    with db.write() as session:
        loader = Loader(session, plan, report, now=now, include_past=include_past)
        loader.run()
    return report


def _assign(obj: Any, **values: Any) -> list[str]:
    """Set only the attributes whose value differs; returns their names (so no-ops write nothing)."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


class Loader:
    def __init__(self, session: Session, plan: Plan, report: ScheduleReport, *, now: datetime,
                 include_past: bool) -> None:
        self.s, self.plan, self.report, self.now, self.include_past = session, plan, report, now, include_past

    def run(self) -> None:
        campaign = self.campaign()
        orgs = self.organisations()
        meetings = {m.key: self.meeting(campaign, m, orgs) for m in self.plan.meetings}
        self.s.flush()
        # Posts written in the dashboard planner belong to the campaign but not to its file.
        existing = {(p.source_key, p.channel, p.language): p
                    for p in self.s.scalars(select(Post).where(Post.campaign_id == campaign.id,
                                                               Post.rule_key.not_like(f"{DASHBOARD_RULE_PREFIX}%")))}
        for planned in self.plan.posts:
            meeting_id = meetings[planned.meeting_key].id if planned.meeting_key else None
            post = existing.pop(planned.key, None)
            if post is None:
                self.insert(campaign, planned, meeting_id)
            else:
                self.update(post, planned, meeting_id)
        for post in sorted(existing.values(), key=lambda p: p.id):
            self.remove(post)
        if self.report.changed:
            campaign.loaded_at = self.now
        self.s.flush()

    # -- campaign, organisations, meetings ---------------------------------------------------

    def campaign(self) -> Campaign:
        info = self.plan.campaign
        row = self.s.scalar(select(Campaign).where(Campaign.slug == info.slug))
        if row is None:
            row = Campaign(slug=info.slug, loaded_at=self.now)
            self.s.add(row)
        _assign(row, name=info.name, timezone=info.timezone, source_file=info.source_file,
                source_hash=info.source_hash)
        self.s.flush()
        return row

    def organisations(self) -> dict[str, Organisation]:
        rows = {}
        for code, name in self.plan.campaign.organisations.items():
            row = self.s.scalar(select(Organisation).where(Organisation.code == code))
            if row is None:
                row = Organisation(code=code, name=name)
                self.s.add(row)
                self.report.organisations["new"] += 1
            elif _assign(row, name=name):
                self.report.organisations["updated"] += 1
            rows[code] = row
        self.s.flush()
        return rows

    def meeting(self, campaign: Campaign, m: PlannedMeeting, orgs: dict[str, Organisation]) -> Meeting:
        row = self.s.scalar(select(Meeting).where(Meeting.campaign_id == campaign.id, Meeting.key == m.key))
        values = dict(kind=m.kind, organisation_id=orgs[m.organisation].id, community=m.community, city=m.city,
                      venue=m.venue, starts_at=m.starts_at, ends_at=m.ends_at, languages=list(m.languages),
                      themes=list(m.themes), audience=m.audience)
        if row is None:
            row = Meeting(campaign_id=campaign.id, key=m.key, **values)
            self.s.add(row)
            self.report.meetings["new"] += 1
        else:
            self.report.meetings["updated" if _assign(row, **values) else "unchanged"] += 1
        return row

    # -- posts --------------------------------------------------------------------------------

    def note(self, action: Action, planned: PlannedPost | Post, post: Post | None, detail: str = "") -> None:
        self.report.changes.append(Change(action, planned.source_key, planned.channel, planned.language,
                                          post.id if post is not None else None, detail))

    def insert(self, campaign: Campaign, planned: PlannedPost, meeting_id: int | None) -> None:
        if planned.due_at < self.now and not self.include_past:
            self.note(Action.SKIPPED, planned, None, f"due {planned.due_at:%Y-%m-%d %H:%M} UTC has passed")
            return
        status = S.PENDING_REVIEW if planned.approval_required else S.APPROVED
        post = Post(campaign_id=campaign.id, meeting_id=meeting_id, source_key=planned.source_key,
                    rule_key=planned.rule_key, channel=planned.channel, platform=str(planned.platform),
                    language=planned.language, text=planned.text, link=planned.link, media=planned.media,
                    content_hash=planned.content_hash, due_at=planned.due_at, status=status.value,
                    approval_required=planned.approval_required, idempotency_key=uuid.uuid4().hex,
                    created_at=self.now, updated_at=self.now)
        self.s.add(post)
        self.s.flush()
        self.note(Action.NEW, planned, post, status.value)

    def update(self, post: Post, planned: PlannedPost, meeting_id: int | None) -> None:
        status = S(post.status)
        values = dict(text=planned.text, link=planned.link, media=planned.media,
                      content_hash=planned.content_hash, due_at=planned.due_at,
                      approval_required=planned.approval_required, meeting_id=meeting_id,
                      rule_key=planned.rule_key, platform=str(planned.platform))
        differs = [k for k, v in values.items() if getattr(post, k) != v]
        restore = status is S.CANCELLED and post.last_error == REMOVED
        if not differs and not restore:
            self.note(Action.UNCHANGED, planned, post)
            return
        if status in (S.PUBLISHED, S.PUBLISHING) or post.needs_reconcile:
            why = {S.PUBLISHED: "already published", S.PUBLISHING: "being published right now"}.get(
                status, "waiting to be reconciled with the platform")
            self.note(Action.KEPT, planned, post, why)
            return
        if status is S.CANCELLED and not restore:
            self.note(Action.KEPT, planned, post, "cancelled by hand")
            return
        content_changed = post.content_hash != planned.content_hash
        was_required = post.approval_required
        _assign(post, **values)
        post.updated_at = self.now
        action, detail = Action.UPDATED, ", ".join(d.replace("_", " ") for d in differs)
        target = self.status_after_edit(status, content_changed=content_changed, was_required=was_required,
                                        required=planned.approval_required, restore=restore)
        if target is not None and target is not status:
            lifecycle.transition(post, target)
            if restore:
                post.last_error = None
                detail = f"restored as {target.value}" + (f"; {detail}" if detail else "")
            elif target is S.PENDING_REVIEW:
                action = Action.REVIEW_AGAIN
                detail = f"was {status.value}; {detail}"
            else:
                detail = f"{status.value} → {target.value}; {detail}"
            if status is S.FAILED:
                # a fresh attempt budget, never a fresh "may exist" window (the next send reconciles first)
                post.attempt_budget_from = post.attempts
                post.next_attempt_at, post.last_error, post.error_kind = None, None, None
        if planned.due_at < self.now:
            detail += " (due time has passed)"
        self.note(action, planned, post, detail)

    @staticmethod
    def status_after_edit(status: S, *, content_changed: bool, was_required: bool, required: bool,
                          restore: bool) -> S | None:
        """Where an edited post goes: approved content that changed needs a reviewer again."""
        review_or_go = S.PENDING_REVIEW if required else S.APPROVED
        if restore:
            return review_or_go
        if status is S.APPROVED and required and (content_changed or not was_required):
            return S.PENDING_REVIEW
        if status is S.REJECTED and content_changed:
            return S.PENDING_REVIEW
        if status is S.FAILED and content_changed:
            return review_or_go
        if status is S.RETRYING and required and content_changed:
            return S.PENDING_REVIEW
        if status is S.PENDING_REVIEW and not required:
            return S.APPROVED
        return None

    def remove(self, post: Post) -> None:
        status = S(post.status)
        if status is S.CANCELLED:
            return
        if status in (S.PUBLISHED, S.PUBLISHING) or post.needs_reconcile:
            why = {S.PUBLISHED: "already published", S.PUBLISHING: "being published right now"}.get(
                status, "waiting to be reconciled with the platform")
            self.note(Action.KEPT, post, post, f"{why}; no longer in the file")
            return
        lifecycle.transition(post, S.CANCELLED)
        post.last_error = REMOVED
        post.updated_at = self.now
        self.note(Action.CANCELLED, post, post, f"was {status.value}; {REMOVED}")
