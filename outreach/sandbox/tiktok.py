"""TikTok's Content Posting API for photo posts, simulated: creator info, user info, pull-from-URL
init (Direct Post or the inbox flow), publish status, video list/query, and OAuth refresh with a
rotating refresh token.

The inbox flow (`post_mode` MEDIA_UPLOAD, scope `video.upload`) ends at `SEND_TO_USER_INBOX`; at most
5 drafts may wait in a creator's inbox (`spam_risk_too_many_pending_share`); the `finish_in_app`
control plays the creator finishing a draft in the app (it becomes a post, public by default, with
the `description` they write, if given), and
`discard` plays one deleting it. Direct Post needs `video.publish`.

Wire formats follow platforms.md section 7: every answer carries the `{"data", "error": {"code",
"message", "log_id"}}` envelope; `content/init` allows 6 calls a minute per token; the photos are
fetched over real HTTP from their public URLs (a failed pull shows up as `FAILED` with
`photo_pull_failed`); private (SELF_ONLY) posts complete without a public post id and never
appear in `video/list`, which pages newest first by `cursor` (a millisecond create time, as
TikTok documents it) while `has_more`. View and like counts grow with the post's age on the
injected clock.
"""

from __future__ import annotations

import itertools
import math
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import regex

from outreach.sandbox.core import DemoAccount, FaultRule, PlatformSim
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.tiktok_video import VideoUploads

DEMO_ACCESS_TOKEN = "act.sandbox-tiktok-access-token"
DEMO_REFRESH_TOKEN = "rft.sandbox-tiktok-refresh-token"
DEMO_CLIENT_KEY = "sandbox-tiktok-client-key"
DEMO_CLIENT_SECRET = "sandbox-tiktok-client-secret"
DEMO_OPEN_ID = "sandbox-open-id-peer"
DEMO_USERNAME = "doetank.peer"
SCOPES = ("user.info.basic", "video.upload", "video.publish", "video.list")
MAX_PENDING_SHARES = 5  # drafts waiting in a creator's inbox at one time
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
MAX_IMAGES, MAX_IMAGE_BYTES, MAX_TITLE, MAX_DESCRIPTION = 35, 20 * 1024 * 1024, 90, 4000
MAX_LIST_COUNT = 20  # video/list's max_count (1 to 20; 10 when left out)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PHOTO_MAGIC = (b"\xff\xd8\xff",)  # JPEG; WebP is RIFF....WEBP, checked separately

STATUS_CODES = {"ok": 200, "invalid_params": 400, "invalid_file_upload": 400, "access_token_invalid": 401,
                "scope_not_authorized": 401, "url_ownership_unverified": 403,
                "privacy_level_option_mismatch": 403, "spam_risk_too_many_posts": 403,
                "unaudited_client_can_only_post_to_private_accounts": 403, "rate_limit_exceeded": 429,
                "spam_risk_too_many_pending_share": 403}


@dataclass
class SimToken:
    open_id: str
    expires_at: datetime
    scopes: tuple[str, ...] = SCOPES
    revoked: bool = False


