"""TikTok photo and video posts (video: tiktok_video.py): the inbox (draft) flow by default, Direct Post for an audited app; status
polling, rotating refresh tokens.

Two modes, chosen per channel. By default (`audited` not set) the photos go to the creator's TikTok
inbox (`post_mode` MEDIA_UPLOAD, scope `video.upload`): TikTok notifies the creator, who finishes
the post in the app. The post becomes `manual_due` ("finish in the TikTok app") and is confirmed
with `outreach confirm`, like a manual post. TikTok lets an app that it has not audited post only
privately, and a private post cannot be confirmed after a timeout, so Direct Post (`post_mode`
DIRECT_POST, scope `video.publish`) is used only for a channel marked `audited = true`.

Exactly-once: TikTok has no idempotency key. The `publish_id` from `content/init` is saved through
`save_handle` at once; from then on only its status is polled, never a second init. If the init
itself is interrupted there is no publish_id. A video then inits again: its bytes go up only after
the publish_id is saved, so TikTok never got them and cannot have posted it. Photos (pulled by TikTok
at init) in the inbox flow are uploaded again: a draft is never public by itself, and the person who
finishes it is told the inbox may hold two. Photos with Direct
Post `reconcile` looks for a public post in `video/list` (which lists posts only after moderation,
so it answers "not yet" for `listing_delay_s`); a private post is never listed, and a public one
not listed by then may still be in moderation: either way a person is asked to check the app
(`NeedsPerson`), and the worker never posts it again by itself.

Refresh tokens rotate: every refresh returns a new pair, saved at once through the credential
store and used from then on.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import regex
import requests

from outreach.connectors.base import Connector, SaveHandle, next_utc_midnight, parse_expiry
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    NeedsPerson,
    RateLimited,
    TransientError,
)
from outreach.connectors.tiktok_video import TikTokVideo
from outreach.domain import AccountInfo, PublishRequest, PublishResult, TextUnit, VideoCapabilities

log = logging.getLogger(__name__)

DONE = ("PUBLISH_COMPLETE",)
POST_LINK = regex.compile(r"^https://(?:www\.)?tiktok\.com/@[^/]+/(?:photo|video)/(\d+)")
IN_INBOX = "SEND_TO_USER_INBOX"
RETRYABLE_FAILURES = ("photo_pull_failed", "video_pull_failed", "internal", "publish_cancelled")
HINTS = {
    "url_ownership_unverified": "verify the media host's domain or URL prefix ([media] public_base_url) "
                                "in the TikTok developer portal",
    "privacy_level_option_mismatch": "set privacy_level to one the account offers (see channels check)",
    "unaudited_client_can_only_post_to_private_accounts": "TikTok has not audited the app: remove `audited` "
                                                          "from the channel (posts go to the TikTok inbox)",
}


class TikTokConnector(TikTokVideo, Connector):
    """A TikTok creator account posting photos or a video (TikTok has no text-only posts)."""

    platform: ClassVar[str] = "tiktok"
    display_name: ClassVar[str] = "TikTok"
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {
        "token_expires_at", "disable_comment", "disable_duet", "disable_stitch", "auto_add_music", "privacy_level",
        "audited"}
    option_types: ClassVar[Mapping[str, type]] = {**Connector.option_types, "audited": bool, "disable_comment": bool,
                                                  "disable_duet": bool, "disable_stitch": bool, "auto_add_music": bool}
    max_text: ClassVar[int] = 4000  # the description; the title is its first line, cut to 90
    text_unit: ClassVar[TextUnit] = TextUnit.CHARACTERS
    max_title: ClassVar[int] = 90
    max_images: ClassVar[int] = 35
    max_image_bytes: ClassVar[int] = 20_000_000
    max_alt_text: ClassVar[int] = 100_000  # photo posts have no alt text field: it is not sent
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/webp")
    requires_media: ClassVar[bool] = True
    image_formats: ClassVar[tuple[str, ...]] = ("JPEG",)  # no PNG
    max_image_width: ClassVar[int] = 1080
    max_image_height: ClassVar[int] = 1920
    card_size: ClassVar[str] = "story"
    # video.md 7, 9.4: at least 3 s, at most the creator's max_video_post_duration_sec (600 s here
    # until creator_info says otherwise), 4 GB, 23-60 fps, short side at least 360 px; no captions API.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=4 * 1024**3, max_duration_s=600, min_duration_s=3, min_short_side=360, min_fps=23,
        max_fps=60, mime_types=("video/mp4", "video/quicktime", "video/webm"), cover="frame")
    token_help: ClassVar[str] = (
        "developers.tiktok.com: an app with Login Kit and the Content Posting API, scopes user.info.basic "
        "video.upload video.list (and video.publish once TikTok has audited the app and the channel says "
        "audited = true); authorize once and set client_key_env, client_secret_env and refresh_token_env "
        "(it rotates; the newest is kept in the credential store). Until then posts go to the TikTok "
        "inbox and a person finishes them in the app.")
    uploads_video: ClassVar[bool] = True
    metric_names: ClassVar[dict[str, str]] = {
        "view_count": "views", "like_count": "likes", "comment_count": "comments", "share_count": "shares"}
    metrics_api_version: ClassVar[str | None] = "v2"  # /v2/video/query/
    metrics_batch_size: ClassVar[int] = 20
    privacy_levels: ClassVar[tuple[str, ...]] = (
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
    init_limit_per_min: ClassVar[int] = 6
    list_count: ClassVar[int] = 20  # video/list's max_count: at most 20 posts a page
    refresh_margin: ClassVar[timedelta] = timedelta(minutes=10)

    poll_interval_s: float = 3.0
    max_polls: int = 20

    def __init__(self, *args: Any, listing_delay_s: float = 1800.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listing_delay_s = listing_delay_s
        self._inits: deque[datetime] = deque()

    # -- tokens -------------------------------------------------------------------------------

    def _can_refresh(self) -> bool:
        stored = self.credentials.load(self.channel.name)
        return bool(stored.get("refresh_token") or self.channel.has_secret("refresh_token")) and \
            self.channel.has_secret("client_key") and self.channel.has_secret("client_secret")

    def _refresh_token(self, stored: dict[str, Any]) -> str:
        """The newest refresh token: the stored one, unless a person has put a new one in the env."""
        if not self.channel.has_secret("refresh_token"):
            return str(stored["refresh_token"])
        env = self.secret("refresh_token")
        fingerprint = hashlib.sha256(env.encode()).hexdigest()[:16]
        if stored.get("refresh_token") and stored.get("seeded_from") == fingerprint:
            return str(stored["refresh_token"])
        return env

    def _access_token(self) -> str:
        stored = self.credentials.load(self.channel.name)
        expires = parse_expiry(stored.get("expires_at"))
        stale = expires is not None and expires - self.clock() <= self.refresh_margin
        if self._can_refresh() and (stale or not (stored.get("access_token") or self.channel.has_secret())):
            self.refresh_credentials(force=True)
            stored = self.credentials.load(self.channel.name)
        return str(stored.get("access_token") or self.secret("token"))

    def refresh_credentials(self, *, force: bool = False) -> datetime | None:
        """Refresh ahead of expiry; the rotated pair is saved in one write before anything else."""
        if not self._can_refresh():
            return None
        name, stored = self.channel.name, self.credentials.load(self.channel.name)
        expires = parse_expiry(stored.get("expires_at"))
        if not force and expires is not None and expires - self.clock() > self.refresh_margin:
            return expires
        refresh = self._refresh_token(stored)
        response = self.request("POST", "/v2/oauth/token/", write=False, ok=(200,), data={
            "client_key": self.secret("client_key"), "client_secret": self.secret("client_secret"),
            "grant_type": "refresh_token", "refresh_token": refresh})
        self._raise_for_envelope(response, write=False)
        body, now = response.json(), self.clock()
        expires = now + timedelta(seconds=int(body["expires_in"]))
        env = self.secret("refresh_token") if self.channel.has_secret("refresh_token") else ""
        self.credentials.save(name, {
            "access_token": body["access_token"], "refresh_token": body["refresh_token"],
            "expires_at": expires.isoformat(), "open_id": body.get("open_id", ""),
            "refresh_expires_at": (now + timedelta(seconds=int(body.get("refresh_expires_in", 0)))).isoformat(),
            "seeded_from": stored.get("seeded_from") if refresh != env else
            hashlib.sha256(env.encode()).hexdigest()[:16]})
        return expires

    # -- HTTP with the envelope ---------------------------------------------------------------

    def call(self, path: str, *, write: bool = False, method: str = "POST", **kwargs: Any) -> dict[str, Any]:
        """POST (or GET) to the API; returns `data`. A rejected token is refreshed once and the call repeated."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._access_token()}",
                       "Content-Type": "application/json; charset=UTF-8"}
            try:
                response = self.request(method, path, write=write, ok=(200,), headers=headers, **kwargs)
                self._raise_for_envelope(response, write=write)
                return dict(response.json().get("data") or {})
            except AuthError as exc:
                if exc.code != "access_token_invalid" or attempt == 2 or not self._can_refresh():
                    raise
                self.refresh_credentials(force=True)
        raise AssertionError("unreachable")

    def _raise_for_envelope(self, response: requests.Response, *, write: bool) -> None:
        body = self.json_or_empty(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str) or (isinstance(error, dict) and error.get("code", "ok") != "ok"):
            exc = self.classify(response, write=write)
            assert exc is not None
            exc.message = self.scrub(exc.message)
            exc.args = (f"{exc.channel}: {exc.message}",)
            raise exc

    # -- the platform calls -------------------------------------------------------------------

    @property
    def direct(self) -> bool:
        """Direct Post only for a channel marked as audited by TikTok; otherwise the inbox flow."""
        return self.channel.options.get("audited", False) is True

    def check(self) -> AccountInfo:
        stored = self.credentials.load(self.channel.name)
        expires = parse_expiry(stored.get("refresh_expires_at")) or parse_expiry(
            self.channel.options.get("token_expires_at"))
        refresh = "; access token refreshed automatically" if self._can_refresh() else \
            "; no refresh token configured: the access token expires within a day"
        if not self.direct:
            user = self.call("/v2/user/info/", method="GET", params={"fields": "open_id,display_name"}).get("user") or {}
            return AccountInfo(account_id=str(user.get("open_id", "")), name=str(user.get("display_name", "")),
                               detail="inbox (draft) flow: a person finishes each post in the TikTok app"
                               + refresh, token_expires_at=expires)
        info = self.call("/v2/post/publish/creator_info/query/")
        options = info.get("privacy_level_options") or []
        privacy = self._privacy_option()
        detail = f"Direct Post, privacy level {privacy}" + ("" if privacy in options else
                                                           f" NOT offered (options: {', '.join(options)})")
        return AccountInfo(account_id=str(info.get("creator_username", "")),
                           name=str(info.get("creator_nickname") or info.get("creator_username", "")),
                           detail=detail + refresh, token_expires_at=expires)

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        handle, video = dict(req.handle), self.video_item(req)
        publish_id = handle.get("publish_id")
        username = handle.get("creator_username")
        uploads = int(handle.get("uploads") or 0)
        if not publish_id and video is not None:
            publish_id, username, uploads, handle = self._init_video(req, save_handle, video)
        elif not publish_id:
            publish_id, username, uploads = self._init(req, save_handle)
        for attempt in range(self.max_polls):
            status = self._status(str(publish_id))
            if video is not None and self.upload_unfinished(handle, status):
                if handle.get("upload_url"):
                    self.upload_rest(handle, video, status)
                else:  # its upload_url stayed on another machine; half a file becomes no post
                    publish_id, username, uploads, handle = self._init_video(req, save_handle, video)
                continue
            if status.get("status") in DONE:
                return self._result(str(publish_id), status, username, kind="video" if video else "photo")
            if status.get("status") == IN_INBOX:
                raise self._in_inbox(req.post_id, uploads)
            if status.get("status") == "FAILED":
                raise self._failure(str(publish_id), status, save_handle)
            if attempt + 1 < self.max_polls:
                self.sleep(self.poll_interval_s)
        raise TransientError(self.channel.name, f"{publish_id} is still processing at TikTok; "
                             "its status will be checked again", ambiguous=True)

    def _init(self, req: PublishRequest, save_handle: SaveHandle) -> tuple[str, Any, int]:
        """`content/init`: the inbox flow (MEDIA_UPLOAD) or, audited, Direct Post. Returns the saved
        publish_id, the creator's username (Direct Post) and how many uploads were started so far."""
        missing = [m.path for m in req.media if not m.public_url]
        if missing or not req.media:
            raise ContentRejected(self.channel.name, "TikTok fetches photos from a public URL; set "
                                  f"[media] public_base_url (no URL for: {', '.join(missing) or 'no image'})")
        text, username = self._description(req), None
        post_info: dict[str, Any] = {"title": self.title(text), "description": text}
        if self.direct:
            info, privacy = self.creator_privacy()
            username = info.get("creator_username")
            post_info.update(privacy_level=privacy,
                             disable_comment=bool(self.channel.options.get("disable_comment", False)),
                             auto_add_music=bool(self.channel.options.get("auto_add_music", True)))
        self._pace_init()
        uploads = int(req.handle.get("uploads") or 0) + 1
        if not self.direct:  # counted before sending: an interrupted upload may still reach the inbox
            save_handle({"uploads": uploads})
        data = self.call("/v2/post/publish/content/init/", write=True, json={
            "post_info": post_info,
            "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                            "photo_images": [m.public_url for m in req.media]},
            "post_mode": "DIRECT_POST" if self.direct else "MEDIA_UPLOAD", "media_type": "PHOTO"})
        publish_id = str(data["publish_id"])
        save_handle({"publish_id": publish_id, "creator_username": username})
        return publish_id, username, uploads

    def creator_privacy(self) -> tuple[dict[str, Any], str]:
        """creator_info (asked before every Direct Post) and the channel's privacy level, if offered."""
        info = self.call("/v2/post/publish/creator_info/query/")
        privacy = self._privacy_option()
        if privacy not in (info.get("privacy_level_options") or []):
            raise ContentRejected(self.channel.name, f"privacy level {privacy} is not offered by this "
                                  f"account ({', '.join(info.get('privacy_level_options') or [])})")
        return info, privacy

    def _in_inbox(self, post_id: int, uploads: int) -> NeedsPerson:
        twice = ("; an earlier upload was interrupted, so the inbox may hold it twice: finish one and "
                 "delete the other" if uploads > 1 else "")
        return NeedsPerson(self.channel.name, "in the TikTok inbox: finish the post in the TikTok app"
                           f"{twice}, then `outreach confirm {post_id} --permalink URL --by NAME`",
                           code=IN_INBOX)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        publish_id = req.handle.get("publish_id")
        if publish_id:
            status = self._status(str(publish_id))
            if self.upload_unfinished(req.handle, status):
                return None  # publish() sends the rest of the bytes to the saved upload_url
            if status.get("status") in DONE:
                return self._result(str(publish_id), status, req.handle.get("creator_username"),
                                    kind="video" if req.handle.get("video_size") else "photo")
            if status.get("status") == IN_INBOX:
                raise self._in_inbox(req.post_id, int(req.handle.get("uploads") or 0))
            if status.get("status") == "FAILED":
                return None  # publish() sees the failure and decides between retry and rejection
            raise TransientError(self.channel.name, f"{publish_id} is still processing", ambiguous=True)
        if not self.direct or self.video_item(req) is not None:
            # Init again: a draft is never public by itself (the person is told of two), and a video
            # never got a byte without its publish_id saved first, so TikTok cannot have published it.
            return None
        check_app = (f"look in the TikTok app: if post {req.post_id} is there, confirm it with its link "
                     "(`outreach confirm`); if not, post it by hand and confirm that")
        if self._privacy_option() == "SELF_ONLY":
            raise NeedsPerson(self.channel.name, "an interrupted post cannot be checked because TikTok does "
                              f"not list private posts; {check_app}", code="unconfirmable")
        since = (req.attempt_started_at or self.clock()) - timedelta(seconds=self.reconcile_skew_s)
        found = self._listed(" ".join(self._description(req).split()), since=since)
        if found is not None:
            return found
        started = req.attempt_started_at
        if started is not None and (self.clock() - started).total_seconds() < self.listing_delay_s:
            raise TransientError(self.channel.name, "the post is not listed (yet): TikTok lists public posts "
                                 "only after moderation; will look again", ambiguous=True)
        raise NeedsPerson(self.channel.name, f"an interrupted post is not listed {self.listing_delay_s / 60:.0f} "
                          f"minutes later, but may still be in TikTok's moderation; {check_app}",
                          code="unconfirmable")

    def _listed(self, text: str, *, since: datetime) -> PublishResult | None:
        """The newest public post with this description created since `since`: `video/list` pages
        newest first, each `cursor` leading to older posts while `has_more`; the paging stops at a
        page that reaches back past `since`, or after `max_pages` pages."""
        body: dict[str, Any] = {"max_count": self.list_count}
        for _ in range(self.max_pages):
            data = self.call("/v2/video/list/", json=body,
                             params={"fields": "id,title,video_description,create_time,share_url"})
            videos = data.get("videos") or []
            for video in videos:
                created = datetime.fromtimestamp(int(video.get("create_time", 0)), UTC)
                if created >= since and " ".join(str(video.get("video_description", "")).split()) == text:
                    return PublishResult(remote_id=str(video["id"]), url=video.get("share_url"),
                                         published_at=created, raw=video)
            oldest = min((int(v.get("create_time", 0)) for v in videos), default=None)
            if (oldest is not None and oldest < since.timestamp()) or not data.get("has_more") \
                    or data.get("cursor") in (None, body.get("cursor")):
                return None
            body["cursor"] = data["cursor"]
        log.warning("%s: read %d pages of video/list without reaching back to %s; an older match is not seen",
                    self.channel.name, self.max_pages, since.isoformat())
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Counts per remote id; a publish_id is first resolved to its public post id, if any, and a
        post confirmed by hand (finished in the app) is found by the id in its link."""
        post_ids: dict[str, str] = {}
        for remote_id in remote_ids:
            linked = POST_LINK.search(remote_id)
            if remote_id.isdigit() or linked:
                post_ids[linked.group(1) if linked else remote_id] = remote_id
                continue
            try:
                public = self._status(remote_id).get("publicaly_available_post_id") or []
            except ContentRejected:  # an unknown or long-expired publish_id: nothing to count
                continue
            if public:  # private posts have none: nothing to count
                post_ids[str(public[0])] = remote_id
        metrics: dict[str, dict[str, int]] = {}
        ids = list(post_ids)
        for start in range(0, len(ids), self.metrics_batch_size):
            data = self.call("/v2/video/query/", params={"fields": "id," + ",".join(self.metric_names)},
                             json={"filters": {"video_ids": ids[start:start + self.metrics_batch_size]}})
            for video in data.get("videos") or []:
                metrics[post_ids[str(video["id"])]] = {k: int(video.get(k) or 0) for k in self.metric_names}
        return metrics

    # -- helpers ------------------------------------------------------------------------------

    @classmethod
    def title(cls, text: str) -> str:
        first = text.strip().split("\n", 1)[0].strip()
        return "".join(regex.findall(r"\X", first)[: cls.max_title])

    def _description(self, req: PublishRequest) -> str:
        return req.text if not req.link or req.link in req.text else f"{req.text}\n\n{req.link}"

    def _privacy_option(self) -> str:
        privacy = str(self.channel.options.get("privacy_level", "SELF_ONLY"))
        if privacy not in self.privacy_levels:
            raise ContentRejected(self.channel.name, f"privacy_level {privacy!r} is not one of "
                                  f"{', '.join(self.privacy_levels)} (channel option)")
        return privacy

    def _pace_init(self) -> None:
        """TikTok allows 6 inits a minute per token: wait for the window here rather than get a 429."""
        now = self.clock()
        while self._inits and (now - self._inits[0]).total_seconds() >= 60:
            self._inits.popleft()
        if len(self._inits) >= self.init_limit_per_min:
            wait = 60 - (now - self._inits[0]).total_seconds()
            raise RateLimited(self.channel.name, f"{self.init_limit_per_min} posts a minute reached",
                              retry_after_s=wait, reset_at=now + timedelta(seconds=wait))
        self._inits.append(now)

    def _status(self, publish_id: str) -> dict[str, Any]:
        return self.call("/v2/post/publish/status/fetch/", json={"publish_id": publish_id})

    def _result(self, publish_id: str, status: dict[str, Any], username: Any, *, kind: str = "photo") -> PublishResult:
        public = status.get("publicaly_available_post_id") or []
        post_id = str(public[0]) if public else None
        url = f"https://www.tiktok.com/@{username}/{kind}/{post_id}" if post_id and username else None
        return PublishResult(remote_id=post_id or publish_id, url=url, published_at=self.clock(),
                             raw={"publish_id": publish_id, **status})

    def _failure(self, publish_id: str, status: dict[str, Any], save_handle: SaveHandle) -> ConnectorError:
        reason, name = str(status.get("fail_reason") or "unknown"), self.channel.name
        if reason in RETRYABLE_FAILURES or reason.startswith("spam_risk_too_many"):
            save_handle({"publish_id": None, "failed_publish_id": publish_id})  # the next try starts over
            if reason.startswith("spam_risk_too_many"):
                reset = next_utc_midnight(self.clock())
                return RateLimited(name, "TikTok's daily post limit for this account is reached",
                                   retry_after_s=(reset - self.clock()).total_seconds(), reset_at=reset,
                                   code=reason)
            return TransientError(name, f"TikTok could not publish {publish_id} ({reason}); will retry",
                                  code=reason)
        return ContentRejected(name, f"TikTok refused the media of {publish_id} ({reason})", code=reason)

    # -- errors -------------------------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        body = self.json_or_empty(response)
        body = body if isinstance(body, dict) else {}
        name, status, error = self.channel.name, response.status_code, body.get("error")
        if isinstance(error, str) and "error_description" in body:  # the OAuth endpoint's own shape
            return AuthError(name, f"TikTok refused the token refresh ({error}: {body.get('error_description', '')})"
                             f"; authorize channel {name} again and update its refresh token",
                             http_status=status, code=error)
        if not isinstance(error, dict):  # not TikTok's envelope (a proxy's or gateway's answer)
            return self.default_classify(response, write=write, message=f"unexpected answer (HTTP {status})")
        code = str(error.get("code") or "") or None
        message = f"{code}: {error.get('message') or f'HTTP {status}'}"
        if code == "access_token_invalid" or (code or "").startswith("scope_"):
            return AuthError(name, f"{message}; check the authorization of channel {name}",
                             http_status=status, code=code)
        if code == "rate_limit_exceeded":
            self.blocked_until = self.clock() + timedelta(minutes=1)
            return RateLimited(name, f"rate limited: {message}", retry_after_s=60, reset_at=self.blocked_until,
                               http_status=status, code=code)
        if code in ("spam_risk_too_many_posts", "reached_active_user_cap"):
            self.blocked_until = next_utc_midnight(self.clock())
            return RateLimited(name, f"{message}; try again tomorrow", reset_at=self.blocked_until,
                               retry_after_s=(self.blocked_until - self.clock()).total_seconds(),
                               http_status=status, code=code)
        if code == "spam_risk_too_many_pending_share":  # video.md 7.4: rate-limited, until a person acts
            self.blocked_until = self.clock() + timedelta(hours=1)
            return RateLimited(name, f"{message}; drafts are waiting in the TikTok inbox: finish or delete them in "
                               "the TikTok app (at most 5 may wait)", reset_at=self.blocked_until,
                               retry_after_s=3600, http_status=status, code=code)
        if code == "internal_error":
            return TransientError(name, message, ambiguous=write, http_status=status, code=code)
        if code in HINTS:
            message = f"{message}; {HINTS[code]}"
        if code and status < 500:
            return ContentRejected(name, message, http_status=status, code=code)
        return self.default_classify(response, write=write, message=message, code=code)
