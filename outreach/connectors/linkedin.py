"""LinkedIn organisation pages: image upload, posts with little-text commentary, share statistics.

Exactly-once: LinkedIn has no idempotency key, but it refuses identical commentary with 422
"Content is a duplicate of urn:li:share:N". A retry or `reconcile` therefore re-sends the identical
post: 201 means it had not gone out and now has (once), 422 adopts the URN, provided that post
was created after this post's first attempt began (less `reconcile_skew_s`); an older
duplicate is a different post with the same text, which LinkedIn will not accept again.
The uploaded image URN is saved through `save_handle` before the post is created.

Hashtags: `#word` at the start of a word becomes LinkedIn's hashtag template `{hashtag|\\#|word}`
so it stays a clickable hashtag; every other reserved character is escaped with a backslash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from outreach.connectors.base import Connector, Limits, SaveHandle, next_utc_midnight, parse_expiry
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
)
from outreach.connectors.linkedin_video import VideoUpload
from outreach.domain import (
    AccountInfo,
    MediaItem,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)

DEFAULT_VERSION = "202610"  # LinkedIn keeps a version for about a year; set linkedin_version to move on
OAUTH_URL = "https://www.linkedin.com/oauth/v2/accessToken"

_RESERVED = re.compile(r"[\\|{}@\[\]()<>#*_~]")
_HASHTAG = re.compile(r"(?<!\S)#([^\W_]+)")
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")
_ORG_URN = re.compile(r"urn:li:organization:\d+")
_VERSION = re.compile(r"\d{4}(0[1-9]|1[0-2])(\.\d{2})?")


def escape_little_text(text: str) -> str:
    """Plain text as LinkedIn "little text": reserved characters escaped, hashtags as templates."""
    def escape(chunk: str) -> str:
        return _RESERVED.sub(lambda m: "\\" + m.group(0), chunk)

    out, pos = [], 0
    for match in _HASHTAG.finditer(text):
        out.append(escape(text[pos:match.start()]))
        out.append("{hashtag|\\#|" + match.group(1) + "}")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)



class LinkedInConnector(Connector):
    """An organisation page, posting as the organisation with an administrator's access token."""

    platform: ClassVar[str] = "linkedin"
    display_name: ClassVar[str] = "LinkedIn"
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {
        "organization_urn", "linkedin_version", "token_expires_at", "client_id", "oauth_url"}
    max_text: ClassVar[int] = 3000
    text_unit: ClassVar[TextUnit] = TextUnit.CHARACTERS
    max_images: ClassVar[int] = 1  # MultiImage (2-20) exists but is a different content type
    max_image_bytes: ClassVar[int] = 8_000_000  # LinkedIn documents pixels (36,152,320), not bytes
    max_image_pixels: ClassVar[int] = 36_152_320
    max_alt_text: ClassVar[int] = 4086
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif")
    max_image_width: ClassVar[int] = 6000
    max_image_height: ClassVar[int] = 6000
    # Videos API (video.md 6, 9.4): 3 s-30 min, 75 KB-500 MB, ratio 1:2.4-2.4:1, MP4 only, SRT captions.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=500 * 1024**2, min_bytes=75 * 1024, max_duration_s=1800, min_duration_s=3,
        min_aspect=1 / 2.4, max_aspect=2.4, caption_formats=("srt",), cover="image")
    uploads_video: ClassVar[bool] = True  # Videos API, in parts (linkedin_video.py)
    video_poll_interval_s: float = 5.0  # processing takes seconds to minutes
    video_max_polls: int = 60
    token_help: ClassVar[str] = (
        "LinkedIn Developer Portal: an app with the Community Management API; sign in as a page "
        "ADMINISTRATOR with scopes w_organization_social r_organization_social rw_organization_admin. "
        "Access tokens last 60 days (set token_expires_at so status warns); refresh tokens are only "
        "issued to Marketing (MDP) partners.")
    metric_names: ClassVar[dict[str, str]] = {
        "impressionCount": "views", "uniqueImpressionsCount": "reach", "likeCount": "likes",
        "commentCount": "comments", "shareCount": "shares", "clickCount": "clicks"}
    metrics_batch_size: ClassVar[int] = 20
    refresh_margin: ClassVar[timedelta] = timedelta(days=7)

    # -- options and HTTP ---------------------------------------------------------------------

    @property
    def organization(self) -> str:
        urn = str(self.channel.options.get("organization_urn", ""))
        if not _ORG_URN.fullmatch(urn):
            raise ContentRejected(self.channel.name, f"channel option organization_urn must look like "
                                  f"urn:li:organization:12345 (got {urn!r})")
        return urn

    @property
    def version(self) -> str:
        version = str(self.channel.options.get("linkedin_version", DEFAULT_VERSION))
        if not _VERSION.fullmatch(version):
            raise ContentRejected(self.channel.name, f"channel option linkedin_version must be YYYYMM "
                                  f"(got {version!r})")
        return version

    def _access_token(self) -> str:
        stored = self.credentials.load(self.channel.name).get("access_token")
        return str(stored or self.secret("token"))

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._access_token()}", "LinkedIn-Version": self.version,
                   "X-Restli-Protocol-Version": "2.0.0"}
        headers.update(kwargs.pop("headers", {}))
        return self.request(method, path, headers=headers, **kwargs)

    @classmethod
    def validate(cls, text: str, media: Iterable[MediaItem] = (), *, limits: Limits | None = None,
                 sizes: Mapping[str, int] | None = None) -> list[str]:
        media = list(media)
        problems = super().validate(text, media, limits=limits, sizes=sizes)
        for item in media:
            if item.width and item.height and item.width * item.height > cls.max_image_pixels:
                problems.append(f"{item.path}: {item.width}x{item.height} pixels; linkedin allows "
                                f"{cls.max_image_pixels:,} pixels in all")
        return problems

    # -- the platform calls -------------------------------------------------------------------

    def check(self) -> AccountInfo:
        org = self.organization
        body = self.call("GET", f"/rest/organizations/{org.rsplit(':', 1)[1]}").json()
        expires = self.token_expires_at()
        if expires is None:
            detail = "token expiry unknown: set token_expires_at so status can warn before the 60 days end"
        else:
            days = (expires - self.clock()).days
            detail = (f"token expires {expires.date().isoformat()} (in {days} days)" if days >= 0
                      else f"token expired on {expires.date().isoformat()}: re-authorize")
        return AccountInfo(account_id=org, name=str(body.get("localizedName") or org),
                           detail=f"LinkedIn-Version {self.version}; {detail}", token_expires_at=expires)

    def token_expires_at(self) -> datetime | None:
        stored = self.credentials.load(self.channel.name).get("expires_at")
        return parse_expiry(stored) or parse_expiry(self.channel.options.get("token_expires_at"))

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        if req.media and req.media[0].mime_type.startswith("video/"):
            if len(req.media) > 1:
                raise ContentRejected(self.channel.name, "LinkedIn takes one video per post, with no images")
            urn = VideoUpload(self).media_id(req.media[0], req.language, dict(req.handle), save_handle)
            return self._post(req, (urn, ""))
        image = self._image(req, save_handle)
        return self._post(req, image)

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        """Re-send the identical post: 422 duplicate adopts the earlier one, 201 posts it now, once."""
        image = None
        if req.media and req.media[0].mime_type.startswith("video/"):
            video = req.handle.get("video")
            urn = str(video.get("urn") or "") if isinstance(video, dict) else ""
            if not urn or VideoUpload(self).status(urn) != "AVAILABLE":
                return None  # the flow stopped before the post could be sent
            image = (urn, "")
        elif req.media:
            urn = str(req.handle.get("image_urn") or "")
            if not urn or self._image_status(urn, missing_ok=True) != "AVAILABLE":
                return None  # the flow stopped before the post could be sent
            image = (urn, req.media[0].alt_text)
        return self._post(req, image)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        metrics: dict[str, dict[str, int]] = {}
        org = quote(self.organization, safe="")
        for start in range(0, len(remote_ids), self.metrics_batch_size):
            batch = remote_ids[start:start + self.metrics_batch_size]
            query = f"q=organizationalEntity&organizationalEntity={org}"
            for param, kind in (("shares", ":share:"), ("ugcPosts", ":ugcPost:")):
                urns = [quote(urn, safe="") for urn in batch if kind in urn]
                if urns:
                    query += f"&{param}=List({','.join(urns)})"
            if "List(" not in query:
                continue  # without a list LinkedIn answers with the page's lifetime totals
            body = self.call("GET", f"/rest/organizationalEntityShareStatistics?{query}").json()
            for element in body.get("elements", []):
                urn = element.get("share") or element.get("ugcPost")
                stats = element.get("totalShareStatistics") or {}
                if urn:
                    metrics[urn] = {k: int(v) for k, v in stats.items()
                                    if isinstance(v, int) and not isinstance(v, bool)}
        return metrics

    def refresh_credentials(self) -> datetime | None:
        """Marketing (MDP) partners only: swap the refresh token for a new 60-day access token."""
        name, stored = self.channel.name, self.credentials.load(self.channel.name)
        refresh = stored.get("refresh_token") or (
            self.secret("refresh_token") if self.channel.has_secret("refresh_token") else None)
        if not refresh:
            return None  # re-authorize by hand every 60 days; check() reports the expiry
        expires = parse_expiry(stored.get("expires_at"))
        if expires is not None and expires - self.clock() > self.refresh_margin:
            return expires
        client_id = self.channel.options.get("client_id") or self.secret("client_id")
        body = self.request("POST", str(self.channel.options.get("oauth_url", OAUTH_URL)), write=False,
                            ok=(200,), data={"grant_type": "refresh_token", "refresh_token": refresh,
                                             "client_id": client_id,
                                             "client_secret": self.secret("client_secret")}).json()
        now = self.clock()
        expires = now + timedelta(seconds=int(body["expires_in"]))
        record = {"access_token": body["access_token"], "expires_at": expires.isoformat(),
                  "refresh_token": body.get("refresh_token") or refresh}
        if body.get("refresh_token_expires_in"):
            record["refresh_expires_at"] = (now + timedelta(seconds=int(body["refresh_token_expires_in"]))
                                            ).isoformat()
        self.credentials.save(name, record)
        return expires

    # -- image and post -----------------------------------------------------------------------

    def _image(self, req: PublishRequest, save_handle: SaveHandle) -> tuple[str, str] | None:
        if not req.media:
            return None
        if len(req.media) > self.max_images:
            raise ContentRejected(self.channel.name, f"{len(req.media)} images; linkedin allows 1")
        item = req.media[0]
        saved = req.handle.get("image_urn")
        if saved and self._image_status(str(saved), missing_ok=True) in ("PROCESSING", "AVAILABLE"):
            self._wait_available(str(saved))
            return str(saved), item.alt_text
        urn = self._upload(item)
        save_handle({"image_urn": urn})
        self._wait_available(urn)
        return urn, item.alt_text

    def _upload(self, item: MediaItem) -> str:
        """initializeUpload, then PUT the bytes. Not ambiguous: a lost upload only orphans an image."""
        value = self.call("POST", "/rest/images?action=initializeUpload", write=False,
                          json={"initializeUploadRequest": {"owner": self.organization}}).json()["value"]
        self.call("PUT", value["uploadUrl"], write=False, data=Path(item.path).read_bytes(),
                  headers={"Content-Type": item.mime_type})
        return str(value["image"])

    def _image_status(self, urn: str, *, missing_ok: bool = False) -> str | None:
        try:
            return self.call("GET", f"/rest/images/{quote(urn, safe='')}").json().get("status")
        except ContentRejected as exc:
            if missing_ok and exc.http_status == 404:
                return None
            raise

    def _wait_available(self, urn: str) -> None:
        for attempt in range(self.max_polls):
            status = self._image_status(urn)
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise ContentRejected(self.channel.name, f"LinkedIn could not process the image ({urn}); "
                                      "use a JPEG, PNG or GIF under 36,152,320 pixels")
            if attempt + 1 < self.max_polls:
                self.sleep(self.poll_interval_s)
        raise TransientError(self.channel.name, f"image {urn} is still processing; will retry")

    def _post(self, req: PublishRequest, image: tuple[str, str] | None) -> PublishResult:
        text = req.text if not req.link or req.link in req.text else f"{req.text}\n\n{req.link}"
        body: dict[str, Any] = {
            "author": self.organization, "commentary": escape_little_text(text), "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if image is not None:  # a video has no alt text on LinkedIn
            body["content"] = {"media": {"id": image[0], **({"altText": image[1]} if image[1] else {})}}
        try:
            response = self.call("POST", "/rest/posts", json=body, ok=(201,))
        except ContentRejected as exc:
            duplicate = _POST_URN.search(exc.message) if exc.code == "DUPLICATE_POST" else None
            if duplicate is None:
                raise
            return self._adopt(duplicate.group(0), req)
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise TransientError(self.channel.name, "LinkedIn answered 201 without x-restli-id", ambiguous=True)
        return PublishResult(remote_id=urn, url=self.post_url(urn), published_at=self.clock(),
                             raw={"x-restli-id": urn})

    def _adopt(self, urn: str, req: PublishRequest) -> PublishResult:
        """Take over a duplicate's URN if it was created by one of this post's attempts."""
        try:
            created_ms = self.call("GET", f"/rest/posts/{quote(urn, safe='')}").json().get("createdAt")
        except (ContentRejected, AuthError):
            created_ms = None  # unreadable: LinkedIn says the content is there, so do not post again
        created = datetime.fromtimestamp(created_ms / 1000, UTC) if created_ms else None
        earliest = req.attempt_started_at - timedelta(seconds=self.reconcile_skew_s) \
            if req.attempt_started_at else self.clock() - timedelta(days=1)
        if created is not None and created < earliest:
            raise ContentRejected(self.channel.name, f"LinkedIn refuses this text: it duplicates {urn}, "
                                  f"posted {created.date().isoformat()}; change the text",
                                  http_status=422, code="DUPLICATE_POST")
        return PublishResult(remote_id=urn, url=self.post_url(urn), published_at=created,
                             raw={"adopted_duplicate": urn})

    @staticmethod
    def post_url(urn: str) -> str:
        return f"https://www.linkedin.com/feed/update/{urn}/"

    # -- errors and rate limits ---------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        body = self.json_or_empty(response)
        body = body if isinstance(body, dict) else {}
        name, status = self.channel.name, response.status_code
        if isinstance(body.get("error"), str) and "error_description" in body:  # the OAuth endpoint
            return AuthError(name, f"LinkedIn refused the token refresh ({body['error']}: "
                             f"{body.get('error_description', '')}); re-authorize channel {name}",
                             http_status=status, code=body["error"])
        code = str(body["code"]) if body.get("code") else None
        message = str(body.get("message") or f"HTTP {status}")
        if status == 426 or code in ("VERSION_MISSING", "NONEXISTENT_VERSION") or (
                status == 400 and "version" in message.lower()):
            return ContentRejected(name, f"LinkedIn does not accept API version {self.version} ({message}); "
                                   f"set linkedin_version = \"YYYYMM\" in [channels.{name}] to a month "
                                   "from the last year", http_status=status, code=code)
        if status == 401:
            service = body.get("serviceErrorCode")
            return AuthError(name, f"LinkedIn rejected the access token for channel {name} "
                             f"({code or 'HTTP 401'}{f', serviceErrorCode {service}' if service else ''}); "
                             "tokens last 60 days: re-authorize, update the env var and token_expires_at",
                             http_status=401, code=code)
        if status == 422 and (code == "DUPLICATE_POST" or "duplicate of" in message):
            return ContentRejected(name, message, http_status=422, code="DUPLICATE_POST")
        if status == 429:
            reset = next_utc_midnight(self.clock())
            return RateLimited(name, f"LinkedIn's daily limit is reached ({message}); it resets at 00:00 UTC",
                               retry_after_s=(reset - self.clock()).total_seconds(), reset_at=reset,
                               http_status=429, code=code)
        return self.default_classify(response, write=write,
                                     message=f"{code}: {message}" if code else message, code=code)

    def note_rate_limit(self, response: requests.Response) -> None:
        """LinkedIn sends no rate-limit headers: a 429 blocks the channel until 00:00 UTC."""
        if response.status_code == 429:
            self.blocked_until = next_utc_midnight(self.clock())
        elif response.status_code < 400:
            self.blocked_until = None
