"""The one place where a post's status changes: allowed transitions, enforced."""

from __future__ import annotations

from typing import Protocol

from outreach.domain import PostStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.PENDING_REVIEW, S.APPROVED, S.CANCELLED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.DRAFT}),
    S.REJECTED: frozenset({S.PENDING_REVIEW, S.DRAFT, S.CANCELLED}),
    S.APPROVED: frozenset({S.PUBLISHING, S.MANUAL_DUE, S.PENDING_REVIEW, S.REJECTED, S.CANCELLED}),
    # PUBLISHING -> PUBLISHING: another worker takes over after the lease expired.
    # PUBLISHING -> APPROVED: a claim given back before anything was sent.
    # PUBLISHING -> MANUAL_DUE: the platform holds the post for a person to finish (TikTok's inbox).
    S.PUBLISHING: frozenset({S.PUBLISHED, S.RETRYING, S.FAILED, S.PUBLISHING, S.APPROVED, S.MANUAL_DUE}),
    S.RETRYING: frozenset({S.PUBLISHING, S.PENDING_REVIEW, S.APPROVED, S.CANCELLED}),
    S.FAILED: frozenset({S.APPROVED, S.PENDING_REVIEW, S.CANCELLED}),
    S.MANUAL_DUE: frozenset({S.PUBLISHED, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PENDING_REVIEW, S.APPROVED}),
    S.PUBLISHED: frozenset(),
}

# Statuses whose content may still be changed by re-scheduling a campaign file.
EDITABLE = frozenset({S.DRAFT, S.PENDING_REVIEW, S.REJECTED, S.APPROVED, S.RETRYING, S.FAILED, S.CANCELLED})
# Statuses that mean "will go out unless someone intervenes".
SCHEDULED = frozenset({S.APPROVED, S.RETRYING, S.PUBLISHING})


class InvalidTransition(Exception):
    def __init__(self, post_id: int | None, current: S, target: S) -> None:
        self.post_id, self.current, self.target = post_id, current, target
        super().__init__(f"post {post_id}: cannot go from {current.value} to {target.value}")


class HasStatus(Protocol):
    id: int
    status: str


def transition(post: HasStatus, target: S | str) -> S:
    """Move `post` to `target` or raise InvalidTransition. Returns the previous status."""
    current, target = S(post.status), S(target)
    if target not in ALLOWED[current]:
        raise InvalidTransition(getattr(post, "id", None), current, target)
    post.status = target.value
    return current


def checked(current: S | str, target: S | str) -> str:
    """For bulk/Core updates that change status in SQL (`WHERE status = current`): validate the move
    here, in the one place, and return the value to write."""
    current, target = S(current), S(target)
    if target not in ALLOWED[current]:
        raise InvalidTransition(None, current, target)
    return target.value
