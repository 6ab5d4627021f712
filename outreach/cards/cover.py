"""A video's cover drawn as a card: the cover takes the video's shape (a 9:16 video gets a 9:16 cover)
at the largest size the platform's image policy allows, that policy's box turned to the video's
orientation (YouTube's 1280x720 thumbnail box holds a 720x1280 cover for a vertical video)."""

from __future__ import annotations

from dataclasses import replace

from outreach.cards.model import CardSize
from outreach.domain import ImagePolicy

COVER_SHORT_SIDE = 1080  # cards are designed at a 1080-pixel short side; covers are not drawn larger


def cover_policy(policy: ImagePolicy, width: int, height: int) -> ImagePolicy:
    """How to fit a cover image for a `width` x `height` video under a platform's image `policy`: no
    padding to the feed's aspect range (the cover follows the video), the box turned to the video."""
    long_side, short_side = max(policy.max_width, policy.max_height), min(policy.max_width, policy.max_height)
    box = (short_side, long_side) if height > width else (long_side, short_side)
    return replace(policy, max_width=box[0], max_height=box[1], min_aspect=None, max_aspect=None)


def cover_size(policy: ImagePolicy, width: int, height: int) -> CardSize:
    """The card size of a drawn cover for a `width` x `height` video under the platform's image `policy`."""
    box = cover_policy(policy, width, height)
    scale = COVER_SHORT_SIDE / min(width, height)
    scale *= min(1.0, box.max_width / (width * scale), box.max_height / (height * scale))
    w = max(1, min(box.max_width, round(width * scale)))
    h = max(1, min(box.max_height, round(height * scale)))
    return CardSize(f"cover-{w}x{h}", w, h)