@dataclass
class SimPost:
    publish_id: str
    open_id: str
    title: str
    description: str
    privacy_level: str
    post_mode: str
    photo_images: list[str]
    created_at: datetime
    fail_reason: str = ""
    polls: int = 0
    status: str = "PROCESSING_DOWNLOAD"
    post_id: str | None = None
    downloaded_bytes: int = 0
    sizes: list[int] = field(default_factory=list)
    video: dict[str, Any] | None = None  # a FILE_UPLOAD video: sizes, bytes so far, sha256 (tiktok_video.py)


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def is_photo(data: bytes) -> bool:
    return data.startswith(PHOTO_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


class TikTokSim(VideoUploads, PlatformSim):
    """open.tiktokapis.com/v2 for one creator account and one developer app."""

    prefix: ClassVar[str] = "tiktok"

    def __init__(self, *args: Any, audited: bool = True, access_ttl_s: float = 7200,
                 refresh_ttl_s: float = 180 * 86400, init_limit_per_min: int = 6, daily_post_cap: int = 15,
                 polls_to_complete: int = 2, processing_s: float = 60, fetch_timeout_s: float = 3.0,
                 verified_prefixes: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        self.audited = audited
        self.access_ttl = timedelta(seconds=access_ttl_s)
        self.refresh_ttl = timedelta(seconds=refresh_ttl_s)
        self.init_limit_per_min = init_limit_per_min
        self.daily_post_cap = daily_post_cap
        self.polls_to_complete = polls_to_complete
        self.processing = timedelta(seconds=processing_s)
        self.fetch_timeout_s = fetch_timeout_s
        self.verified_prefixes = verified_prefixes  # None: every URL counts as verified
        super().__init__(*args, **kwargs)

    def reset(self) -> None:
        now = self.clock()
        self.tokens = {DEMO_ACCESS_TOKEN: SimToken(DEMO_OPEN_ID, now + self.access_ttl)}
        self.refresh_tokens: dict[str, tuple[str, datetime]] = {
            DEMO_REFRESH_TOKEN: (DEMO_OPEN_ID, now + self.refresh_ttl)}
        self.posts: dict[str, SimPost] = {}
        self.inits: dict[str, deque[datetime]] = {}
        self.refreshes = 0
        self._seq = itertools.count(1)
        self._token: SimToken | None = None

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/v2/oauth/token/", self._oauth_token)
        add("POST", r"/v2/post/publish/creator_info/query/", self._creator_info)
        add("POST", r"/v2/post/publish/content/init/", self._init)
        add("POST", r"/v2/post/publish/status/fetch/", self._status)
        add("POST", r"/v2/video/list/", self._video_list)
        add("POST", r"/v2/video/query/", self._video_query)
        add("GET", r"/v2/user/info/", self._user_info)
        add("PUT", r"/video/", self.upload_chunk)  # the upload_url: authorized by its upload_token
        self.video_routes()

    # -- plumbing -----------------------------------------------------------------------------

    def _envelope(self, data: Any = None, code: str = "ok", message: str = "",
                  status: int | None = None) -> Response:
        log_id = f"2026{next(self._seq):016d}"
        return json_response({"data": data if data is not None else {},
                              "error": {"code": code, "message": message, "log_id": log_id}},
                             status or STATUS_CODES.get(code, 400))

    def handle(self, req: Request) -> Response:
        with self.lock:
            if req.path in ("/v2/oauth/token/", "/video/"):
                return self.router.dispatch(req) or self.not_found(req)
            auth = req.header("authorization")
            token = self.tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
            if token is None or token.revoked or self.clock() >= token.expires_at:
                return self._envelope(code="access_token_invalid", message="The access token is invalid or "
                                      "not found in the request.")
            scopes = self._scopes(req)
            if not set(scopes) & set(token.scopes):
                needed = " or ".join(scopes)
                return self._envelope(code="scope_not_authorized", message="The user did not authorize the "
                                      f"scope required for completing this request ({needed}).")
            self._token = token
            return self.router.dispatch(req) or self._envelope(code="invalid_params", status=404,
                                                               message=f"No endpoint at {req.path}")

    def _scopes(self, req: Request) -> tuple[str, ...]:
        """The scopes an endpoint accepts: the inbox flow needs `video.upload`, Direct Post `video.publish`."""
        if req.path.startswith("/v2/video/"):
            return ("video.list",)
        if req.path.startswith("/v2/user/"):
            return ("user.info.basic",)
        if req.path.startswith("/v2/post/publish/inbox/"):
            return ("video.upload",)
        if req.path.endswith("/content/init/"):
            body = req.json() if isinstance(req.json(), dict) else {}
            return ("video.upload",) if body.get("post_mode") == "MEDIA_UPLOAD" else ("video.publish",)
        if req.path.endswith("/status/fetch/"):
            return ("video.upload", "video.publish")
        return ("video.publish",)

    def not_found(self, req: Request) -> Response:
        return self._envelope(code="invalid_params", status=404, message=f"No endpoint at {req.path}")

    def rate_limited(self, rule: FaultRule) -> Response:
        with self.lock:
            return self._envelope(code="rate_limit_exceeded", message="The API rate limit was exceeded. "
                                  "Please try again later.")

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        token = str(payload.get("token", ""))
        if action == "add_token":
            ttl = timedelta(seconds=float(payload.get("expires_in", self.access_ttl.total_seconds())))
            self.tokens[token] = SimToken(str(payload.get("open_id", DEMO_OPEN_ID)), self.clock() + ttl,
                                          tuple(payload.get("scopes", SCOPES)))
            return json_response({"token_added": True})
        if action in ("revoke", "expire") and (token in self.tokens or token in self.refresh_tokens):
            if token in self.refresh_tokens:
                self.refresh_tokens.pop(token)
            elif action == "revoke":
                self.tokens[token].revoked = True
            else:
                self.tokens[token].expires_at = self.clock()
            return json_response({action: True})
        if action in ("finish_in_app", "discard"):
            with self.lock:
                post = self.posts.get(str(payload.get("publish_id", "")))
                if post is None or post.status != "SEND_TO_USER_INBOX":
                    return json_response({"error": "no draft waiting in the inbox with that publish_id"}, 404)
                if action == "discard":
                    post.status, post.fail_reason = "FAILED", "publish_cancelled"
                    return json_response({"discarded": post.publish_id})
                post.status = "PUBLISH_COMPLETE"
                post.privacy_level = str(payload.get("privacy_level", "PUBLIC_TO_EVERYONE"))
                if "description" in payload:  # the caption the creator writes in the app (a video draft has none)
                    post.title = post.description = str(payload["description"])
                post.created_at = self._create_time(self.clock(), post.open_id)
                if post.privacy_level != "SELF_ONLY":
                    post.post_id = str(7_400_000_000_000_000_000 + next(self._seq))
                return json_response({"post_id": post.post_id})
        if action == "configure":
            allowed = ("audited", "daily_post_cap", "polls_to_complete", "verified_prefixes", "init_limit_per_min",
                       "processing_s")
            unknown = set(payload) - set(allowed)
            if unknown:
                return json_response({"error": f"unknown settings: {', '.join(sorted(unknown))}"}, 400)
            for key, value in payload.items():
                if key == "processing_s":  # how long a post stays PROCESSING_DOWNLOAD (or polls_to_complete)
                    self.processing = timedelta(seconds=float(value))
                    continue
                setattr(self, key, tuple(value) if key == "verified_prefixes" and value is not None else value)
            return json_response({key: self.processing.total_seconds() if key == "processing_s" else getattr(self, key)
                                  for key in allowed})
        return super().control(action, payload)

    def published_texts(self) -> list[str]:
        """Posts, not drafts: a draft waiting in the inbox (or discarded) is not published yet."""
        return [p["description"] for p in self.state()["posts"] if p["status"] == "PUBLISH_COMPLETE"]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-tiktok", "tiktok", f"{url}/tiktok",
                           options={"audited": True, "privacy_level": "PUBLIC_TO_EVERYONE"},  # the sim's app is audited
                           secrets={"token": DEMO_ACCESS_TOKEN, "client_key": DEMO_CLIENT_KEY,
                                    "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})

    def state(self) -> dict[str, Any]:
        with self.lock:
            per_description: dict[str, int] = {}
            for post in self.posts.values():
                self._advance(post)
                per_description[post.description] = per_description.get(post.description, 0) + 1
            return {"posts": [{"publish_id": p.publish_id, "post_id": p.post_id, "status": p.status,
                               "fail_reason": p.fail_reason, "title": p.title, "description": p.description,
                               "privacy_level": p.privacy_level, "post_mode": p.post_mode,
                               "photo_images": p.photo_images, "sizes": p.sizes,
                               "video_sha256": (p.video or {}).get("sha256"),
                               "video_cover_ms": (p.video or {}).get("cover_ms"),
                               "created_at": p.created_at.isoformat()} for p in self.posts.values()],
                    "posts_per_description": per_description, "refreshes": self.refreshes,
                    "live_refresh_tokens": len(self.refresh_tokens)}

    # -- the post state machine ---------------------------------------------------------------

    def _advance(self, post: SimPost, *, poll: bool = False) -> None:
        """PROCESSING_DOWNLOAD until enough status polls or enough sim time, then the outcome."""
        post.polls += int(poll)
        if post.status != "PROCESSING_DOWNLOAD":
            return
        if post.polls < self.polls_to_complete and self.clock() - post.created_at < self.processing:
            return
        if post.fail_reason:
            post.status = "FAILED"
        elif post.post_mode == "MEDIA_UPLOAD":
            post.status = "SEND_TO_USER_INBOX"
        else:
            post.status = "PUBLISH_COMPLETE"
            if post.privacy_level != "SELF_ONLY":
                post.post_id = str(7_400_000_000_000_000_000 + next(self._seq))

    def _pull(self, url: str) -> tuple[int, str]:
        """Fetch one photo like TikTok's downloader: (bytes, fail_reason or "")."""
        try:
            with urllib.request.urlopen(url, timeout=self.fetch_timeout_s) as answer:  # noqa: S310
                data = answer.read(MAX_IMAGE_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError):
            return 0, "photo_pull_failed"
        if len(data) > MAX_IMAGE_BYTES:
            return len(data), "picture_size_check_failed"
        return len(data), "" if is_photo(data) else "file_format_check_failed"

    # -- endpoints ----------------------------------------------------------------------------

    def _oauth_token(self, req: Request) -> Response:
        def oauth_error(error: str, description: str, status: int = 400) -> Response:
            return json_response({"error": error, "error_description": description,
                                  "log_id": f"2026{next(self._seq):016d}"}, status)

        if req.param("grant_type") != "refresh_token":
            return oauth_error("unsupported_grant_type", "Only refresh_token is simulated.")
        if (req.param("client_key"), req.param("client_secret")) != (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET):
            return oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
        now = self.clock()
        known = self.refresh_tokens.pop(req.param("refresh_token") or "", None)  # rotation: single use
        if known is None or now >= known[1]:
            return oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        n = next(self._seq)
        access, refresh = f"act.sandbox-rotated-{n:06d}", f"rft.sandbox-rotated-{n:06d}"
        self.tokens[access] = SimToken(known[0], now + self.access_ttl)
        self.refresh_tokens[refresh] = (known[0], now + self.refresh_ttl)
        self.refreshes += 1
        return json_response({"access_token": access, "expires_in": int(self.access_ttl.total_seconds()),
                              "open_id": known[0], "refresh_token": refresh,
                              "refresh_expires_in": int(self.refresh_ttl.total_seconds()),
                              "scope": ",".join(SCOPES), "token_type": "Bearer"})

    def _privacy_options(self) -> list[str]:
        return list(PRIVACY_LEVELS)

    def _creator_info(self, req: Request) -> Response:
        return self._envelope({"creator_avatar_url": "https://p16.example/avatar.jpeg",
                               "creator_username": DEMO_USERNAME, "creator_nickname": "Doetank Peer (sandbox)",
                               "privacy_level_options": self._privacy_options(), "comment_disabled": False,
                               "duet_disabled": False, "stitch_disabled": True,
                               "max_video_post_duration_sec": 600})

    def _count_init(self) -> Response | None:
        """6 inits a minute per token (photo and video alike)."""
        assert self._token is not None
        now = self.clock()
        window = self.inits.setdefault(self._token.open_id, deque())
        while window and now - window[0] >= timedelta(minutes=1):
            window.popleft()
        if len(window) >= self.init_limit_per_min:
            return self.rate_limited(FaultRule(platform=self.prefix, mode="rate_limit"))
        window.append(now)
        return None

    def _init(self, req: Request) -> Response:
        limited = self._count_init()
        if limited is not None:
            return limited
        body = req.json() if isinstance(req.json(), dict) else {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        images = source.get("photo_images")
        problem = None
        if body.get("media_type") != "PHOTO" or source.get("source") != "PULL_FROM_URL":
            problem = "media_type must be PHOTO and source PULL_FROM_URL"
        elif body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            problem = "post_mode must be DIRECT_POST or MEDIA_UPLOAD"
        elif not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
            problem = f"photo_images must hold 1 to {MAX_IMAGES} URLs"
        elif not 0 <= int(source.get("photo_cover_index", 0)) < len(images):
            problem = "photo_cover_index is out of range"
        elif len(regex.findall(r"\X", str(info.get("title", "")))) > MAX_TITLE:
            problem = f"title is longer than {MAX_TITLE} characters"
        elif len(str(info.get("description", ""))) > MAX_DESCRIPTION:
            problem = f"description is longer than {MAX_DESCRIPTION} characters"
        if problem:
            return self._envelope(code="invalid_params", message=problem)
        privacy = str(info.get("privacy_level", ""))
        refused = self._check_caps(body["post_mode"], privacy, images)
        if refused is not None:
            return refused
        post = self._new_post(body["post_mode"], title=str(info.get("title", "")),
                              description=str(info.get("description", "")), privacy=privacy,
                              publish_id_prefix="p_pub_url~v2", photo_images=[str(u) for u in images])
        for url in post.photo_images:
            size, reason = self._pull(url)
            post.sizes.append(size)
            post.downloaded_bytes += size
            post.fail_reason = post.fail_reason or reason
        return self._envelope({"publish_id": post.publish_id})

    def _check_caps(self, mode: str, privacy: str, urls: Any) -> Response | None:
        """Privacy for Direct Post, verified URLs, pending inbox shares, the daily cap."""
        assert self._token is not None
        now = self.clock()
        if mode == "DIRECT_POST" and privacy not in self._privacy_options():
            return self._envelope(code="privacy_level_option_mismatch", message=f"privacy_level {privacy!r} "
                                  "is not one of the creator's privacy_level_options")
        if mode == "DIRECT_POST" and privacy != "SELF_ONLY" and not self.audited:
            return self._envelope(code="unaudited_client_can_only_post_to_private_accounts",
                                  message="Unaudited clients can only post to private accounts (SELF_ONLY).")
        if self.verified_prefixes is not None and not all(
                str(u).startswith(self.verified_prefixes) for u in urls):
            return self._envelope(code="url_ownership_unverified", message="The photo URL's domain or "
                                  "prefix is not verified for this app.")
        today = sum(1 for p in self.posts.values()
                    if p.open_id == self._token.open_id and p.created_at.date() == now.date())
        # Pending shares are drafts on their way to the inbox or in it; a video init still waiting for its
        # bytes (PROCESSING_UPLOAD here; perhaps never sent) is no draft the creator could finish or delete.
        pending = sum(1 for p in self.posts.values() if p.open_id == self._token.open_id
                      and p.post_mode == "MEDIA_UPLOAD" and p.status in ("PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX"))
        if mode == "MEDIA_UPLOAD" and pending >= MAX_PENDING_SHARES:
            return self._envelope(code="spam_risk_too_many_pending_share", message="The user has too many "
                                  "pending shares in the inbox.")
        if today >= self.daily_post_cap:
            return self._envelope(code="spam_risk_too_many_posts", message="The user has posted too many "
                                  "times today.")
        return None

    def _new_post(self, mode: str, *, title: str, description: str, privacy: str, publish_id_prefix: str,
                  photo_images: list[str] | None = None) -> SimPost:
        assert self._token is not None
        post = SimPost(publish_id=f"{publish_id_prefix}.{7_100_000_000 + next(self._seq)}",
                       open_id=self._token.open_id, title=title, description=description,
                       privacy_level="" if mode == "MEDIA_UPLOAD" else privacy or "SELF_ONLY",
                       post_mode=mode, photo_images=photo_images or [],
                       created_at=self._create_time(self.clock(), self._token.open_id))
        self.posts[post.publish_id] = post
        return post

    def _status(self, req: Request) -> Response:
        post = self.posts.get(str((req.json() or {}).get("publish_id", "")))
        if post is None or post.open_id != self._token.open_id:
            return self._envelope(code="invalid_params", message="publish_id does not exist")
        self._advance(post, poll=True)
        status = "PROCESSING_UPLOAD" if post.video and post.status == "PROCESSING_DOWNLOAD" else post.status
        uploaded = (post.video.get("received") or len(post.video.get("data", b""))) if post.video else 0
        return self._envelope({"status": status, "fail_reason": post.fail_reason if post.status == "FAILED"
                               else "", "publicaly_available_post_id": [int(post.post_id)] if post.post_id
                               else [], "uploaded_bytes": uploaded, "downloaded_bytes": post.downloaded_bytes})

    def _user_info(self, req: Request) -> Response:
        assert self._token is not None
        fields = self._fields(req)
        if fields is None:
            return self._envelope(code="invalid_params", message="fields is required")
        user = {"open_id": self._token.open_id, "union_id": f"union-{self._token.open_id}",
                "avatar_url": "https://p16.example/avatar.jpeg", "display_name": "Doetank Peer (sandbox)"}
        return self._envelope({"user": {k: v for k, v in user.items() if k in fields}})

    def _video(self, post: SimPost, fields: list[str]) -> dict[str, Any]:
        age_h = max(0.0, (self.clock() - post.created_at).total_seconds() / 3600)
        views = int((300 + int(post.post_id or 0) % 700) * (1 - math.exp(-age_h / 8)))
        full = {"id": post.post_id, "title": post.title, "video_description": post.description,
                "create_time": int(post.created_at.timestamp()), "view_count": views,
                "like_count": views // 12, "comment_count": views // 60, "share_count": views // 90,
                "share_url": f"https://www.tiktok.com/@{DEMO_USERNAME}/photo/{post.post_id}"}
        return {k: v for k, v in full.items() if k in fields or k == "id"}

    def _create_time(self, now: datetime, open_id: str) -> datetime:
        """`now`, or a millisecond after the account's latest post: create times are unique to the
        millisecond, so the list cursor (a millisecond timestamp) never splits posts made at one instant."""
        latest = max((p.created_at for p in self.posts.values() if p.open_id == open_id),
                     default=None)
        return now if latest is None or epoch_ms(now) > epoch_ms(latest) else latest + timedelta(milliseconds=1)

    def _public_posts(self) -> list[SimPost]:
        for post in self.posts.values():
            self._advance(post)
        return sorted((p for p in self.posts.values() if p.open_id == self._token.open_id and p.post_id),
                      key=lambda p: p.created_at, reverse=True)

    def _fields(self, req: Request) -> list[str] | None:
        fields = [f for f in (req.param("fields") or "").split(",") if f]
        return fields or None

    def _video_list(self, req: Request) -> Response:
        fields, body = self._fields(req), req.json() or {}
        if fields is None:
            return self._envelope(code="invalid_params", message="fields is required")
        try:
            count = max(1, min(MAX_LIST_COUNT, int(body.get("max_count", 10))))
            cursor = int(body.get("cursor") or 0)
        except (TypeError, ValueError):
            return self._envelope(code="invalid_params", message="max_count and cursor must be integers")
        posts = [p for p in self._public_posts() if not cursor or epoch_ms(p.created_at) < cursor]
        page = posts[:count]
        # The cursor is the last listed post's create time in ms: the next page lists older posts.
        next_cursor = epoch_ms(page[-1].created_at) if page else cursor
        return self._envelope({"videos": [self._video(p, fields) for p in page], "cursor": next_cursor,
                               "has_more": len(posts) > count})

    def _video_query(self, req: Request) -> Response:
        fields, ids = self._fields(req), ((req.json() or {}).get("filters") or {}).get("video_ids") or []
        if fields is None or not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            return self._envelope(code="invalid_params", message="fields and 1 to 20 filters.video_ids "
                                  "are required")
        wanted = {str(i) for i in ids}
        return self._envelope({"videos": [self._video(p, fields) for p in self._public_posts()
                                          if p.post_id in wanted]})
