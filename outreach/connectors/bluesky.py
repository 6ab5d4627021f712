"""Bluesky (AT Protocol XRPC): a persisted app-password session, blobs, posts with a client-chosen key.

A session is created once and then refreshed (tokens rotate; both are saved together through the
credential store), never re-created per job: `createSession` is limited to a few hundred a day.
Every post gets a record key (a TID) generated here and persisted before `createRecord`, so after a
timeout `getRecord` answers "did it post?" exactly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import regex
import requests
from PIL import Image

from outreach.connectors.base import Connector, Limits, SaveHandle, parse_expiry
from outreach.connectors.bluesky_video import VideoUpload, video_error
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
)
from outreach.domain import (
    AccountInfo,
    MediaItem,
    PublishRequest,
    PublishResult,
    TextUnit,
    VideoCapabilities,
)

POST = "app.bsky.feed.post"
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing",
                          "AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired"})
_TOO_LARGE = frozenset({"PayloadTooLarge", "BlobTooLarge"})
# Bluesky's own detection (social-app richtext): links with a scheme, hashtags after a space.
_LINK = re.compile(r"(?:^|(?<=[\s(]))(https?://\S+)")
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+[^\s{_INVISIBLE}]*)")
_last_tid = 0


def new_tid(moment: datetime) -> str:
    """A TID record key: 53 bits of microseconds and 10 random bits, base32-sortable, 13 chars.

    Strictly increasing within this process even when the (injected) clock stands still.
    """
    global _last_tid
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    value = max((micros << 10) | random.getrandbits(10), _last_tid + 1) & ((1 << 63) - 1)
    _last_tid = value
    return "".join(_B32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying it (we only schedule refreshes with it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return None


def _bytes_at(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def facets(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets with UTF-8 byte offsets (start inclusive, end exclusive)."""
    found: list[dict[str, Any]] = []
    for match in _LINK.finditer(text):
        uri = match.group(1).rstrip(".,;:!?\"'")
        if uri.endswith(")") and "(" not in uri:
            uri = uri[:-1]
        start = match.start(1)
        found.append({"index": {"byteStart": _bytes_at(text, start), "byteEnd": _bytes_at(text, start + len(uri))},
                      "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})
    for match in _TAG.finditer(text):
        tag = regex.sub(r"\p{P}+$", "", match.group(1))
        if not tag or len(regex.findall(r"\X", tag)) > 64:
            continue
        start = match.start(1) - 1  # include the '#'
        end = match.start(1) + len(tag)
        found.append({"index": {"byteStart": _bytes_at(text, start), "byteEnd": _bytes_at(text, end)},
                      "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return sorted(found, key=lambda f: f["index"]["byteStart"])


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class BlueskyConnector(Connector):
    """Any AT Protocol PDS with an app password (bsky.social, a self-hosted PDS, the sandbox)."""

    platform: ClassVar[str] = "bluesky"
    display_name: ClassVar[str] = "Bluesky"
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {
        "identifier", "handle", "max_image_bytes", "video_service_url", "video_service_did"}
    option_types: ClassVar[Mapping[str, type]] = {**Connector.option_types, "max_image_bytes": int}
    max_text: ClassVar[int] = 300
    text_unit: ClassVar[TextUnit] = TextUnit.GRAPHEMES
    max_text_bytes: ClassVar[int] = 3000
    max_images: ClassVar[int] = 4
    # The current lexicon allows 2,000,000; older PDSes and appviews still enforce 1,000,000.
    # Channels on a current PDS may raise it with the option `max_image_bytes`.
    max_image_bytes: ClassVar[int] = 1_000_000
    max_alt_text: ClassVar[int] = 2000  # the lexicon sets none; Bluesky's app stops at 2000
    image_mime_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/webp")
    max_image_width: ClassVar[int] = 2000
    max_image_height: ClassVar[int] = 2000
    # app.bsky.embed.video (video.md 2.1, 9.4): MP4 up to 300 MB (2026-08 lexicon), 10 min in the app,
    # WebVTT captions (20 languages, 20,000 bytes each); the service draws the thumbnail.
    video: ClassVar[VideoCapabilities | None] = VideoCapabilities(
        max_bytes=300_000_000, max_duration_s=600, caption_formats=("vtt",), max_caption_languages=20,
        max_caption_bytes=20_000)  # app.bsky.embed.video#caption: a WebVTT blob of at most 20,000 bytes
    uploads_video: ClassVar[bool] = True  # through the video service (bluesky_video.py)
    video_poll_interval_s: float = 2.0  # the service encodes for seconds to minutes (video.md 2.1)
    video_max_polls: int = 150
    video_multipart_min_bytes: int = 16 * 1024 * 1024  # from here in parts, as the Bluesky app does (video.md 2.2)
    token_help: ClassVar[str] = (
        "In the Bluesky app: Settings > Privacy and security > App passwords > Add; put the handle "
        "in `identifier` and the app password in the env var named by `password_env`.")
    # A quote is a share with a comment; it stays unmapped (raw `quoteCount` is still returned
    # and stored) so `shares` means reposts here, as it means boosts on Mastodon.
    metric_names: ClassVar[dict[str, str]] = {
        "likeCount": "likes", "repostCount": "shares", "replyCount": "comments"}
    metrics_batch_size: ClassVar[int] = 25
    login_reuse_s: ClassVar[float] = 60.0  # `channels check` logs in afresh, at most once a minute

    # -- limits -------------------------------------------------------------------------------

    def limits(self) -> Limits:
        return self.with_options(replace(
            self.declared_limits(),
            max_image_bytes=int(self.channel.options.get("max_image_bytes", self.max_image_bytes))))

    @classmethod
    def validate(cls, text: str, media: Iterable[MediaItem] = (), *,
                 limits: Limits | None = None, sizes: Mapping[str, int] | None = None) -> list[str]:
        problems = super().validate(text, media, limits=limits, sizes=sizes)
        size = len(text.encode("utf-8"))
        if size > cls.max_text_bytes:
            problems.append(f"text is {size} bytes long; {cls.platform} allows {cls.max_text_bytes}")
        return problems

    # -- the session --------------------------------------------------------------------------

    def secret_strings(self) -> list[str]:
        """The app password and the two session tokens (the did and handle are not secret)."""
        saved = self.credentials.load(self.channel.name)
        tokens = [saved[k] for k in ("access_jwt", "refresh_jwt") if isinstance(saved.get(k), str)]
        return [*self.channel.secret_values(), *tokens]

    def _identifier(self) -> str:
        identifier = self.channel.options.get("identifier")
        if not identifier:
            raise AuthError(self.channel.name, f"channel {self.channel.name}: set `identifier` (the handle)")
        return str(identifier)

    def _session(self) -> dict[str, Any]:
        saved = self.credentials.load(self.channel.name)
        if saved.get("access_jwt") and saved.get("identifier") == self._identifier():
            return saved
        return self._login()

    def _login(self) -> dict[str, Any]:
        password = self.secret("password")
        response = self.request("POST", "/xrpc/com.atproto.server.createSession", write=False, ok=(200,),
                                json={"identifier": self._identifier(), "password": password})
        return self._store(response.json())

    def _refresh(self) -> dict[str, Any]:
        """Rotate the session with the refresh token; a new login only when that is refused."""
        saved = self.credentials.load(self.channel.name)
        if saved.get("refresh_jwt") and saved.get("identifier") == self._identifier():
            try:
                response = self.request("POST", self._pds(saved, "com.atproto.server.refreshSession"),
                                        write=False, ok=(200,),
                                        headers={"Authorization": f"Bearer {saved['refresh_jwt']}"})
                return self._store(response.json())
            except AuthError:
                pass  # expired or revoked: fall through to createSession
        return self._login()

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        """Save the new token pair, did, handle and PDS endpoint (from the DID document) in one write."""
        services = (body.get("didDoc") or {}).get("service") or []
        pds = next((s.get("serviceEndpoint") for s in services
                    if isinstance(s, dict) and str(s.get("id", "")).endswith("#atproto_pds")), None)
        known = self.credentials.load(self.channel.name).get("pds")  # a refresh may omit the didDoc
        saved = {"identifier": self._identifier(), "did": body["did"], "handle": body.get("handle", ""),
                 "pds": str(pds or known or self.channel.base_url).rstrip("/"),
                 "access_jwt": body["accessJwt"], "refresh_jwt": body["refreshJwt"]}
        self.credentials.save(self.channel.name, saved)
        return saved

    def pds_url(self) -> str:
        return str(self._session().get("pds") or self.channel.base_url)

    def session_did(self) -> str:
        return str(self._session()["did"])

    def _pds(self, saved: Mapping[str, Any], nsid: str) -> str:
        return f"{saved.get('pds') or self.channel.base_url}/xrpc/{nsid}"

    def xrpc(self, method: str, nsid: str, **kwargs: Any) -> requests.Response:
        """An authenticated call to the account's PDS; on ExpiredToken refresh once and retry."""
        saved, extra = self._session(), kwargs.pop("headers", {})
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {saved['access_jwt']}", **extra}
            if hasattr(kwargs.get("data"), "seek"):  # a streamed file is sent again from its start
                kwargs["data"].seek(0)
            try:
                return self.request(method, self._pds(saved, nsid), headers=headers, ok=(200,), **kwargs)
            except AuthError as exc:
                if exc.code != "ExpiredToken" or attempt == 2:
                    raise
                saved = self._refresh()
        raise AssertionError("unreachable")

    def refresh_credentials(self) -> datetime | None:
        """Rotate the session now (the token job calls this); returns when the new session lapses."""
        saved = self._refresh() if self.credentials.load(self.channel.name).get("refresh_jwt") else self._login()
        return jwt_expiry(saved["refresh_jwt"])

    def check_login(self) -> AccountInfo:
        """A fresh `createSession` with the app password in the environment (the stored session
        would hide a password just changed or revoked); a login made in the last
        `login_reuse_s` with the same password is reused, to stay within the login rate limit."""
        password = self.secret("password")
        fingerprint = hashlib.sha256(password.encode()).hexdigest()[:16]
        saved, now = self.credentials.load(self.channel.name), self.clock()
        logged_in = parse_expiry(saved.get("login_at"))
        if saved.get("password_fp") == fingerprint and logged_in is not None and \
                (now - logged_in).total_seconds() < self.login_reuse_s:
            try:
                return self.check()
            except AuthError:
                pass  # the session was revoked meanwhile: try the password itself
        saved = self._login()
        self.credentials.save(self.channel.name, {**saved, "password_fp": fingerprint, "login_at": now.isoformat()})
        return self.check()

    # -- the platform calls -------------------------------------------------------------------

    def check(self) -> AccountInfo:
        body = self.xrpc("GET", "com.atproto.server.getSession").json()
        saved = self.credentials.load(self.channel.name)
        expires = jwt_expiry(saved.get("refresh_jwt", ""))
        video = "; email not confirmed: Bluesky refuses its video uploads" if body.get("emailConfirmed") is False else ""
        return AccountInfo(account_id=body["did"], name=f"@{body.get('handle', '')}",
                           detail=f"PDS {saved.get('pds')}; session refreshed automatically{video}",
                           token_expires_at=expires)

    def publish(self, req: PublishRequest, *, save_handle: SaveHandle) -> PublishResult:
        saved = self._session()
        rkey = req.handle.get("rkey")
        if rkey:
            done = self._get_record(str(req.handle.get("repo") or saved["did"]), str(rkey))
            if done is not None:
                return done
        else:
            rkey = new_tid(self.clock())
        if any(item.mime_type.startswith("video/") for item in req.media):
            record = self._record(req, [])
            record["embed"] = VideoUpload(self).for_post(req, {"rkey": rkey, "repo": saved["did"]}, save_handle)
        else:
            blobs = [self._upload(item) for item in req.media]
            save_handle({"rkey": rkey, "repo": saved["did"],
                         "blobs": [{"cid": b["ref"]["$link"], "mimeType": b["mimeType"], "size": b["size"]}
                                   for b, _ in blobs]})
            record = self._record(req, blobs)
        body = {"repo": saved["did"], "collection": POST, "rkey": rkey, "record": record}
        try:
            created = self.xrpc("POST", "com.atproto.repo.createRecord", json=body).json()
        except TransientError as exc:
            if exc.http_status != 500:
                raise
            # A used record key also answers 500: the post may exist from an earlier attempt.
            done = self._get_record(saved["did"], str(rkey))
            if done is None:
                raise
            return done
        return self._result(created["uri"], record, cid=created.get("cid"))

    def reconcile(self, req: PublishRequest) -> PublishResult | None:
        rkey = req.handle.get("rkey")
        if not rkey:
            return None  # the key is saved before createRecord: without one, nothing was sent
        repo = req.handle.get("repo") or self._session()["did"]
        return self._get_record(str(repo), str(rkey))

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Counts per at:// uri from `app.bsky.feed.getPosts`; deleted posts are absent."""
        metrics: dict[str, dict[str, int]] = {}
        for start in range(0, len(remote_ids), self.metrics_batch_size):
            batch = list(remote_ids[start:start + self.metrics_batch_size])
            body = self.xrpc("GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in batch]).json()
            for post in body.get("posts", []):
                metrics[post["uri"]] = {k: int(v) for k, v in post.items()
                                        if k.endswith("Count") and isinstance(v, int)}
        return metrics

    # -- steps --------------------------------------------------------------------------------

    def _upload(self, item: MediaItem) -> tuple[dict[str, Any], tuple[int, int] | None]:
        """Send the image bytes; returns the blob reference and the image's pixel size."""
        data = Path(item.path).read_bytes()
        limit = self.limits().max_image_bytes
        if len(data) > limit:
            raise ContentRejected(self.channel.name, f"{item.path}: {len(data)} bytes; "
                                  f"{self.platform} allows {limit}", code="BlobTooLarge")
        response = self.xrpc("POST", "com.atproto.repo.uploadBlob", data=data, write=False,
                             headers={"Content-Type": item.mime_type})
        size = (item.width, item.height) if item.width and item.height else _pixels(data)
        return response.json()["blob"], size

    def _record(self, req: PublishRequest,
                blobs: list[tuple[dict[str, Any], tuple[int, int] | None]]) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST, "text": req.text, "createdAt": _iso(self.clock())}
        if req.language:
            record["langs"] = [req.language]
        found = facets(req.text)
        if found:
            record["facets"] = found
        if blobs:
            images = []
            for item, (blob, size) in zip(req.media, blobs, strict=True):
                image: dict[str, Any] = {"alt": item.alt_text or "", "image": blob}
                if size:
                    image["aspectRatio"] = {"width": size[0], "height": size[1]}
                images.append(image)
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        return record

    def _get_record(self, repo: str, rkey: str) -> PublishResult | None:
        try:
            response = self.request("GET", self._pds(self._session(), "com.atproto.repo.getRecord"), ok=(200,),
                                    params={"repo": repo, "collection": POST, "rkey": rkey})
        except ContentRejected as exc:
            if exc.code == "RecordNotFound":
                return None
            raise
        body = response.json()
        return self._result(body["uri"], body.get("value", {}), cid=body.get("cid"))

    def _result(self, uri: str, record: Mapping[str, Any], *, cid: str | None) -> PublishResult:
        rkey = uri.rsplit("/", 1)[-1]
        handle = self.credentials.load(self.channel.name).get("handle") or uri.split("/")[2]
        try:
            published = datetime.fromisoformat(str(record.get("createdAt")).replace("Z", "+00:00"))
        except ValueError:
            published = None
        return PublishResult(remote_id=uri, url=f"https://bsky.app/profile/{handle}/post/{rkey}",
                             published_at=published, raw={"uri": uri, "cid": cid, "rkey": rkey})

    # -- errors and rate limits ---------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        """XRPC errors by name (`{"error": "ExpiredToken", "message": ...}`), then by status."""
        body = self.json_or_empty(response)
        body = body if isinstance(body, dict) else {}
        name = str(body.get("error") or "") or None
        message = f"{name}: {body.get('message') or name}" if name else None
        status = response.status_code
        video = video_error(body, status, channel=self.channel.name, now=self.clock())
        if video is not None:
            return video
        if name in _AUTH_ERRORS:
            return AuthError(self.channel.name, f"{message} (HTTP {status}); check the app password "
                             f"for channel {self.channel.name}", http_status=status, code=name)
        if name in _TOO_LARGE or status == 413:
            return ContentRejected(self.channel.name, f"{message or 'too large'} (HTTP {status})",
                                   http_status=status, code=name or "PayloadTooLarge")
        if name == "RateLimitExceeded" or status == 429:
            return RateLimited(self.channel.name, f"rate limited: {message or 'HTTP 429'}",
                               retry_after_s=self.retry_after_s(response), reset_at=self.blocked_until,
                               http_status=status, code=name)
        return self.default_classify(response, write=write, message=message, code=name)

    def note_rate_limit(self, response: requests.Response) -> None:
        """`RateLimit-Remaining` / `RateLimit-Reset` (epoch seconds) into `blocked_until`."""
        reset = response.headers.get("RateLimit-Reset")
        if reset is None:
            return
        try:
            reset_at = datetime.fromtimestamp(float(reset), UTC)
            remaining = int(response.headers.get("RateLimit-Remaining", "1"))
        except (ValueError, OverflowError):
            return
        self.blocked_until = reset_at if response.status_code == 429 or remaining <= 0 else None


def _pixels(data: bytes) -> tuple[int, int] | None:
    """Width and height from the image header (Pillow decodes no pixels for this)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError):  # an unreadable header just means no aspectRatio
        return None
