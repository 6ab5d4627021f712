"""YouTube: one video per post via the resumable upload protocol, captions per language, quota kept.

Exactly-once: YouTube has no idempotency key, so every step leaves a handle first. A per-post marker
(a tag, not shown on the watch page) is saved before an upload session is opened, the session URI
as soon as YouTube gives it, the video id as soon as the last byte is in. After an interruption the
session is asked how far it got (`Content-Range: bytes */N`) and the upload continues from the
committed offset; a session that is gone (404), or an attempt that died before its URI was saved,
first searches the channel's uploads for the marker and only uploads again when it is not there.

Privacy: videos uploaded through an API project that has not passed Google's compliance audit are
locked private, whatever `privacy_status` asks. Without `audited_project = true` outreach says so
(`channels check`, the result of every upload) instead of pretending they are public.

OAuth, Google's error envelope and the quota ledger (checked before each call, so a spent quota waits
for midnight Pacific time instead of burning requests) are in `google.py`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import requests

from outreach.connectors.base import Limits, SaveHandle, parse_expiry
from outreach.connectors.capability import Capability
from outreach.connectors.errors import AuthError, ConnectorError, ContentRejected, TransientError
from outreach.connectors.google import GoogleConnector
from outreach.domain import (
    AccountInfo,
    MediaItem,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)
from outreach.media.captions import CaptionError, caption_text

log = logging.getLogger(__name__)

STATISTICS = ("viewCount", "likeCount", "commentCount")  # videos.list statistics read per video
ANALYTICS_START = "2005-02-14"  # both Analytics queries cover the same window: the video's whole life
YOUTH_BASIS = ("YouTube Analytics: age groups of logged-in viewers (self-declared, 13+) applied to all views; "
               "2-3 days behind; no figure below YouTube's privacy threshold")
WATCH_URL = "https://www.youtube.com"  # where a video is watched: its permalink and evidence capture
UNAUDITED = ("uploads from an API project that Google has not audited stay private whatever "
             "privacy_status says; after the audit set audited_project = true")


def post_title(text: str, limit: int) -> str:
    """The video title: the post's first line, cut at a word to `limit` characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= limit:
        return first
    return first[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


class YouTubeConnector(GoogleConnector):
    """A YouTube channel uploading one video per post (title = first line, description = the text)."""

    platform: ClassVar[str] = "youtube"
    display_name: ClassVar[str] = "YouTube"
    channel_options: ClassVar[frozenset[str]] = GoogleConnector.channel_options | {
        "audited_project", "privacy_status", "youth_reach", "analytics_url", "category_id", "watch_url"}
    option_types: ClassVar[Mapping[str, type]] = {**GoogleConnector.option_types, "audited_project": bool,
                                                  "youth_reach": bool}
    max_text: ClassVar[int] = 5000  # the description, in UTF-8 bytes
    text_unit: ClassVar[TextUnit] = TextUnit.UTF8_BYTES
    max_title: ClassVar[int] = 100
    max_images: ClassVar[int] = 1  # the one video
    image_mime_types: ClassVar[tuple[str, ...]] = ()  # takes no images in a post ...
    max_image_bytes: ClassVar[int] = 2_000_000  # ... the policy shapes a custom thumbnail (thumbnails.set)
    max_image_width: ClassVar[int] = 1280
    max_image_height: ClassVar[int] = 720
    requires_media: ClassVar[bool] = True
    card_size: ClassVar[str] = "landscape"  # 16:9, as a thumbnail or a cover frame
    # video.md 8.2, 9.4: 256 GB; 15 min until the channel is phone-verified (12 h after); a Short is
    # at most 180 s and not wider than square; captions SRT/WebVTT/SBV per language; a custom thumbnail.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=256 * 1024**3, max_duration_s=900,
        mime_types=("video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "application/octet-stream"),
        video_codecs=("h264", "hevc", "vp9", "av1"), audio_codecs=("aac", "opus", "mp3"),
        caption_formats=("srt", "vtt", "sbv"), cover="image")
    uploads_video: ClassVar[bool] = True  # the media step hands `publish` the stripped video (req.media)
    shorts_max_duration_s: ClassVar[float] = 180
    token_help: ClassVar[str] = (
        "Google Cloud console: a project with the YouTube Data API v3 and an OAuth client; consent screen "
        "'In production' (in 'Testing' refresh tokens die after 7 days); authorize once with scopes "
        "youtube.upload youtube.readonly youtube.force-ssl yt-analytics.readonly (access_type=offline) and set client_id_env, "
        "client_secret_env, refresh_token_env. Until Google audits the project every upload is private.")
    metric_names: ClassVar[dict[str, str]] = {"viewCount": "views", "likeCount": "likes", "commentCount": "comments",
                                              "estimatedMinutesWatched": "watch_time_s"}
    metric_scale: ClassVar[dict[str, float]] = {"estimatedMinutesWatched": 60}  # minutes -> seconds
    metrics_batch_size: ClassVar[int] = 50
    chunk_bytes: int = 32 * 256 * 1024  # every chunk but the last: a multiple of 256 KiB (tests: 256 KiB)
    max_resumes: ClassVar[int] = 5  # interruptions one publish call continues after
    privacy_statuses: ClassVar[tuple[str, ...]] = ("private", "unlisted", "public")
    analytics_url: ClassVar[str] = "https://youtubeanalytics.googleapis.com"
    # YouTube Analytics runs 2-3 days behind, and gives no age rows for a video with few views (Google
    # names no number; the simulation and the synthetic history take 50).
    analytics_delay_s: ClassVar[int] = 3 * 86400
    analytics_min_views: ClassVar[int] = 50

    poll_interval_s: float = 5.0
    max_polls: int = 12

    # -- options ------------------------------------------------------------------------------

    @property
    def audited(self) -> bool:
        return self.option("audited_project", False) is True

    def _privacy(self) -> str:
        privacy = str(self.option("privacy_status", "private"))
        if privacy not in self.privacy_statuses:
            raise ContentRejected(self.channel.name, f"privacy_status {privacy!r} is not one of "
                                  f"{', '.join(self.privacy_statuses)}")
        return privacy

    # -- validation ---------------------------------------------------------------------------------

    @classmethod
    def validate(cls, text: str, media: Iterable[MediaItem] = (), *,
                 limits: Limits | None = None, sizes: Mapping[str, int] | None = None) -> list[str]:
        """The text as any platform's (the description), then what YouTube asks of title and video."""
        lim = limits or cls.declared_limits()
        media = list(media)
        problems = super().validate(text, (), limits=replace(lim, requires_media=False))
        if re.search(r"[<>]", text):
            problems.append("youtube refuses < and > in titles and descriptions")
        if not post_title(text, cls.max_title):
            problems.append("youtube needs a title: the text's first line is empty")
        # Planning checks a `video:` entry itself (planning/video.py) and passes requires_media=False.
        videos = [m for m in media if m.mime_type.startswith("video/")]
        if len(media) > len(videos) or len(videos) > 1 or (lim.requires_media and not videos):
            problems.append(f"youtube needs exactly one video and takes no images; this post has "
                            f"{len(videos)} videos and {len(media) - len(videos)} images")
        for item in videos:
            if lim.video and item.mime_type not in lim.video.mime_types:
                problems.append(f"{item.path}: {item.mime_type} is not accepted by youtube")
        return problems

    # -- the platform calls ---------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        channel = self._my_channel()
        ledger = self._ledger()
        detail = (f"{channel['snippet'].get('title', '')}; quota today: {ledger['units']} units, "
                  f"{ledger['inserts']} uploads")
        if not self.audited:
            detail += f"; {UNAUDITED}"
        return AccountInfo(account_id=channel["id"], name=channel["snippet"].get("title", channel["id"]),
                           detail=detail)

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        video = self._the_video(req)
        captions = self._caption_texts(video)  # a bad caption file fails before the video goes up
        handle = dict(req.handle)
        if not handle.get("video_id"):
            resource = self._upload(req, video, handle, save_handle)
            handle["video_id"] = resource["id"]
            save_handle(handle)
        resource = self._wait_processed(handle["video_id"])
        self._captions(captions, handle, save_handle)
        self._thumbnail(video, handle, save_handle)
        return self._result(resource, video, handle)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        """The video if it exists: by the saved id, the saved session, or the marker in the uploads."""
        video = self._the_video(req)
        video_id = req.handle.get("video_id")
        if not video_id and req.handle.get("session_uri"):
            state = self._query(str(req.handle["session_uri"]), Path(video.path).stat().st_size)
            video_id = state.get("id") if isinstance(state, dict) else None
        if not video_id and req.handle.get("marker"):
            video_id = self._find_upload(str(req.handle["marker"]), req.attempt_started_at)
        if not video_id:
            return None
        items = self.call("GET", "/youtube/v3/videos", quota="videos.list",
                          params={"part": "snippet,status", "id": video_id}).json().get("items") or []
        return self._result(items[0], video) if items else None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Counts per video (views, likes, comments) plus, from YouTube Analytics, the views, minutes
        watched and average view duration (s) and the logged-in viewers' age shares over the same window
        (`age_shares`, absent below YouTube's privacy threshold), from which the harvester measures youth reach."""
        items = self.call("GET", "/youtube/v3/videos", quota="videos.list",
                          params={"part": "statistics", "id": ",".join(remote_ids)}).json().get("items") or []
        metrics: dict[str, dict[str, Any]] = {
            item["id"]: {k: int(item["statistics"].get(k) or 0) for k in STATISTICS} for item in items}
        if metrics and self.option("youth_reach", True) is not False:
            try:
                self._add_age_shares(metrics)
            except ConnectorError as exc:  # counts still count; the age shares come on the next pass
                log.warning("%s: no YouTube Analytics this time: %s", self.channel.name, exc.message)
        return metrics

    def _add_age_shares(self, metrics: dict[str, dict[str, Any]]) -> None:
        url = f"{str(self.option('analytics_url', self.analytics_url)).rstrip('/')}/v2/reports"
        window = {"ids": "channel==MINE", "startDate": ANALYTICS_START, "endDate": self.clock().date().isoformat()}
        views = self.call("GET", url, params={**window, "metrics": "views,estimatedMinutesWatched,averageViewDuration",
                                              "dimensions": "video",
                                              "filters": "video==" + ",".join(metrics)}).json().get("rows") or []
        for video_id, count, minutes, average_s in views:
            metrics[video_id].update(analytics_views=int(count), estimatedMinutesWatched=int(minutes),
                                     averageViewDuration=int(average_s))
            rows = self.call("GET", url, params={**window, "metrics": "viewerPercentage",
                                                 "dimensions": "ageGroup,gender", "filters": f"video=={video_id}",
                                                 "sort": "gender,ageGroup"}).json().get("rows") or []
            shares: dict[str, float] = {}
            for age, _gender, percentage in rows:
                label = str(age).removeprefix("age")  # "age13-17" -> "13-17", "age65-" -> "65+"
                label = label[:-1] + "+" if label.endswith("-") else label
                shares[label] = round(shares.get(label, 0.0) + float(percentage), 4)
            if shares:  # no rows: below YouTube's threshold, "not available" rather than 0
                metrics[video_id]["age_shares"] = shares
                metrics[video_id]["youth_basis"] = YOUTH_BASIS

    # -- upload ---------------------------------------------------------------------------------------

    def _the_video(self, req: PublishRequest) -> MediaItem:
        videos = [m for m in req.media if m.mime_type.startswith("video/")]
        if len(videos) != 1:
            raise ContentRejected(self.channel.name, "youtube needs exactly one video per post")
        return videos[0]

    @staticmethod
    def marker(req: PublishRequest) -> str:
        return "outreach-" + hashlib.sha256(req.idempotency_key.encode()).hexdigest()[:12]

    def _upload(self, req: PublishRequest, video: MediaItem, handle: dict[str, Any],
                save_handle: SaveHandle) -> dict[str, Any]:
        total = Path(video.path).stat().st_size
        session, offset = handle.get("session_uri"), 0
        if session:
            state = self._query(str(session), total)
            if isinstance(state, dict):
                return state
            session, offset = (session, state) if state is not None else (None, 0)
        if not session:
            if handle.get("marker"):  # an earlier attempt may have finished an upload we lost track of
                found = self._find_upload(str(handle["marker"]), req.attempt_started_at)
                if found:
                    return {"id": found}
            handle["marker"] = self.marker(req)
            save_handle(handle)
            session = self._start(req, video, str(handle["marker"]), total)
            handle["session_uri"] = Capability(session)  # this machine's resume file, not the database
            save_handle(handle)
        return self._send(str(session), video, total, offset)

    def _start(self, req: PublishRequest, video: MediaItem, marker: str, total: int) -> str:
        privacy = self._privacy()
        if privacy != "private" and not self.audited:
            log.warning("%s: %s", self.channel.name, UNAUDITED)
        metadata = {"snippet": {"title": post_title(req.text, self.max_title), "description": req.text,
                                "tags": [marker], "categoryId": str(self.option("category_id", "22")),
                                "defaultLanguage": req.language, "defaultAudioLanguage": req.language},
                    "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False,
                               "containsSyntheticMedia": False, "embeddable": True, "license": "youtube"}}
        response = self.call("POST", "/upload/youtube/v3/videos", quota="videos.insert", ok=(200,),
                             params={"uploadType": "resumable", "part": "snippet,status"},
                             data=json.dumps(metadata).encode(),
                             headers={"Content-Type": "application/json; charset=UTF-8",
                                      "X-Upload-Content-Length": str(total),
                                      "X-Upload-Content-Type": video.mime_type})
        location = response.headers.get("Location")
        if not location:
            raise TransientError(self.channel.name, "YouTube opened no upload session (no Location header)")
        return location

    def _send(self, session: str, video: MediaItem, total: int, offset: int) -> dict[str, Any]:
        """PUT the file from `offset` in chunks; after a broken connection or a 5xx ask the session how
        far it got and continue from there, up to `max_resumes` times."""
        resumes = 0
        with open(video.path, "rb") as fh:
            while True:
                fh.seek(offset)
                chunk = fh.read(self.chunk_bytes)
                content_range = f"bytes {offset}-{offset + len(chunk) - 1}/{total}" if chunk else f"bytes */{total}"
                try:
                    response = self.call("PUT", session, data=chunk, ok=(200, 201, 308),
                                         headers={"Content-Type": video.mime_type, "Content-Range": content_range})
                except TransientError:
                    resumes += 1
                    if resumes > self.max_resumes:
                        raise
                    self.sleep(self.poll_interval_s * resumes)
                    state = self._query(session, total)
                    if state is None:
                        raise TransientError(self.channel.name, "the upload session expired; the next attempt "
                                             "looks for the video before uploading again") from None
                    if isinstance(state, dict):
                        return state
                    offset = state
                    continue
                if response.status_code in (200, 201):
                    return response.json()
                offset = self._committed(response)

    def _query(self, session: str, total: int) -> dict[str, Any] | int | None:
        """Ask an upload session its state: the video (done), the next offset, or None (gone)."""
        response = self.call("PUT", session, data=b"", ok=(200, 201, 308, 404),
                             headers={"Content-Range": f"bytes */{total}"})
        if response.status_code == 404:
            return None
        return response.json() if response.status_code in (200, 201) else self._committed(response)

    @staticmethod
    def _committed(response: requests.Response) -> int:
        match = re.fullmatch(r"bytes=0-(\d+)", response.headers.get("Range", ""))
        return int(match.group(1)) + 1 if match else 0

    def _my_channel(self) -> dict[str, Any]:
        items = self.call("GET", "/youtube/v3/channels", quota="channels.list",
                          params={"part": "snippet,contentDetails", "mine": "true"}).json().get("items") or []
        if not items:
            raise AuthError(self.channel.name, "this Google account has no YouTube channel (youtubeSignupRequired)")
        return items[0]

    def _find_upload(self, marker: str, since: datetime | None) -> str | None:
        """Look through the channel's newest uploads for a video carrying this post's marker tag."""
        uploads = self._my_channel()["contentDetails"]["relatedPlaylists"]["uploads"]
        earliest = since - timedelta(seconds=self.reconcile_skew_s) if since else None
        params: dict[str, Any] = {"part": "snippet,contentDetails", "playlistId": uploads, "maxResults": 50}
        for _ in range(self.max_pages):
            page = self.call("GET", "/youtube/v3/playlistItems", quota="playlistItems.list", params=params).json()
            items = page.get("items") or []
            recent = [i["contentDetails"]["videoId"] for i in items
                      if earliest is None or (parse_expiry(i["snippet"].get("publishedAt")) or earliest) >= earliest]
            if recent:
                found = self.call("GET", "/youtube/v3/videos", quota="videos.list",
                                  params={"part": "snippet", "id": ",".join(recent)}).json().get("items") or []
                for item in found:
                    if marker in (item.get("snippet", {}).get("tags") or []):
                        return str(item["id"])
            if len(recent) < len(items) or not page.get("nextPageToken"):
                return None
            params["pageToken"] = page["nextPageToken"]
        return None

    def _wait_processed(self, video_id: str) -> dict[str, Any]:
        """Poll processing; a failed or rejected upload is refused content. Still processing after
        `max_polls` is fine: the video exists and YouTube finishes it on its own."""
        resource: dict[str, Any] = {"id": video_id}
        for poll in range(self.max_polls):
            items = self.call("GET", "/youtube/v3/videos", quota="videos.list",
                              params={"part": "snippet,status,processingDetails", "id": video_id}).json().get("items")
            if not items:
                raise TransientError(self.channel.name, f"video {video_id} is not listed yet")
            resource = items[0]
            status = resource.get("status", {})
            if status.get("uploadStatus") in ("failed", "rejected", "deleted"):
                reason = status.get("failureReason") or status.get("rejectionReason") or status["uploadStatus"]
                raise ContentRejected(self.channel.name, f"YouTube did not accept video {video_id}: {reason}",
                                      code=str(reason))
            if status.get("uploadStatus") == "processed":
                break
            if poll + 1 < self.max_polls:
                self.sleep(self.poll_interval_s)
        return resource

    def _caption_texts(self, video: MediaItem) -> list[tuple[str, str]]:
        try:
            return [(language, caption_text(path, self.video.caption_formats if self.video else ())[1])
                    for language, path in video.captions]
        except (CaptionError, OSError) as exc:
            raise ContentRejected(self.channel.name, f"captions: {exc}") from None

    def _captions(self, captions: list[tuple[str, str]], handle: dict[str, Any], save_handle: SaveHandle) -> None:
        done = list(handle.get("captions") or [])
        for language, text in captions:
            if language in done:
                continue
            boundary = uuid.uuid4().hex
            meta = json.dumps({"snippet": {"videoId": handle["video_id"], "language": language,
                                           "name": language, "isDraft": False}})
            body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n"
                    f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
                + text.encode("utf-8") + f"\r\n--{boundary}--\r\n".encode()
            try:
                self.call("POST", "/upload/youtube/v3/captions", quota="captions.insert", data=body,
                          params={"part": "snippet", "uploadType": "multipart"},
                          headers={"Content-Type": f"multipart/related; boundary={boundary}"})
            except ContentRejected as exc:
                if exc.code != "captionExists":  # sent before, answer lost: it is there
                    raise
            done.append(language)
            handle["captions"] = done
            save_handle(handle)

    def _thumbnail(self, video: MediaItem, handle: dict[str, Any], save_handle: SaveHandle) -> None:
        """The cover image as the custom thumbnail (a frame-time cover: YouTube picks its own frames).
        A channel that may not set one (not phone-verified) keeps YouTube's; the video stands."""
        if not video.cover_path or "thumbnail" in handle:
            return
        mime = "image/png" if video.cover_path.endswith(".png") else "image/jpeg"
        try:
            self.call("POST", "/upload/youtube/v3/thumbnails/set", quota="thumbnails.set",
                      params={"videoId": handle["video_id"], "uploadType": "media"},
                      data=Path(video.cover_path).read_bytes(), headers={"Content-Type": mime})
            handle["thumbnail"] = "set"
        except (AuthError, ContentRejected) as exc:
            log.warning("%s: the cover was not set as thumbnail: %s", self.channel.name, exc.message)
            handle["thumbnail"] = f"not set: {exc.message}"
        save_handle(handle)

    def _result(self, resource: dict[str, Any], video: MediaItem,
                handle: dict[str, Any] | None = None) -> PublishResult:
        video_id = str(resource["id"])
        short = bool(video.duration_s is not None and video.duration_s <= self.shorts_max_duration_s
                     and video.width and video.height and video.width <= video.height)
        privacy = resource.get("status", {}).get("privacyStatus", "")
        site = str(self.option("watch_url", WATCH_URL)).rstrip("/")  # the public site (the sandbox's own in tests)
        url = f"{site}/{'shorts/' if short else 'watch?v='}{video_id}"
        raw = {"id": video_id, "privacy_status": privacy, "short": short}
        if not self.audited:
            raw["note"] = UNAUDITED
        if handle and "thumbnail" in handle:
            raw["thumbnail"] = handle["thumbnail"]
        published = parse_expiry(resource.get("snippet", {}).get("publishedAt")) or self.clock()
        return PublishResult(remote_id=video_id, url=url, published_at=published, raw=raw)
