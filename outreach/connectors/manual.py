"""Channels posted by hand (a WhatsApp group, a newsletter): no API, only the shapes of their media.

Not in the registry: nothing publishes to them. Planning and media fitting ask this class like any
connector, so a manual channel's card size and image limits also live in one place.
"""

from __future__ import annotations

from typing import ClassVar

from outreach.connectors.base import Connector
from outreach.domain import Platform, VideoCapabilities


class ManualChannel(Connector):
    platform: ClassVar[str] = Platform.MANUAL
    display_name: ClassVar[str] = "manual"  # the dashboard says it in the reader's language
    max_text: ClassVar[int] = 65_536
    max_images: ClassVar[int] = 10
    max_image_bytes: ClassVar[int] = 20_000_000
    card_size: ClassVar[str] = "instagram"  # square-ish portrait reads well in chat apps
    # The person posting by hand gets the caption files as they are.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(max_bytes=4_000_000_000, caption_formats=("srt", "vtt"))
