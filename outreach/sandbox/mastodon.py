"""A Mastodon instance, simulated: media upload (sync and async), statuses with Idempotency-Key,
account timelines, instance limits, per-token rate limiting with ISO `X-RateLimit-Reset`.

Wire formats follow platforms.md section 4 and the recorded Mastodon.py cassettes. Counters on
statuses grow with the age of the status on the injected clock, so metric harvesting has
something to watch without randomness.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import regex

from outreach.sandbox.core import Account, DemoAccount, FaultRule, PlatformSim
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.videofile import read_video

DEMO_TOKEN = "sandbox-mastodon-token"
IDEMPOTENCY_TTL = timedelta(hours=1)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
VISIBILITIES = ("public", "unlisted", "private", "direct")

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?'()]")
_TAG = re.compile(r"(?<![\w/#])#(\w+)")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")

# Validation messages as (en, nl); en is the fallback, nl approximates Mastodon's nl locale.
MESSAGES = {
    "prefix": ("Validation failed: ", "Validatie mislukt: "),
    "blank": ("Text can't be blank", "Tekst moet opgegeven zijn"),
    "too_long": ("Text character limit of {max} exceeded", "Tekst overschrijdt de limiet van {max} tekens"),
    "processing": ("Cannot attach files that have not finished processing. Try again in a moment!",
                   "Kan geen bestanden toevoegen die nog niet zijn verwerkt. Probeer het later opnieuw!"),
    "too_many": ("Cannot attach more than {max} files", "Er kunnen niet meer dan {max} bestanden worden toegevoegd"),
    "not_found": ("Media with ID(s) {ids} not found or already attached to another post",
                  "Media met ID(s) {ids} niet gevonden of al aan een ander bericht toegevoegd"),
    "file_type": ("File content type is invalid, File is invalid", "Bestandstype is ongeldig, Bestand is ongeldig"),
    "file_size": ("File file size must be less than {mb} MB", "Bestandsgrootte moet kleiner zijn dan {mb} MB"),
    "description": ("Description is too long (maximum is {max} characters)",
                    "Beschrijving is te lang (maximaal {max} tekens)"),
    "visibility": ("Visibility is not included in the list", "Zichtbaarheid staat niet in de lijst"),
    "rate": ("Too many requests", "Te veel verzoeken"),
}
# Raised outside ActiveRecord validation, so without the "Validation failed: " prefix (video.md 1.2).
PROCESSING_FAILED = "Error processing thumbnail for uploaded media"
VIDEO_WITH_IMAGES = "Cannot attach a video to a post that already contains images"
LANGUAGES = ("en", "nl")


def iso(moment: datetime, *, digits: int = 3) -> str:
    """Mastodon's timestamps: `2026-08-01T13:53:56.596Z` (reset headers carry microseconds)."""
    frac = f"{moment.microsecond:06d}"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def countable_length(text: str, *, url_chars: int) -> int:
    """Mastodon's StatusLengthValidator: graphemes, each URL as `url_chars`, mentions without domain."""
    text = _URL.sub("x" * url_chars, text)
    text = _MENTION.sub(r"@\1", text)
    return len(regex.findall(r"\X", text))


def _link(url: str) -> str:
    scheme = re.match(r"https?://(www\.)?", url)
    prefix = scheme.group(0) if scheme else ""
    shown = url[len(prefix):]
    cut = len(shown) > 30
    return (f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
            f'<span class="invisible">{html.escape(prefix)}</span>'
            f'<span class="{"ellipsis" if cut else ""}">{html.escape(shown[:30])}</span>'
            f'<span class="invisible">{html.escape(shown[30:])}</span></a>')


def format_content(text: str, *, base_url: str) -> str:
    """Plain status text to Mastodon's HTML: paragraphs, `<br />`, linked URLs and hashtags."""
    def inline(chunk: str) -> str:
        out, pos = [], 0
        for match in re.finditer(f"{_URL.pattern}|{_TAG.pattern}", chunk):
            out.append(html.escape(chunk[pos:match.start()], quote=False))
            if match.group(1) is None:
                out.append(_link(match.group(0)))
            else:
                tag = match.group(1)
                out.append(f'<a href="{base_url}/tags/{tag.lower()}" class="mention hashtag" '
                           f'rel="tag">#<span>{html.escape(tag)}</span></a>')
            pos = match.end()
        out.append(html.escape(chunk[pos:], quote=False))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + "<br />".join(inline(line) for line in p.split("\n")) + "</p>"
                   for p in paragraphs)


