"""`outreach render`: the cards a campaign would publish, written to a folder for review."""

from __future__ import annotations

from pathlib import Path

from outreach.cards import CardSpec, render_to_dir
from outreach.connectors import platform_class
from outreach.planning.plan import Plan
from outreach.publishing.media import card_spec


def render_plan_cards(plan: Plan, out_dir: Path, *, source_keys: set[str] | None = None) -> list[Path]:
    """`outreach render`: every card a campaign would publish, one PNG per post, language and size."""
    meetings = {m.key: m for m in plan.meetings}
    items: dict[str, tuple[str, CardSpec, str]] = {}
    for post in plan.posts:
        if source_keys and post.source_key not in source_keys:
            continue
        for entry in post.media:
            if not entry.get("card"):
                continue
            size = platform_class(post.platform).card_size
            name = f"{post.source_key.replace('/', '_')}-{post.language}-{size}"
            if name in items:
                continue
            m = meetings.get(post.meeting_key or "")
            spec = card_spec(entry, language=post.language, text=post.text, timezone=plan.campaign.timezone,
                             **({"organisation": m.organisation, "starts_at": m.starts_at, "venue": m.venue,
                                 "city": m.city} if m else {}))
            items[name] = (name, spec, size)
    return render_to_dir(items.values(), out_dir)
