"""Instagram (Graph API, Instagram Login on graph.instagram.com or Facebook Login on
graph.facebook.com): container -> poll `status_code` -> `media_publish`, image by public URL; a video
is a Reel (media_type=REELS) by `video_url`, or without a public URL sent to the rupload `uri`.

Exactly-once: the container id is saved through `save_handle` before anything else happens; a
retry never creates a second container while the saved one can still be published, and a
`PUBLISHED` container means the post exists (found on the account's media list by caption).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from outreach.connectors.base import Limits, SaveHandle
from outreach.connectors.errors import AuthError, ContentRejected
from outreach.connectors.meta_containers import ContainerConnector
from outreach.domain import (
    AccountInfo,
    AudienceRow,
    MediaItem,
    PublishRequest,
    PublishResult,
    VideoCapabilities,
)

log = logging.getLogger(__name__)

TIMEFRAMES = ("this_week", "this_month")
DEMOGRAPHICS = ("follower_demographics", "engaged_audience_demographics")


class InstagramConnector(ContainerConnector):
    """An Instagram professional account; `ig_user_id` option (or `me` on the Instagram Login host)."""

    platform: ClassVar[str] = "instagram"
    display_name: ClassVar[str] = "Instagram"
    channel_options: ClassVar[frozenset[str]] = ContainerConnector.channel_options | {"ig_user_id", "login", "audience_timeframes"}
    option_types: ClassVar[Mapping[str, type]] = {**ContainerConnector.option_types, "audience_timeframes": list}
    video_options: ClassVar[frozenset[str]] = ContainerConnector.video_options | {"share_to_feed"}  # a Reel also in the feed
    max_text: ClassVar[int] = 2200
    max_hashtags: ClassVar[int] = 30
    max_mentions: ClassVar[int] = 20
    max_images: ClassVar[int] = 1
    max_image_bytes: ClassVar[int] = 8 * 1024 * 1024
    max_alt_text: ClassVar[int] = 1000
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg",)
    aspect_range: ClassVar[tuple[float, float]] = (0.8, 1.91)  # 4:5 portrait .. 1.91:1 landscape
    requires_media: ClassVar[bool] = True
    image_formats: ClassVar[tuple[str, ...]] = ("JPEG",)
    max_image_width: ClassVar[int] = 1440
    max_image_height: ClassVar[int] = 1800
    image_aspect: ClassVar[tuple[float | None, float | None]] = (0.8, 1.91)
    card_size: ClassVar[str] = "instagram"
    # Reels (video.md 3.2, 9.4): 3 s-15 min, 300 MB, ratio 0.01-10 (9:16 recommended), 23-60 fps.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=300_000_000, max_duration_s=900, min_duration_s=3, min_aspect=0.01, max_aspect=10.0,
        max_width=1920, min_fps=23, max_fps=60, mime_types=("video/mp4", "video/quicktime"), cover="image",
        max_bitrate_bps=25_000_000)
    token_help: ClassVar[str] = (
        "Meta app with Instagram Login: add the instagram_business_basic, instagram_business_content_publish "
        "and instagram_business_manage_insights permissions, generate a token for the professional account "
        "in the app dashboard (Instagram > API setup), exchange it for a 60-day token; outreach refreshes it.")
    metric_names: ClassVar[dict[str, str]] = {"reach": "reach", "views": "views", "likes": "likes",
                                              "comments": "comments", "shares": "shares", "saved": "saves",
                                              "ig_reels_video_view_total_time": "watch_time_s"}
    media_metrics: ClassVar[tuple[str, ...]] = ("reach", "views", "likes", "comments", "shares", "saved",
                                                "total_interactions")
    # Reels only (a photo's insights refuse them): total and average watch time, in milliseconds (video.md 3.3).
    reels_metrics: ClassVar[tuple[str, ...]] = ("ig_reels_video_view_total_time", "ig_reels_avg_watch_time")
    metric_scale: ClassVar[dict[str, float]] = {"ig_reels_video_view_total_time": 0.001}  # ms -> seconds
    has_audience: ClassVar[bool] = True
    uploads_video: ClassVar[bool] = True
    refresh_grant: ClassVar[str | None] = "ig_refresh_token"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product_types: dict[str, str] = {}

    @property
    def user(self) -> str:
        """`ig_user_id`; `me` works only on the Instagram Login host (on Facebook's it is the person)."""
        if "ig_user_id" not in self.channel.options and self.login == "facebook":
            raise AuthError(self.channel.name, "set ig_user_id for this channel: with Facebook Login it is "
                            "the Page's instagram_business_account (GET /{page-id}?fields="
                            "instagram_business_account)")
        return str(self.channel.options.get("ig_user_id", "me"))

    @property
    def login(self) -> str:
        """instagram (graph.instagram.com, refreshable token) or facebook (graph.facebook.com)."""
        default = "facebook" if "graph.facebook.com" in self.channel.base_url else "instagram"
        return str(self.channel.options.get("login", default))

    @classmethod
    def validate(cls, text: str, media: Iterable[MediaItem] = (), *, limits: Limits | None = None,
                 sizes: Mapping[str, int] | None = None) -> list[str]:
        media = list(media)
        problems = super().validate(text, media, limits=limits, sizes=sizes)
        for what, pattern, limit in (("hashtags", r"(?<![\w&])#\w", cls.max_hashtags),
                                     ("@mentions", r"(?<![\w.])@[\w.]", cls.max_mentions)):
            count = len(re.findall(pattern, text))
            if count > limit:
                problems.append(f"{count} {what}; instagram allows {limit}")
        low, high = cls.aspect_range
        for item in media:
            if item.width and item.height and not low <= item.width / item.height <= high:
                problems.append(f"{item.path}: aspect ratio {item.width}x{item.height} is outside "
                                f"instagram's 4:5 to 1.91:1")
        return problems

    # -- account ------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        body = self.graph("GET", self.user, params={"fields": "id,username,name,followers_count"})
        expires = self.token_expires_at()
        detail = f"{body.get('followers_count', '?')} followers; {self.login} login via {self._host()}"
        return AccountInfo(account_id=str(body["id"]), name=f"@{body.get('username', body['id'])}",
                           detail=detail, token_expires_at=expires)

    def refresh_credentials(self) -> datetime | None:
        """Instagram Login tokens refresh for 60 days; Facebook Login (Page) tokens do not expire."""
        return None if self.login == "facebook" else super().refresh_credentials()

    # -- publishing ---------------------------------------------------------------------------

    def caption(self, req: PublishRequest) -> str:
        return f"{req.text}\n\n{req.link}" if req.link and req.link not in req.text else req.text

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        item = self.one_image(req)
        if item is None:
            raise ContentRejected(self.channel.name, "instagram needs an image; this post has none")
        caption = self.caption(req)
        if item.mime_type.startswith("video/"):
            return self.publish_reel(req, save_handle, item, caption)
        return self.publish_container(req, save_handle, text=caption, create={
            "image_url": self.public_url(item), "caption": caption, "alt_text": item.alt_text})

    def publish_reel(self, req: PublishRequest, save_handle: SaveHandle, item: MediaItem,
                     caption: str) -> PublishResult:
        """A Reel: `share_to_feed` (default true) from the entry's options; the cover as `cover_url`
        (served next to the video) or `thumb_offset` in ms; bytes by URL, else the resumable upload."""
        options = dict(item.options)
        create: dict[str, Any] = {"media_type": "REELS", "caption": caption,
                                  "share_to_feed": "true" if options.get("share_to_feed", True) else "false"}
        if item.cover_path and item.public_url:
            create["cover_url"] = f"{item.public_url.rsplit('/video/', 1)[0]}/{Path(item.cover_path).name}"
        elif item.cover_s is not None:
            create["thumb_offset"] = str(round(item.cover_s * 1000))
        elif item.cover_path:
            log.warning("%s: post %s: the cover image is not sent: Instagram takes a cover only by URL; set "
                        "[media] public_base_url", self.channel.name, req.post_id)
        if item.public_url:
            create["video_url"] = item.public_url
            return self.publish_container(req, save_handle, text=caption, create=create)
        create["upload_type"] = "resumable"

        def upload(handle: dict[str, Any]) -> None:
            size = os.path.getsize(item.path)
            with open(item.path, "rb") as fh:
                self.request("POST", str(handle["upload_uri"]), data=fh, headers={
                    "Authorization": f"OAuth {self.token()}", "offset": "0", "file_size": str(size),
                    "Content-Type": "application/octet-stream"})

        try:
            return self.publish_container(req, save_handle, text=caption, create=create, upload=upload)
        except ContentRejected as exc:
            if exc.code != "100" or "video_url" not in exc.message:
                raise
            raise ContentRejected(self.channel.name, f"{exc.message}; this Instagram login does not take "
                                  "uploaded video: set [media] public_base_url in outreach.toml to a host that "
                                  "serves the media directory, so Instagram can fetch it", code=exc.code) from None

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        return self.reconcile_container(req, self.caption(req))

    # -- metrics and audience -----------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """The media insights, plus watch time for a Reel (asked only of Reels: a photo refuses those
        metrics, and a refusal must not stop the next Reel from being asked)."""
        metrics = super().fetch_metrics(remote_ids)
        for remote_id, values in metrics.items():
            if self.product_type(remote_id) == "REELS":
                values.update(self.insights(remote_id, self.reels_metrics))
        return metrics

    def product_type(self, remote_id: str) -> str:
        """FEED, REELS, STORY, ... of a published media, asked once per connector (it never changes)."""
        if remote_id not in self.product_types:
            node = self.graph("GET", remote_id, params={"fields": "media_product_type"})
            self.product_types[remote_id] = str(node.get("media_product_type") or "")
        return self.product_types[remote_id]

    def fetch_audience(self) -> list[AudienceRow]:
        """Follower and engaged-audience demographics by age and by age x gender, per timeframe."""
        timeframes = list(self.channel.options.get("audience_timeframes", ["this_month"]))
        bad = [t for t in timeframes if t not in TIMEFRAMES]
        if bad:
            raise ContentRejected(self.channel.name, f"audience_timeframes {bad} not allowed; instagram "
                                  f"accepts {', '.join(TIMEFRAMES)}")
        rows: list[AudienceRow] = []
        for timeframe in timeframes:
            for metric in DEMOGRAPHICS:
                for breakdown in ("age", "age,gender"):
                    body = self.graph("GET", f"{self.user}/insights", params={
                        "metric": metric, "period": "lifetime", "metric_type": "total_value",
                        "timeframe": timeframe, "breakdown": breakdown})
                    rows += self.audience_rows(body, timeframe=timeframe)
        return rows
