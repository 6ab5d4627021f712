"""The cards a campaign's posts carry, drawn from the plan: `outreach render` writes them for review, and
`validate` draws every video cover a card makes (so a broken one is a campaign error, and the media
step later finds it in the card cache instead of drawing it again)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from outreach.cards import (
    CardError,
    CardSize,
    CardSpec,
    TemplateError,
    TextEngineError,
    check_card,
    render_card,
    render_to_dir,
)
from outreach.connectors import platform_class
from outreach.planning.plan import Plan, PlannedPost
from outreach.planning.video import cover_card_size
from outreach.publishing.media import card_spec


def plan_cards(plan: Plan) -> Iterator[tuple[PlannedPost, CardSpec, CardSize | str, bool]]:
    """(post, card, size, is_cover) for each card a post carries and each cover a card draws; times in
    the campaign's time zone, like the posts' texts (and the media step's `card_spec_for`)."""
    timezone = plan.campaign.timezone
    meetings = {m.key: m for m in plan.meetings}
    for post in plan.posts:
        m = meetings.get(post.meeting_key or "")
        fields = {"organisation": m.organisation, "starts_at": m.starts_at, "venue": m.venue,
                  "city": m.city} if m else {}
        for entry in post.media:
            cover = entry.get("cover")
            if entry.get("card"):
                size: CardSize | str | None = platform_class(post.platform).card_size
                card: dict[str, Any] = entry
            elif isinstance(cover, dict) and cover.get("card"):
                size, card = cover_card_size(entry, post.platform), cover
            else:
                continue
            if size is not None:
                spec = card_spec(card, language=post.language, text=post.text, timezone=timezone, **fields)
                yield post, spec, size, card is cover


def render_plan_cards(plan: Plan, out_dir: Path, *, source_keys: set[str] | None = None) -> list[Path]:
    """`outreach render`: every card a campaign would publish, one PNG per post, language and size
    (drawn covers too, named `...-cover-WxH`)."""
    items: dict[str, tuple[str, CardSpec, CardSize | str]] = {}
    for post, spec, size, _ in plan_cards(plan):
        if source_keys and post.source_key not in source_keys:
            continue
        name = f"{post.source_key.replace('/', '_')}-{post.language}-{size if isinstance(size, str) else size.name}"
        items.setdefault(name, (name, spec, size))
    return render_to_dir(items.values(), out_dir)


def check_cards(plan: Plan, *, cache_dir: Path, report: Callable[[PlannedPost, bool, str], None]) -> None:
    """What `validate` knows of a plan's cards before anything is published: every card can be drawn
    (its organisation's design, its language; looked up, not drawn), and every cover a card makes is
    drawn as the media step will (same size, time zone and cache). `report(post, is_cover, message)`
    once per problem, not per channel."""
    checked: set[CardSpec] = set()
    for post, spec, size, is_cover in plan_cards(plan):
        try:
            if not is_cover:
                if spec not in checked:
                    checked.add(spec)
                    check_card(spec)
                continue
            try:
                render_card(spec, size=size, cache_dir=cache_dir)
            except OSError:  # a media folder this user may not write: still drawn (and checked), not kept
                render_card(spec, size=size)
        except (CardError, TemplateError, TextEngineError) as exc:
            report(post, is_cover, f"the cover card in {post.language!r} cannot be drawn: {exc}" if is_cover
                   else str(exc))