@dataclass
class SimMedia:
    id: str
    account_id: str
    mime_type: str
    size: int
    description: str
    focus: tuple[float, float]
    data: bytes = field(repr=False)
    width: int | None = None
    height: int | None = None
    polls_left: int = 0  # GET /api/v1/media/:id answers 206 this many more times
    status_id: str | None = None
    fps: float | None = None
    duration_s: float | None = None
    thumbnail: tuple[str, int, str] | None = None  # (mime type, bytes, sha256) of a custom poster
    failed: bool = False  # processing ends in 422 "Error processing thumbnail…"

    @property
    def processing(self) -> bool:
        return self.polls_left > 0


@dataclass
class SimStatus:
    id: str
    account_id: str
    text: str
    language: str
    visibility: str
    sensitive: bool
    spoiler_text: str
    media_ids: list[str]
    idempotency_key: str | None
    created_at: datetime
    content: str = ""


class MastodonSim(PlatformSim):
    """Mastodon 4.x as seen by an API client with a bearer token."""

    prefix: ClassVar[str] = "mastodon"

    def reset(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.media: dict[str, SimMedia] = {}
        self.statuses: dict[str, SimStatus] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.windows: dict[tuple[str, int], int] = {}  # (token or "anonymous", window index) -> count
        self.config: dict[str, Any] = {
            "max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23,
            "image_size_limit": 16 * 1024 * 1024, "image_matrix_limit": 33_177_600,
            "video_size_limit": 103_809_024, "video_matrix_limit": 8_294_400, "video_frame_rate_limit": 120,
            "description_limit": 1500,
            "supported_mime_types": [*IMAGE_TYPES, *VIDEO_TYPES],
            "rate_limit": 300, "rate_window_s": 300,
        }
        self.async_media = False
        self.processing_polls = 2
        self.fail_processing = False  # videos uploaded from now on fail processing
        self._seq = itertools.count(1)
        self._account: Account | None = None
        self._base = ""
        self._lang = "en"
        self._add_account("sandbox_peer", "Doetank Peer (sandbox)", DEMO_TOKEN)

    # -- plumbing -----------------------------------------------------------------------------

    def setup_routes(self) -> None:
        add = self.router.add
        add("GET", r"/api/v2/instance", self._instance)
        add("GET", r"/api/v1/accounts/verify_credentials", self._verify)
        add("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses", self._account_statuses)
        add("POST", r"/api/v2/media", self._upload)
        add("GET", r"/api/v1/media/(?P<media_id>\d+)", self._media_show)
        add("POST", r"/api/v1/statuses", self._create_status)
        add("GET", r"/api/v1/statuses/(?P<status_id>\d+)", self._status_show)
        add("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)", self._status_delete)
        add("GET", r"/system/media_attachments/files/(?P<media_id>\d+)/original/[\w.]+", self._media_file)
        add("GET", r"/@(?P<username>\w+)/(?P<status_id>\d+)", self._public_page)

    def _snowflake(self) -> str:
        """Mastodon ids: milliseconds since the epoch shifted 16 bits, plus a sequence."""
        ms = int(self.clock().timestamp() * 1000)
        return str((ms << 16) | (next(self._seq) & 0xFFFF))

    def _add_account(self, username: str, display_name: str, token: str) -> Account:
        account = Account(id=str(109_000_000_000_000_000 + len(self.accounts) + 1), username=username,
                          display_name=display_name, token=token,
                          extra={"created_at": self.clock().replace(hour=0, minute=0, second=0, microsecond=0)})
        self.accounts[account.id] = account
        return account

    def _msg(self, key: str, **values: Any) -> str:
        index = LANGUAGES.index(self._lang) if self._lang in LANGUAGES else 0
        return MESSAGES[key][index].format(**values)

    def _invalid(self, key: str, **values: Any) -> Response:
        return json_response({"error": self._msg("prefix") + self._msg(key, **values)}, 422)

    def _rate_headers(self, who: str, *, count: bool = True) -> tuple[dict[str, str], bool]:
        """Rack::Attack style: fixed windows aligned to the epoch, counted per token."""
        window_s = int(self.config["rate_window_s"])
        index = int(self.clock().timestamp()) // window_s
        used = self.windows.get((who, index), 0) + (1 if count else 0)
        self.windows[(who, index)] = used
        limit = int(self.config["rate_limit"])
        reset = datetime.fromtimestamp((index + 1) * window_s, tz=self.clock().tzinfo)
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - used)),
                   "X-RateLimit-Reset": iso(reset, digits=6)}
        return headers, used > limit

    def handle(self, req: Request) -> Response:
        with self.lock:
            self._base = f"http://{req.header('host', '127.0.0.1')}/{self.prefix}"
            self._lang = req.header("accept-language", "en").split(",")[0].split("-")[0].strip().lower()
            if req.path.startswith(("/system/", "/@")):  # public: media files and status pages
                return self.router.dispatch(req) or self.not_found(req)
            auth = req.header("authorization")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            self._account = next((a for a in self.accounts.values()
                                  if token and a.token == token and not a.revoked), None)
            headers, over = self._rate_headers(token if self._account else "anonymous")
            if (token or req.path != "/api/v2/instance") and self._account is None:
                response = json_response({"error": "The access token is invalid"}, 401)
            elif over:
                response = json_response({"error": self._msg("rate")}, 429)
            else:
                response = self.router.dispatch(req) or self.not_found(req)
            response.headers.update(headers)
            return response

    def _public_page(self, req: Request, username: str, status_id: str) -> Response:
        """The status's public web page, as a permalink capture sees it (no login)."""
        status = self.statuses.get(status_id)
        account = self.accounts.get(status.account_id) if status else None
        if status is None or account is None or account.username != username:
            return Response(404, "<!DOCTYPE html><title>Not found</title><p>The page you are looking for "
                            "isn't here.</p>", {"Content-Type": "text/html; charset=utf-8"})
        title = html.escape(f"{account.display_name} (@{account.username})")
        page = (f"<!DOCTYPE html><html lang=\"{html.escape(status.language or 'en')}\"><head><meta charset=\"utf-8\">"
                f"<title>{title}</title></head><body><article><header>{title} · "
                f"<time datetime=\"{iso(status.created_at)}\">{iso(status.created_at)}</time></header>"
                f"{status.content}</article></body></html>")
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    def rate_limited(self, rule: FaultRule) -> Response:
        """An injected throttle looks exactly like the real one: 429 and an ISO reset time."""
        with self.lock:
            now = self.clock()
            limit = int(self.config["rate_limit"])
            return json_response({"error": MESSAGES["rate"][0]}, 429, **{
                "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(now + timedelta(seconds=rule.retry_after_s), digits=6)})

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        with self.lock:  # tests also call this directly, beside the server thread
            return self._control(action, payload)

    def _control(self, action: str, payload: dict[str, Any]) -> Response:
        if action == "add_token":
            account = self._add_account(str(payload["username"]),
                                        str(payload.get("display_name") or payload["username"]),
                                        str(payload["token"]))
            return json_response({"id": account.id, "username": account.username})
        if action == "revoke":
            hits = [a for a in self.accounts.values() if a.token == payload.get("token")]
            for account in hits:
                account.revoked = True
            return json_response({"revoked": len(hits)})
        if action == "set_processing":
            self.async_media = bool(payload.get("async", True))
            self.processing_polls = int(payload.get("polls", self.processing_polls))
            self.fail_processing = bool(payload.get("fail", False))
            return json_response({"async": self.async_media, "polls": self.processing_polls,
                                  "fail": self.fail_processing})
        if action == "set_limits":
            unknown = set(payload) - set(self.config)
            if unknown:
                return json_response({"error": f"unknown limits: {', '.join(sorted(unknown))}"}, 400)
            self.config.update(payload)
            return json_response(self.config)
        return super().control(action, payload)

    def published_texts(self) -> list[str]:
        return [s["text"] for s in self.state()["statuses"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-mastodon", "mastodon", f"{url}/mastodon", secrets={"token": DEMO_TOKEN})

    def state(self) -> dict[str, Any]:
        with self.lock:
            statuses = [{
                "id": s.id, "account_id": s.account_id, "text": s.text, "content": s.content,
                "language": s.language, "visibility": s.visibility, "idempotency_key": s.idempotency_key,
                "created_at": iso(s.created_at),
                "media": [{"id": m, "description": self.media[m].description,
                           "mime_type": self.media[m].mime_type, "size": self.media[m].size}
                          for m in s.media_ids],
            } for s in self.statuses.values()]
            keys = Counter(s.idempotency_key for s in self.statuses.values() if s.idempotency_key)
            return {"statuses": statuses, "statuses_per_idempotency_key": dict(keys),
                    "statuses_per_text": dict(Counter(s.text for s in self.statuses.values())),
                    "media": [{"id": m.id, "description": m.description, "mime_type": m.mime_type,
                               "size": m.size, "processing": m.processing, "status_id": m.status_id,
                               "width": m.width, "height": m.height, "thumbnail": m.thumbnail,
                               "sha256": hashlib.sha256(m.data).hexdigest()}
                              for m in self.media.values()],
                    "accounts": [{"id": a.id, "username": a.username, "revoked": a.revoked}
                                 for a in self.accounts.values()]}

    # -- JSON shapes --------------------------------------------------------------------------

    def _account_json(self, account: Account) -> dict[str, Any]:
        count = sum(1 for s in self.statuses.values() if s.account_id == account.id)
        return {"id": account.id, "username": account.username, "acct": account.username,
                "display_name": account.display_name, "locked": False, "bot": False,
                "created_at": iso(account.extra["created_at"]), "note": "",
                "url": f"{self._base}/@{account.username}", "avatar": None,
                "followers_count": 250, "following_count": 40, "statuses_count": count,
                "emojis": [], "fields": []}

    def _media_json(self, media: SimMedia) -> dict[str, Any]:
        ext = media.mime_type.split("/")[-1]
        url = f"{self._base}/system/media_attachments/files/{media.id}/original/{media.id[-8:]}.{ext}"
        meta: dict[str, Any] = {"focus": {"x": media.focus[0], "y": media.focus[1]}}
        if media.width and media.height:
            meta["original"] = {"width": media.width, "height": media.height,
                                "size": f"{media.width}x{media.height}",
                                "aspect": media.width / media.height}
        if media.duration_s is not None:
            meta["original"] |= {"frame_rate": f"{media.fps:g}/1", "duration": media.duration_s}
        return {"id": media.id, "type": "image" if media.mime_type in IMAGE_TYPES else "video",
                "url": None if media.processing else url, "preview_url": url, "remote_url": None,
                "text_url": None, "meta": meta, "description": media.description or None,
                "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"}

    def _counts(self, status: SimStatus) -> dict[str, int]:
        """Engagement that grows with age on the sim clock: deterministic, monotone, saturating."""
        age_h = max(0.0, (self.clock() - status.created_at).total_seconds() / 3600)
        ceiling = 8 + int(status.id) % 23
        favourites = int(ceiling * (1 - math.exp(-age_h / 6)))
        return {"replies_count": favourites // 5, "reblogs_count": favourites // 3,
                "favourites_count": favourites, "quotes_count": favourites // 10}

    def _status_json(self, status: SimStatus) -> dict[str, Any]:
        account = self.accounts[status.account_id]
        return {"id": status.id, "created_at": iso(status.created_at), "in_reply_to_id": None,
                "in_reply_to_account_id": None, "sensitive": status.sensitive,
                "spoiler_text": status.spoiler_text, "visibility": status.visibility,
                "language": status.language,
                "uri": f"{self._base}/users/{account.username}/statuses/{status.id}",
                "url": f"{self._base}/@{account.username}/{status.id}",
                **self._counts(status), "edited_at": None, "favourited": False, "reblogged": False,
                "muted": False, "bookmarked": False, "pinned": False, "content": status.content,
                "filtered": [], "reblog": None, "application": {"name": "outreach", "website": None},
                "account": self._account_json(account),
                "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
                "mentions": [], "emojis": [], "card": None, "poll": None,
                "tags": [{"name": t.lower(), "url": f"{self._base}/tags/{t.lower()}"}
                         for t in _TAG.findall(status.text)]}

    # -- endpoints ----------------------------------------------------------------------------

    def _instance(self, req: Request) -> Response:
        c = self.config
        return json_response({
            "domain": req.header("host", "127.0.0.1"), "title": "Outreach sandbox", "version": "4.5.0",
            "source_url": "https://github.com/mastodon/mastodon", "languages": ["nl", "en"],
            "configuration": {
                "urls": {"streaming": None},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {"max_characters": c["max_characters"],
                             "max_media_attachments": c["max_media_attachments"],
                             "characters_reserved_per_url": c["characters_reserved_per_url"]},
                "media_attachments": {"supported_mime_types": c["supported_mime_types"],
                                      "description_limit": c["description_limit"],
                                      "image_size_limit": c["image_size_limit"],
                                      "image_matrix_limit": c["image_matrix_limit"],
                                      "video_size_limit": c["video_size_limit"],
                                      "video_matrix_limit": c["video_matrix_limit"],
                                      "video_frame_rate_limit": c["video_frame_rate_limit"]},
            }})

    def _verify(self, req: Request) -> Response:
        assert self._account is not None
        body = self._account_json(self._account)
        body["source"] = {"privacy": "public", "sensitive": False, "language": "nl", "note": "",
                          "fields": []}
        return json_response(body)

    def _account_statuses(self, req: Request, account_id: str) -> Response:
        if account_id not in self.accounts:
            return self.not_found(req)
        limit = max(1, min(40, int(req.param("limit") or 20)))
        max_id, since_id = req.param("max_id"), req.param("since_id") or req.param("min_id")
        mine = sorted((s for s in self.statuses.values() if s.account_id == account_id),
                      key=lambda s: int(s.id), reverse=True)
        page = [s for s in mine if (not max_id or int(s.id) < int(max_id))
                and (not since_id or int(s.id) > int(since_id))][:limit]
        headers = {}
        if page:
            here = f"{self._base}/api/v1/accounts/{account_id}/statuses?limit={limit}"
            headers["Link"] = (f'<{here}&max_id={page[-1].id}>; rel="next", '
                               f'<{here}&min_id={page[0].id}>; rel="prev"')
        return json_response([self._status_json(s) for s in page], **headers)

    def _upload(self, req: Request) -> Response:
        assert self._account is not None
        upload = req.files.get("file")
        if upload is None:
            return json_response({"error": "file is missing"}, 400)
        mime = upload.content_type
        if mime not in self.config["supported_mime_types"]:
            return self._invalid("file_type")
        is_image = mime in IMAGE_TYPES
        limit = self.config["image_size_limit" if is_image else "video_size_limit"]
        if len(upload.data) > limit:
            return self._invalid("file_size", mb=limit // (1024 * 1024))
        description = req.param("description") or ""
        if len(description) > int(self.config["description_limit"]):
            return self._invalid("description", max=self.config["description_limit"])
        width = height = fps = duration = None
        thumbnail = None
        if not is_image:
            facts = read_video(upload.data)
            if facts is None:
                return json_response({"error": "Video has no video stream"}, 422)
            if facts.width * facts.height > int(self.config["video_matrix_limit"]):
                return json_response({"error": f"{facts.width}x{facts.height} videos are not supported"}, 422)
            if int(facts.fps) > int(self.config["video_frame_rate_limit"]):
                return json_response({"error": f"{int(facts.fps)}fps videos are not supported"}, 422)
            width, height, fps, duration = facts.width, facts.height, facts.fps, facts.duration_s
            poster = req.files.get("thumbnail")
            if poster is not None:
                if poster.content_type not in IMAGE_TYPES:
                    return self._invalid("file_type")
                thumbnail = (poster.content_type, len(poster.data), hashlib.sha256(poster.data).hexdigest())
        if is_image:
            try:
                from PIL import Image

                with Image.open(io.BytesIO(upload.data)) as image:
                    width, height = image.size
            except Exception:  # noqa: BLE001 - whatever Pillow cannot read, Mastodon cannot either
                return self._invalid("file_type")
        try:
            fx, fy = (float(v) for v in (req.param("focus") or "0,0").split(","))
        except ValueError:
            fx = fy = 0.0
        media = SimMedia(id=self._snowflake(), account_id=self._account.id, mime_type=mime,
                         size=len(upload.data), description=description, focus=(fx, fy),
                         data=upload.data, width=width, height=height, fps=fps, duration_s=duration,
                         thumbnail=thumbnail, failed=not is_image and self.fail_processing,
                         polls_left=self.processing_polls if (self.async_media or not is_image) else 0)
        self.media[media.id] = media
        return json_response(self._media_json(media), 202 if media.processing else 200)

    def _media_show(self, req: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None or media.account_id != self._account.id or media.status_id is not None:
            return self.not_found(req)
        if media.processing:  # the 206 body is the attachment as it is now: `url` still null
            body = self._media_json(media)
            media.polls_left -= 1
            return json_response(body, 206)
        if media.failed:
            return json_response({"error": PROCESSING_FAILED}, 422)
        return json_response(self._media_json(media))

    def _media_file(self, req: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None or media.processing:
            return self.not_found(req)
        return Response(200, media.data, {"Content-Type": media.mime_type})

    def _create_status(self, req: Request) -> Response:
        account = self._account
        assert account is not None
        now = self.clock()
        key = req.header("idempotency-key") or None
        if key and self.guards:
            seen = self.idempotency.get((account.id, key))
            if seen and now - seen[1] < IDEMPOTENCY_TTL and seen[0] in self.statuses:
                return json_response(self._status_json(self.statuses[seen[0]]))
        text = (req.param("status") or "").strip()
        media_ids = [m for m in req.params("media_ids[]") + req.params("media_ids") if m]
        visibility = req.param("visibility") or "public"
        if visibility not in VISIBILITIES:
            return self._invalid("visibility")
        if len(media_ids) > int(self.config["max_media_attachments"]):
            return self._invalid("too_many", max=self.config["max_media_attachments"])
        missing = [m for m in media_ids if m not in self.media or self.media[m].account_id != account.id
                   or self.media[m].status_id is not None]
        if missing:
            return self._invalid("not_found", ids=", ".join(missing))
        if any(self.media[m].processing or self.media[m].failed for m in media_ids):
            return self._invalid("processing")
        if len(media_ids) > 1 and any(self.media[m].mime_type in VIDEO_TYPES for m in media_ids):
            return json_response({"error": VIDEO_WITH_IMAGES}, 422)
        if not text and not media_ids:
            return self._invalid("blank")
        spoiler = req.param("spoiler_text") or ""
        url_chars = int(self.config["characters_reserved_per_url"])
        if countable_length(text + spoiler, url_chars=url_chars) > int(self.config["max_characters"]):
            return self._invalid("too_long", max=self.config["max_characters"])
        status = SimStatus(id=self._snowflake(), account_id=account.id, text=text,
                           language=(req.param("language") or "en").lower(), visibility=visibility,
                           sensitive=(req.param("sensitive") or "").lower() in ("1", "true"),
                           spoiler_text=spoiler, media_ids=media_ids, idempotency_key=key,
                           created_at=now, content=format_content(text, base_url=self._base))
        for media_id in media_ids:
            self.media[media_id].status_id = status.id
        self.statuses[status.id] = status
        if key:
            self.idempotency[(account.id, key)] = (status.id, now)
        return json_response(self._status_json(status))

    def _status_show(self, req: Request, status_id: str) -> Response:
        status = self.statuses.get(status_id)
        return json_response(self._status_json(status)) if status else self.not_found(req)

    def _status_delete(self, req: Request, status_id: str) -> Response:
        status = self.statuses.get(status_id)
        if status is None or status.account_id != self._account.id:
            return self.not_found(req)
        body = self._status_json(status) | {"text": status.text}
        del self.statuses[status_id]
        return json_response(body)
