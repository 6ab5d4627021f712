"""Facebook Pages (Graph API): `/feed` for text and links, `/photos` for an image, `/video_reels` for a
video (start -> rupload -> finish, then the video's status phases), with a Page token.

A Reel's `video_id` is saved before its bytes go up, and `finish` is never sent again once the video's
publishing phase has begun: a retry or `reconcile` reads the saved video's status instead.

There is no idempotency key: after an ambiguous failure `reconcile` lists the Page's
`published_posts` since the attempt began and matches the exact message. A 506 "duplicate"
answer triggers the same search, because it usually means the first try went through.
Age demographics are not offered: Meta removed them for Pages on 2024-03-14.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from outreach.connectors.base import SaveHandle
from outreach.connectors.errors import ContentRejected, TransientError
from outreach.connectors.meta import GraphConnector
from outreach.domain import (
    AccountInfo,
    MediaItem,
    PublishRequest,
    PublishResult,
    VideoCapabilities,
)
from outreach.media.captions import CaptionError, caption_text

DEFAULT_METRICS = ("post_total_media_view_unique", "post_media_view", "post_clicks")
# Facebook names caption files by locale; the languages of our campaigns (else xx_XX).
CAPTION_LOCALES = {"nl": "nl_NL", "en": "en_US", "ar": "ar_AR", "tr": "tr_TR", "fr": "fr_FR", "de": "de_DE",
                   "es": "es_ES", "pl": "pl_PL", "uk": "uk_UA", "fa": "fa_IR", "so": "so_SO", "ti": "ti_ER"}
COUNT_FIELDS = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
# A Reel is a video: its plays and watch time (milliseconds) come from GET /{video-id}/video_insights
# (video.md 4.3), found through the Page post's attachment, instead of the Page post's insights (third
# parties report Reels have none); its reactions, comments and shares still come from the post's fields.
REEL_METRICS = ("fb_reels_total_plays", "post_video_view_time", "post_video_avg_time_watched")


class FacebookConnector(GraphConnector):
    """A Facebook Page; `page_id` option (or `me`, which a Page token resolves to the Page)."""

    platform: ClassVar[str] = "facebook"
    display_name: ClassVar[str] = "Facebook"
    user_option: ClassVar[str] = "page_id"  # the account is the Page
    channel_options: ClassVar[frozenset[str]] = GraphConnector.channel_options | {"page_id", "metrics"}
    option_types: ClassVar[Mapping[str, type]] = {**GraphConnector.option_types, "metrics": list}
    video_options: ClassVar[frozenset[str]] = GraphConnector.video_options | {"share_to_feed"}  # a Reel also in the feed
    max_text: ClassVar[int] = 63206
    max_images: ClassVar[int] = 1
    max_image_bytes: ClassVar[int] = 4_000_000
    max_alt_text: ClassVar[int] = 1000
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif")
    # Page Reels (video.md 4.1, 9.4): 3-90 s, 9:16 only, at least 540x960, 24-60 fps; SRT captions.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=1024**3, max_duration_s=90, min_duration_s=3, min_aspect=9 / 16 * 0.99, max_aspect=9 / 16 * 1.01,
        min_short_side=540, min_fps=24, max_fps=60, caption_formats=("srt",), cover="image", landscape=False)
    token_help: ClassVar[str] = (
        "Meta app with Facebook Login: grant pages_show_list, pages_manage_posts, pages_read_engagement, "
        "read_insights (+ pages_read_user_content for reaction/comment counts); exchange the user token "
        "for a long-lived one (fb_exchange_token), then GET /me/accounts gives a Page token that does "
        "not expire.")
    uploads_video: ClassVar[bool] = True
    metric_names: ClassVar[dict[str, str]] = {
        "post_total_media_view_unique": "reach", "post_media_view": "views", "reactions": "likes",
        "comments": "comments", "shares": "shares", "post_clicks": "clicks",
        "fb_reels_total_plays": "views", "post_video_view_time": "watch_time_s"}
    metric_scale: ClassVar[dict[str, float]] = {"post_video_view_time": 0.001}  # milliseconds -> seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_fields = COUNT_FIELDS  # narrowed to `shares` when reactions need a missing permission

    @property
    def page(self) -> str:
        return str(self.channel.options.get("page_id", "me"))

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.channel.options.get("metrics", DEFAULT_METRICS))

    def check(self) -> AccountInfo:
        body = self.graph("GET", self.page, params={"fields": "id,name,followers_count"})
        return AccountInfo(account_id=str(body["id"]), name=str(body.get("name", body["id"])),
                           detail=f"{body.get('followers_count', '?')} followers; a Page token does not "
                                  "expire unless the password changes or the app loses its Page role")

    # -- publishing ---------------------------------------------------------------------------

    @staticmethod
    def message(req: PublishRequest) -> str:
        """What the post's `message` will be: photos carry no `link`, so it goes into the caption."""
        if req.media and req.link and req.link not in req.text:
            return f"{req.text}\n\n{req.link}"
        return req.text

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        item = self.one_image(req)
        if item is not None and item.mime_type.startswith("video/"):
            return self.publish_reel(req, save_handle, item)
        try:
            if item is not None:
                body = self._photo(item, self.message(req))
                post_id = str(body.get("post_id") or body["id"])
            else:
                data = {"message": req.text, **({"link": req.link} if req.link else {})}
                post_id = str(self.graph("POST", f"{self.page}/feed", data=data)["id"])
        except ContentRejected as exc:
            if exc.code == "506":  # "duplicate status message": most likely our own earlier attempt
                found = self.reconcile_feed(req)
                if found is not None:
                    return found
            raise
        node = self.graph("GET", post_id, params={"fields": "id,message,created_time,permalink_url"})
        return self.result(node, url_field="permalink_url", time_field="created_time")

    def _photo(self, item: MediaItem, caption: str) -> dict[str, Any]:
        """`url=` when the image has a public URL, else the file itself as multipart `source`."""
        data = {"caption": caption, "alt_text_custom": item.alt_text}
        if item.public_url:
            return self.graph("POST", f"{self.page}/photos", data={**data, "url": item.public_url})
        path = Path(item.path)
        with path.open("rb") as fh:
            return self.graph("POST", f"{self.page}/photos", data=data,
                              files={"source": (path.name, fh, item.mime_type)})

    # -- Reels ----------------------------------------------------------------------------------

    def publish_reel(self, req: PublishRequest, save_handle: SaveHandle, item: MediaItem) -> PublishResult:
        """start (video_id saved) -> bytes to rupload (from what the status says arrived) -> finish ->
        poll the phases. A saved video that already began publishing is only polled, never finished again."""
        handle, video_id = dict(req.handle), req.handle.get("video_id")
        captions = self._caption_files(item)
        status = self.reel_phases(video_id) if video_id else None
        if status is not None and status["video_status"] in ("error", "expired"):
            video_id, status = None, None  # dead; a new one is harmless
        if not video_id:
            body = self.graph("POST", f"{self.page}/video_reels", write=False, data={"upload_phase": "start"})
            video_id = str(body["video_id"])
            handle = {**req.handle, "video_id": video_id, "upload_url": str(body["upload_url"])}
            save_handle(handle)
        if status is None or _phase(status, "publishing_phase") == "not_started" and \
                _phase(status, "processing_phase") == "not_started":
            size = os.path.getsize(item.path)
            sent = int((status or {}).get("uploading_phase", {}).get("bytes_transferred") or 0)
            if sent < size or _phase(status or {}, "uploading_phase") != "complete":
                self._send_reel(str(handle["upload_url"]), item.path, size, sent if 0 < sent < size else 0)
            for locale, file in captions:  # `POST /{video-id}/captions`; a locale sent again replaces its file
                self.graph("POST", f"{video_id}/captions", data={"default_locale": locale},
                           files={"captions_file": file})
            if item.cover_path:
                with open(item.cover_path, "rb") as fh:
                    self.graph("POST", f"{video_id}/thumbnails", data={"is_preferred": "true"},
                               files={"source": (Path(item.cover_path).name, fh,
                                                 mimetypes.guess_type(item.cover_path)[0] or "image/jpeg")})
            self.graph("POST", f"{self.page}/video_reels", data={
                "upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED",
                "description": self.message(req)})
        return self._wait_for_reel(video_id)

    def _send_reel(self, upload_url: str, path: str, size: int, offset: int) -> None:
        with open(path, "rb") as fh:
            fh.seek(offset)
            self.request("POST", upload_url, data=fh, headers={
                "Authorization": f"OAuth {self.token()}", "offset": str(offset), "file_size": str(size)})

    def _caption_files(self, item: MediaItem) -> list[tuple[str, tuple[str, bytes, str]]]:
        """(locale, SRT file) per caption language, converted from WebVTT where needed and named
        `<name>.<locale>.srt` as Facebook wants; read before anything is uploaded, so a bad file costs nothing."""
        files = []
        for language, path in item.captions:
            locale = CAPTION_LOCALES.get(language, f"{language}_{language.upper()}")
            try:
                _, text = caption_text(path, self.video.caption_formats if self.video else ())
            except (CaptionError, OSError) as exc:
                raise ContentRejected(self.channel.name, f"captions ({language}): {exc}") from None
            files.append((locale, (f"{Path(path).stem.split('.')[0]}.{locale}.srt", text.encode("utf-8"),
                                   "application/x-subrip")))
        return files

    def reel_phases(self, video_id: str) -> dict[str, Any]:
        return dict(self.graph("GET", video_id, params={"fields": "status"}).get("status") or {})

    def _wait_for_reel(self, video_id: str) -> PublishResult:
        for attempt in range(self.max_polls):
            status = self.reel_phases(video_id)
            if _phase(status, "publishing_phase") == "complete":
                return self._reel_result(video_id)
            errors = [e for name in ("uploading_phase", "processing_phase", "publishing_phase")
                      for e in (status.get(name) or {}).get("errors") or []]
            if errors or status.get("video_status") == "error":
                detail = "; ".join(f"{e.get('message')} [code {e.get('code')}]" for e in errors) or "error"
                raise ContentRejected(self.channel.name, f"facebook could not process the Reel {video_id}: {detail}")
            if attempt + 1 < self.max_polls and self.poll_interval_s > 0:
                self.sleep(self.poll_interval_s)
        raise TransientError(self.channel.name, f"Reel {video_id} still processing after {self.max_polls} "
                             "checks; the next attempt continues with it")

    def _reel_result(self, video_id: str) -> PublishResult:
        node = self.graph("GET", video_id, params={"fields": "post_id,permalink_url,created_time"})
        post = self.graph("GET", str(node["post_id"]), params={"fields": "id,message,created_time,permalink_url"})
        return self.result(post, url_field="permalink_url", time_field="created_time", video_id=video_id)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        if req.handle.get("video_id"):
            status = self.reel_phases(str(req.handle["video_id"]))
            return self._reel_result(str(req.handle["video_id"])) \
                if _phase(status, "publishing_phase") == "complete" else None
        return self.reconcile_feed(req)

    def reconcile_feed(self, req: PublishRequest) -> PublishResult | None:
        """The Page's posts since the attempt began (every page of them), matched on the exact message."""
        since = self.since(req)
        return self.find_listed(f"{self.page}/published_posts", self.message(req), since=since,
                                text_field="message", time_field="created_time", url_field="permalink_url",
                                query={"since": int(since.timestamp())} if since is not None else None)

    # -- metrics ------------------------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Counts from the post's fields plus the configured insights, each refused metric dropped."""
        metrics: dict[str, dict[str, int]] = {}
        for remote_id in remote_ids:
            try:
                node = self._counts(remote_id)
            except ContentRejected as exc:
                if (exc.code or "").startswith("100/"):  # the post is gone: nothing to count
                    continue
                raise
            video_id = _video_of(node)
            values = self.insights(video_id, REEL_METRICS, edge="video_insights") if video_id else {}
            values["shares"] = int((node.get("shares") or {}).get("count", 0))
            for name in ("reactions", "comments"):
                if name in node:
                    values[name] = int(((node[name] or {}).get("summary") or {}).get("total_count", 0))
            if not video_id:  # a Reel's Page post is not asked: its plays are the video's (and a refusal
                values.update(self.insights(remote_id, self.metrics))  # there would drop metrics for every post)
            metrics[remote_id] = values
        return metrics

    def _counts(self, remote_id: str) -> dict[str, Any]:
        try:
            return self.graph("GET", remote_id, params={"fields": f"{self.count_fields},attachments"})
        except ContentRejected as exc:
            code = int((exc.code or "0").split("/")[0])
            if self.count_fields == "shares" or not (code == 10 or 200 <= code <= 299):
                raise
        self.count_fields = "shares"  # reactions/comments need pages_read_user_content
        return self.graph("GET", remote_id, params={"fields": f"{self.count_fields},attachments"})


def _video_of(node: dict[str, Any]) -> str | None:
    """The video id of a Page post whose attachment is a video (a Reel), else None."""
    for attachment in (node.get("attachments") or {}).get("data") or []:
        if attachment.get("media_type") == "video" and (attachment.get("target") or {}).get("id"):
            return str(attachment["target"]["id"])
    return None


def _phase(status: dict[str, Any], name: str) -> str:
    return str((status.get(name) or {}).get("status") or "not_started")
