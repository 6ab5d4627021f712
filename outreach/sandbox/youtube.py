"""YouTube, simulated: Google OAuth refresh, the resumable upload protocol, videos, uploads playlist,
captions, quota, the unaudited-project privacy lock and Analytics reports (video.md section 8).

Wire format as Google speaks it: `POST /upload/youtube/v3/videos?uploadType=resumable` answers 200 with
a session URI in `Location`; `PUT` chunks (all but the last a multiple of 256 KiB) answer 308 Resume
Incomplete with `Range: bytes=0-N` and no `Location`, the last 201 with the video; `PUT` with
`Content-Range: bytes */TOTAL` asks how far it got; an expired session is a 404. Errors use Google's
envelope (`error.errors[0].reason`). Quota: `videos.insert` has its own bucket of calls per day, the
rest shares units per day, both reset at midnight Pacific time. Switches (control actions): the
project's audit (unaudited: every upload ends private), the refresh token's "Testing" lifetime,
processing polls and failures, an upload cut off after N bytes, expired sessions, quota sizes.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from outreach.sandbox import youtube_wire as wire
from outreach.sandbox.core import DemoAccount, FaultRule, PlatformSim
from outreach.sandbox.http import Drop, Request, Response, json_response

DEMO_CLIENT_ID = "sandbox-client.apps.googleusercontent.com"
DEMO_CLIENT_SECRET = "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t"
DEMO_REFRESH_TOKEN = "1//sandbox-youtube-refresh-token"
CHANNEL_ID = "UCsandboxPeer000000000001"
UPLOADS = "UU" + CHANNEL_ID[2:]
CHUNK = 256 * 1024
PACIFIC = ZoneInfo("America/Los_Angeles")
COSTS = {"videos.list": 1, "channels.list": 1, "playlistItems.list": 1, "captions.insert": 400,
         "thumbnails.set": 50, "videos.insert": 0}  # inserts count in their own bucket (video.md 8.4)
PRIVACY = ("private", "unlisted", "public")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimSession:
    id: str
    metadata: dict[str, Any]
    total: int
    created_at: datetime
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class SimVideo:
    id: str
    snippet: dict[str, Any]
    requested_privacy: str
    published_at: datetime
    size: int
    sha256: str
    polls_left: int
    fails: str | None = None  # failureReason once processing ends
    captions: list[dict[str, Any]] = field(default_factory=list)
    thumbnail: str | None = None  # sha256 of the custom thumbnail


class YouTubeSim(PlatformSim):
    prefix: ClassVar[str] = "youtube"

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/token", self._token)
        add("POST", r"/upload/youtube/v3/videos", self._start_or_upload)
        add("PUT", r"/upload/youtube/v3/videos", self._start_or_upload)
        add("POST", r"/upload/youtube/v3/captions", self._caption)
        add("POST", r"/upload/youtube/v3/thumbnails/set", self._thumbnail)
        add("GET", r"/youtube/v3/videos", self._videos)
        add("GET", r"/youtube/v3/channels", self._channels)
        add("GET", r"/youtube/v3/playlistItems", self._playlist_items)
        add("GET", r"/analytics/v2/reports", self._analytics)
        add("GET", r"/watch", self._watch_page)
        add("GET", r"/shorts/(?P<video_id>[\w-]+)", self._watch_page)

    def reset(self) -> None:
        self.sessions: dict[str, SimSession] = {}
        self.videos: dict[str, SimVideo] = {}
        self.access: dict[str, datetime] = {}  # access token -> expiry
        self.refresh_issued_at = self.clock()
        self.config: dict[str, Any] = {
            "project_audited": False, "testing_refresh_ttl_s": None, "access_ttl_s": 3599,
            "processing_polls": 1, "fail_processing": None, "interrupt_after_bytes": None,
            "session_ttl_s": 7 * 86400, "daily_units": 10_000, "daily_inserts": 100,
            "daily_channel_uploads": 50, "analytics_threshold_views": 50, "custom_thumbnails": True}
        self.usage: dict[str, int] = {"units": 0, "inserts": 0, "uploads": 0}
        self.usage_day = self._pacific_day()
        self._seq = itertools.count(1)

    # -- control and reporting --------------------------------------------------------------

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        if action == "set":
            unknown = set(payload) - set(self.config)
            if unknown:
                return json_response({"error": f"unknown settings: {', '.join(sorted(unknown))}"}, 400)
            self.config.update(payload)
            return json_response(self.config)
        if action == "expire_sessions":
            self.sessions.clear()
            return json_response({"expired": True})
        if action == "use_quota":
            self._roll_day()
            self.usage.update({k: int(v) for k, v in payload.items() if k in self.usage})
            return json_response(self.usage)
        return super().control(action, payload)

    def rate_limited(self, rule: FaultRule) -> Response:
        response = wire.google_error(429, "rateLimitExceeded", "The request cannot be completed because you have "
                                "exceeded your quota.", "usageLimits")
        response.headers["Retry-After"] = str(int(rule.retry_after_s))
        return response

    def _watch_page(self, req: Request, video_id: str | None = None) -> Response:
        """The video's public page (`watch_url`), as a permalink capture sees it: no login, no API."""
        video = self.videos.get(video_id or req.param("v") or "")
        if video is None or video.fails is not None:
            return Response(404, "<!DOCTYPE html><title>YouTube</title><p>Video unavailable</p>",
                            {"Content-Type": "text/html; charset=utf-8"})
        if self._privacy(video) == "private":  # YouTube answers 200 with this notice, not the video
            return Response(200, "<!DOCTYPE html><title>YouTube</title><p>Private video. Sign in if you've been "
                            "granted access to this video</p>", {"Content-Type": "text/html; charset=utf-8"})
        title, text = (html.escape(video.snippet.get(k, "")) for k in ("title", "description"))
        page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} - YouTube</title></head>"
                f"<body><h1>{title}</h1><p>{text}</p></body></html>")
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    def published_texts(self) -> list[str]:
        return [v.snippet["description"] for v in self.videos.values() if v.fails is None]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-youtube", "youtube", f"{url}/youtube",
                           options={"token_url": f"{url}/youtube/token", "analytics_url": f"{url}/youtube/analytics",
                                    "watch_url": f"{url}/youtube", "privacy_status": "public"},
                           secrets={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
                                    "refresh_token": DEMO_REFRESH_TOKEN})

    def state(self) -> dict[str, Any]:
        return {"videos": [{"id": v.id, "title": v.snippet["title"], "description": v.snippet["description"],
                            "tags": v.snippet.get("tags", []), "privacy": self._privacy(v), "size": v.size,
                            "sha256": v.sha256, "captions": v.captions, "thumbnail": v.thumbnail,
                            "failure": v.fails}
                           for v in self.videos.values()],
                "sessions": [{"id": s.id, "received": len(s.data), "total": s.total, "video_id": s.video_id}
                             for s in self.sessions.values()],
                "usage": dict(self.usage)}

    # -- OAuth --------------------------------------------------------------------------------

    def _token(self, req: Request) -> Response:
        if req.param("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if (req.param("client_id"), req.param("client_secret")) != (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET):
            return json_response({"error": "invalid_client", "error_description": "The OAuth client was not found."},
                                 401)
        ttl = self.config["testing_refresh_ttl_s"]
        expired = ttl is not None and self.clock() >= self.refresh_issued_at + timedelta(seconds=ttl)
        if req.param("refresh_token") != DEMO_REFRESH_TOKEN or expired:
            return json_response({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                                 400)
        token = f"ya29.sandbox-{next(self._seq)}-{hashlib.sha256(str(self.clock()).encode()).hexdigest()[:12]}"
        self.access[token] = self.clock() + timedelta(seconds=int(self.config["access_ttl_s"]))
        return json_response({"access_token": token, "expires_in": int(self.config["access_ttl_s"]),
                              "scope": "https://www.googleapis.com/auth/youtube.upload "
                                       "https://www.googleapis.com/auth/youtube.force-ssl",
                              "token_type": "Bearer"})

    def _authorised(self, req: Request) -> Response | None:
        token = req.header("authorization").removeprefix("Bearer ").strip()
        expiry = self.access.get(token)
        if expiry is None or self.clock() >= expiry:
            return wire.google_error(401, "authError", "Invalid Credentials", "global")
        return None

    # -- quota --------------------------------------------------------------------------------

    def _pacific_day(self) -> str:
        return self.clock().astimezone(PACIFIC).date().isoformat()

    def _roll_day(self) -> None:
        if self._pacific_day() != self.usage_day:
            self.usage_day, self.usage = self._pacific_day(), {"units": 0, "inserts": 0, "uploads": 0}

    def _charge(self, method: str) -> Response | None:
        self._roll_day()
        if method == "videos.insert":
            if self.usage["inserts"] >= self.config["daily_inserts"]:
                return wire.google_error(403, "quotaExceeded", "The request cannot be completed because you have "
                                    "exceeded your quota.", "youtube.quota")
            self.usage["inserts"] += 1
        cost = COSTS.get(method, 1)
        if self.usage["units"] + cost > self.config["daily_units"]:
            return wire.google_error(403, "quotaExceeded", "The request cannot be completed because you have "
                                "exceeded your quota.", "youtube.quota")
        self.usage["units"] += cost
        return None

    # -- resumable upload -----------------------------------------------------------------------

    def _start_or_upload(self, req: Request) -> Response:
        denied = self._authorised(req)
        if denied is not None:
            return denied
        upload_id = req.param("upload_id")
        if upload_id is None:
            return self._start(req)
        session = self.sessions.get(upload_id)
        if session is None or self.clock() > session.created_at + timedelta(seconds=self.config["session_ttl_s"]):
            self.sessions.pop(upload_id, None)
            return wire.google_error(404, "notFound", "The upload session was not found or has expired.")
        return self._upload(req, session)

    def _start(self, req: Request) -> Response:
        if req.param("uploadType") != "resumable":
            return wire.google_error(400, "invalidParameter", "uploadType must be resumable here")
        body = req.json()
        snippet = (body or {}).get("snippet") or {}
        status = (body or {}).get("status") or {}
        title, description = str(snippet.get("title", "")), str(snippet.get("description", ""))
        if not title.strip() or len(title) > 100 or re.search(r"[<>]", title):
            return wire.google_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        if len(description.encode()) > 5000 or re.search(r"[<>]", description):
            return wire.google_error(400, "invalidDescription", "The request metadata specifies an invalid "
                                "video description.")
        if sum(len(t) for t in snippet.get("tags") or []) > 500:
            return wire.google_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
        if status.get("privacyStatus", "public") not in PRIVACY:
            return wire.google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
        self._roll_day()
        try:
            total = int(req.header("x-upload-content-length"))
        except ValueError:
            return wire.google_error(400, "mediaBodyRequired", "The request does not include the video content.")
        if self.usage["uploads"] >= self.config["daily_channel_uploads"]:
            return wire.google_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they "
                                "may upload.")
        refused = self._charge("videos.insert")
        if refused is not None:
            return refused
        session = SimSession(f"xa298sd_{self.capability(str(next(self._seq)))}", {"snippet": snippet, "status": status}, total,
                             self.clock())
        self.sessions[session.id] = session
        location = (f"http://{req.header('host', '127.0.0.1')}/youtube/upload/youtube/v3/videos"
                    f"?uploadType=resumable&part=snippet,status&upload_id={session.id}")
        return Response(200, b"", {"Location": location, "Content-Type": "text/plain"})

    def _upload(self, req: Request, session: SimSession) -> Response:
        if session.video_id is not None:
            return json_response(self._video_json(self.videos[session.video_id]), 200)
        spec = req.header("content-range")
        if spec.startswith("bytes */"):  # "how far did you get?"
            return self._incomplete(session)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", spec) if spec else None
        start, end = (int(match.group(1)), int(match.group(2))) if match else (0, len(req.body) - 1)
        if match and int(match.group(3)) != session.total or end - start + 1 != len(req.body):
            return wire.google_error(400, "badContent", "Content-Range does not match the request body.")
        if start != len(session.data):
            return self._incomplete(session)  # Google keeps what it has; the client continues from Range
        last = end + 1 == session.total
        if not last and len(req.body) % CHUNK:
            return wire.google_error(400, "invalidChunkSize", "Every chunk but the last must be a multiple of "
                                "262144 bytes.")
        cut = self.config["interrupt_after_bytes"]
        if cut is not None and start <= cut < end + 1:  # the connection breaks part-way through the chunk
            self.config["interrupt_after_bytes"] = None
            session.data += req.body[:cut - start]
            raise Drop
        session.data += req.body
        if not last:
            return self._incomplete(session)
        return self._finish(session)

    def _incomplete(self, session: SimSession) -> Response:
        headers = {"Content-Type": "text/plain", "X-GUploader-UploadID": session.id}
        if session.data:
            headers["Range"] = f"bytes=0-{len(session.data) - 1}"
        return Response(308, b"", headers)

    def _finish(self, session: SimSession) -> Response:
        snippet = dict(session.metadata["snippet"])
        video = SimVideo(id=self._video_id(), snippet=snippet,
                         requested_privacy=str(session.metadata["status"].get("privacyStatus", "public")),
                         published_at=self.clock(), size=len(session.data),
                         sha256=hashlib.sha256(session.data).hexdigest(),
                         polls_left=int(self.config["processing_polls"]),
                         fails=None)
        session.video_id = video.id
        session.data = bytearray()  # the bytes live on as the video
        self.videos[video.id] = video
        self.usage["uploads"] += 1
        body = self._video_json(video)
        body["status"]["privacyStatus"] = video.requested_privacy  # the insert answer shows what was asked
        return json_response(body, 201)

    def _video_id(self) -> str:
        digest = hashlib.sha256(f"yt-{next(self._seq)}".encode()).hexdigest()
        return digest[:11].replace("a", "A").replace("b", "_").replace("c", "-")

    # -- reading --------------------------------------------------------------------------------

    def _privacy(self, video: SimVideo) -> str:
        return video.requested_privacy if self.config["project_audited"] else "private"

    def _video_json(self, video: SimVideo) -> dict[str, Any]:
        if video.polls_left > 0:
            upload_status, processing = "uploaded", "processing"
        elif video.fails:
            upload_status, processing = "failed", "failed"
        else:
            upload_status, processing = "processed", "succeeded"
        views = self._views(video) if upload_status == "processed" else 0
        status: dict[str, Any] = {"uploadStatus": upload_status, "privacyStatus": self._privacy(video),
                                  "license": "youtube", "embeddable": True, "madeForKids": False,
                                  "selfDeclaredMadeForKids": False}
        if video.fails:
            status["failureReason"] = video.fails
        return {"kind": "youtube#video", "etag": hashlib.sha256(video.id.encode()).hexdigest()[:27],
                "id": video.id,
                "snippet": {"publishedAt": iso(video.published_at), "channelId": CHANNEL_ID,
                            "title": video.snippet["title"], "description": video.snippet["description"],
                            "tags": video.snippet.get("tags", []), "categoryId": video.snippet.get("categoryId", "22"),
                            "defaultLanguage": video.snippet.get("defaultLanguage")},
                "status": status,
                "processingDetails": {"processingStatus": processing},
                "statistics": {"viewCount": str(views), "likeCount": str(views // 12),
                               "commentCount": str(views // 40), "favoriteCount": "0"}}

    def _views(self, video: SimVideo) -> int:
        hours = max(0.0, (self.clock() - video.published_at).total_seconds() / 3600)
        return int(40 * hours ** 0.8)

    def _analytics(self, req: Request) -> Response:
        denied = self._authorised(req)
        if denied is not None:
            return denied
        views = {v.id: self._views(v) for v in self.videos.values()}
        return wire.report(req, views, threshold=int(self.config["analytics_threshold_views"]))

    def _videos(self, req: Request) -> Response:
        denied = self._authorised(req) or self._charge("videos.list")
        if denied is not None:
            return denied
        items = []
        for video_id in (req.param("id") or "").split(","):
            video = self.videos.get(video_id)
            if video is None:
                continue
            if video.polls_left > 0:
                video.polls_left -= 1
                if video.polls_left == 0:
                    video.fails = self.config["fail_processing"]
            items.append(self._video_json(video))
        return json_response({"kind": "youtube#videoListResponse", "items": items,
                              "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    def _channels(self, req: Request) -> Response:
        denied = self._authorised(req) or self._charge("channels.list")
        if denied is not None:
            return denied
        return json_response({"kind": "youtube#channelListResponse", "items": [{
            "kind": "youtube#channel", "id": CHANNEL_ID,
            "snippet": {"title": "Doetank Peer (sandbox)", "customUrl": "@doetankpeer"},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}}}]})

    def _playlist_items(self, req: Request) -> Response:
        denied = self._authorised(req) or self._charge("playlistItems.list")
        if denied is not None:
            return denied
        if req.param("playlistId") != UPLOADS:
            return wire.google_error(404, "playlistNotFound", "The playlist identified with the request's "
                                "playlistId parameter cannot be found.")
        size = max(1, min(50, int(req.param("maxResults") or 5)))
        start = int(req.param("pageToken") or 0)
        newest = sorted(self.videos.values(), key=lambda v: v.published_at, reverse=True)
        page = newest[start:start + size]
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": [{
            "kind": "youtube#playlistItem", "id": f"pl-{v.id}",
            "snippet": {"publishedAt": iso(v.published_at), "channelId": CHANNEL_ID, "title": v.snippet["title"],
                        "description": v.snippet["description"], "playlistId": UPLOADS,
                        "resourceId": {"kind": "youtube#video", "videoId": v.id}},
            "contentDetails": {"videoId": v.id, "videoPublishedAt": iso(v.published_at)},
            "status": {"privacyStatus": self._privacy(v)}} for v in page],
            "pageInfo": {"totalResults": len(newest), "resultsPerPage": size}}
        if start + size < len(newest):
            body["nextPageToken"] = str(start + size)
        return json_response(body)

    # -- captions -------------------------------------------------------------------------------

    def _caption(self, req: Request) -> Response:
        denied = self._authorised(req)
        if denied is not None:
            return denied
        upload = wire.caption_upload(req)
        if isinstance(upload, Response):
            return upload
        snippet, file_raw = upload
        video = self.videos.get(str(snippet.get("videoId")))
        if video is None:
            return wire.google_error(404, "videoNotFound", "The video that you are trying to caption cannot be found.")
        language, name = str(snippet.get("language", "")), str(snippet.get("name", ""))
        if any(c["language"] == language and c["name"] == name for c in video.captions):
            return wire.google_error(409, "captionExists", "The video already has a caption track with this "
                                "language and name.")
        refused = self._charge("captions.insert")
        if refused is not None:
            return refused
        caption = {"id": f"AUieDa{next(self._seq)}", "language": language, "name": name,
                   "format": "vtt" if file_raw.lstrip().startswith(b"WEBVTT") else "srt", "bytes": len(file_raw)}
        video.captions.append(caption)
        return json_response({"kind": "youtube#caption", "id": caption["id"], "snippet": {
            "videoId": video.id, "language": language, "name": name, "trackKind": "standard",
            "status": "serving", "isDraft": bool(snippet.get("isDraft", False))}})

    def _thumbnail(self, req: Request) -> Response:
        video = self.videos.get(req.param("videoId") or "")
        refused = (self._authorised(req) or wire.thumbnail_problem(req, video is not None,
                                                                   bool(self.config["custom_thumbnails"]))
                   or self._charge("thumbnails.set"))
        if refused is not None or video is None:
            return refused or wire.google_error(404, "videoNotFound", "The video cannot be found.")
        video.thumbnail = hashlib.sha256(req.body).hexdigest()
        url = f"https://i.ytimg.com/vi/{video.id}/default.jpg"
        return json_response({"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": url}}]})
