"""Threads (graph.threads.net): a TEXT, IMAGE or VIDEO container (media fetched by Meta from its
public URL) -> `threads_publish`; 500 characters with
emoji counted as their UTF-8 bytes; follower demographics by age.

Exactly-once the same way as Instagram: the container id is saved before publishing and a
`PUBLISHED` container means the post exists (found on the profile's threads by its text).
"""

from __future__ import annotations

from typing import ClassVar

import regex

from outreach.connectors.base import Limits, SaveHandle
from outreach.connectors.meta_containers import ContainerConnector
from outreach.domain import (
    AccountInfo,
    AudienceRow,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)

_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")


class ThreadsConnector(ContainerConnector):
    """A Threads profile; `threads_user_id` option (or `me`)."""

    platform: ClassVar[str] = "threads"
    display_name: ClassVar[str] = "Threads"
    channel_options: ClassVar[frozenset[str]] = ContainerConnector.channel_options | {"threads_user_id"}
    max_text: ClassVar[int] = 500
    text_unit: ClassVar[TextUnit] = TextUnit.UTF8_BYTES  # for emoji; other characters count 1
    max_images: ClassVar[int] = 1
    max_image_bytes: ClassVar[int] = 8_000_000
    max_alt_text: ClassVar[int] = 1000
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png")
    image_formats: ClassVar[tuple[str, ...]] = ("JPEG", "PNG")
    max_image_width: ClassVar[int] = 1440
    max_image_height: ClassVar[int] = 3600
    image_aspect: ClassVar[tuple[float | None, float | None]] = (0.1, 10.0)
    # video.md 5, 9.4: up to 5 min, 1 GB, ratio 0.01-10, 23-60 fps, width up to 1920; no captions.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=1024**3, max_duration_s=300, min_aspect=0.01, max_aspect=10.0, max_width=1920,
        min_fps=23, max_fps=60, mime_types=("video/mp4", "video/quicktime"), max_bitrate_bps=25_000_000)
    token_help: ClassVar[str] = (
        "Meta app with the Threads use case: authorize threads_basic, threads_content_publish, "
        "threads_manage_insights at threads.net/oauth/authorize, exchange the code for a token and that "
        "for a 60-day token (th_exchange_token); outreach refreshes it.")
    metric_names: ClassVar[dict[str, str]] = {"views": "views", "likes": "likes", "replies": "comments",
                                              "reposts": "shares"}
    media_metrics: ClassVar[tuple[str, ...]] = ("views", "likes", "replies", "reposts", "quotes", "shares")
    has_audience: ClassVar[bool] = True
    uploads_video: ClassVar[bool] = True  # by `video_url` only: Threads has no byte upload
    default_api_version: ClassVar[str] = "v1.0"
    refresh_grant: ClassVar[str | None] = "th_refresh_token"
    media_list: ClassVar[str] = "threads"
    publish_endpoint: ClassVar[str] = "threads_publish"
    quota_endpoint: ClassVar[str] = "threads_publishing_limit"
    container_fields: ClassVar[str] = "status,error_message"
    text_field: ClassVar[str] = "text"
    user_option: ClassVar[str] = "threads_user_id"

    @classmethod
    def text_length(cls, text: str, limits: Limits | None = None) -> int:
        """Threads' own count: each character 1, each emoji its UTF-8 byte length (👍 = 4)."""
        return sum(len(g.encode()) if _EMOJI.search(g) else len(g) for g in regex.findall(r"\X", text))

    def check(self) -> AccountInfo:
        body = self.graph("GET", self.user, params={"fields": "id,username,name"})
        return AccountInfo(account_id=str(body["id"]), name=f"@{body.get('username', body['id'])}",
                           detail=f"{body.get('name', '')}; token refreshable for 60 days at a time",
                           token_expires_at=self.token_expires_at())

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        item = self.one_image(req)
        if item is not None and item.mime_type.startswith("video/"):
            create = {"media_type": "VIDEO", "video_url": self.public_url(item), "text": req.text}
            if item.alt_text:
                create["alt_text"] = item.alt_text
        elif item is not None:
            create = {"media_type": "IMAGE", "image_url": self.public_url(item), "text": req.text,
                      "alt_text": item.alt_text}
        else:
            create = {"media_type": "TEXT", "text": req.text}
            if req.link and req.link not in req.text:
                create["link_attachment"] = req.link
        return self.publish_container(req, save_handle, text=req.text, create=create)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        return self.reconcile_container(req, req.text)

    def fetch_audience(self) -> list[AudienceRow]:
        """Follower demographics by age (Threads takes one breakdown per call; >= 100 followers)."""
        body = self.graph("GET", f"{self.user}/threads_insights",
                          params={"metric": "follower_demographics", "breakdown": "age"})
        return self.audience_rows(body, timeframe=None)
