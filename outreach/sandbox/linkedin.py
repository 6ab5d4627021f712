"""LinkedIn's versioned REST API for organisation pages, simulated: images, posts, share statistics.

Wire formats follow platforms.md section 6: every call needs `LinkedIn-Version` (active for about
a year) and `X-Restli-Protocol-Version: 2.0.0`; posts answer 201 with an empty body and the URN
in `x-restli-id`; repeated commentary answers 422 "Content is a duplicate of urn:li:share:N";
the daily limit answers 429 with no headers at all. Commentary is "little text": an unescaped
reserved character cuts the visible text short, as LinkedIn does. Share statistics grow with
the post's age on the injected clock.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

from outreach.sandbox.core import DemoAccount, FaultRule, PlatformSim
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.linkedin_video import VideoUploads

DEMO_TOKEN = "sandbox-linkedin-token"
DEMO_ORGANIZATION = "urn:li:organization:5515715"
DEMO_ORGANIZATION_NAME = "Verandering van binnenuit (sandbox)"
DEMO_CLIENT_ID = "sandbox-linkedin-client"
DEMO_CLIENT_SECRET = "sandbox-linkedin-client-secret"
DEMO_REFRESH_TOKEN = "sandbox-linkedin-refresh-token"  # only Marketing (MDP) partners get one

ACCESS_TTL = timedelta(days=60)
REFRESH_TTL = timedelta(days=365)  # not sliding: counts from the first login
MAX_COMMENTARY = 3000
MAX_PIXELS = 36_152_320
RESERVED = set("\\|{}@[]()<>#*_~")
IMAGE_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"GIF8": "image/gif"}

_HASHTAG = re.compile(r"\{hashtag\|\\#\|([^{}|\\]+)\}")
_MENTION = re.compile(r"@\[([^\]\\]*)\]\((urn:li:(?:person|organization):\w+)\)")
_LIST = re.compile(r"^List\((.*)\)$")


def render_little_text(commentary: str) -> tuple[str, bool]:
    """What a reader sees, and whether an unescaped reserved character cut the text short."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        template = _HASHTAG.match(commentary, i) or _MENTION.match(commentary, i)
        if template:
            out.append(("#" if char == "{" else "") + template.group(1))
            i = template.end()
            continue
        if char in RESERVED:
            return "".join(out), True
        out.append(char)
        i += 1
    return "".join(out), False


def _error(status: int, code: str, message: str, service: int | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    return json_response(body, status)


@dataclass
class SimToken:
    organizations: list[str]
    expires_at: datetime
    revoked: bool = False


@dataclass
class SimImage:
    urn: str
    owner: str
    key: str
    status: str = "WAITING_UPLOAD"
    data: bytes = field(default=b"", repr=False)
    mime_type: str = ""
    polls_left: int = 0


@dataclass
class SimPost:
    urn: str
    author: str
    commentary: str
    text: str
    truncated: bool
    created_at: datetime
    image: str | None = None
    alt_text: str | None = None


class LinkedInSim(PlatformSim):
    """api.linkedin.com/rest as seen by an organisation administrator's access token."""

    prefix: ClassVar[str] = "linkedin"

    def __init__(self, *args: Any, active_months: int = 12, processing_polls: int = 1,
                 daily_post_limit: int = 150, duplicate_window: timedelta = timedelta(days=30),
                 **kwargs: Any) -> None:
        self.active_months = active_months
        self.processing_polls = processing_polls
        self.daily_post_limit = daily_post_limit
        self.duplicate_window = duplicate_window
        super().__init__(*args, **kwargs)

    def reset(self) -> None:
        now = self.clock()
        self.tokens: dict[str, SimToken] = {DEMO_TOKEN: SimToken([DEMO_ORGANIZATION], now + ACCESS_TTL)}
        self.refresh_tokens: dict[str, tuple[list[str], datetime]] = {
            DEMO_REFRESH_TOKEN: ([DEMO_ORGANIZATION], now + REFRESH_TTL)}
        self.organizations = {DEMO_ORGANIZATION: DEMO_ORGANIZATION_NAME}
        self.images: dict[str, SimImage] = {}
        self.posts: dict[str, SimPost] = {}
        self.posts_per_day: dict[tuple[str, str], int] = {}
        self._seq = itertools.count(1)
        self._token: SimToken | None = None
        self._base = ""
        self.video.reset()

    def setup_routes(self) -> None:
        add = self.router.add
        add("GET", r"/rest/organizations/(?P<org_id>\d+)", self._organization)
        add("POST", r"/rest/images", self._initialize_upload)
        add("GET", r"/rest/images/(?P<urn>[^/]+)", self._image_show)
        add("PUT", r"/dms-uploads/(?P<key>[\w-]+)", self._upload)
        add("POST", r"/rest/posts", self._create_post)
        add("GET", r"/rest/posts/(?P<urn>[^/]+)", self._post_show)
        add("GET", r"/rest/organizationalEntityShareStatistics", self._share_statistics)
        add("POST", r"/oauth/v2/accessToken", self._access_token)
        self.video = VideoUploads(self)
        self.video.routes(add)

    def current_token(self) -> SimToken | None:
        return self._token

    def base_url(self) -> str:
        return self._base

    # -- plumbing -----------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        with self.lock:
            self._base = f"http://{req.header('host', '127.0.0.1')}/{self.prefix}"
            if req.path.startswith("/rest/"):
                problem = self._version_problem(req)
                if problem is not None:
                    return problem
            if not req.path.startswith("/oauth/"):
                auth = req.header("authorization")
                token = self.tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
                if token is None or token.revoked:
                    return _error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
                if self.clock() >= token.expires_at:
                    return _error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired",
                                  65601)
                self._token = token
            return self.router.dispatch(req) or _error(404, "NOT_FOUND", f"No resource at {req.path}")

    def _version_problem(self, req: Request) -> Response | None:
        version = req.header("linkedin-version")
        if not version:
            return _error(400, "VERSION_MISSING", "A version must be present. Please specify a version "
                          "by adding the LinkedIn-Version header.")
        match = re.fullmatch(r"(\d{4})(\d{2})(?:\.\d{2})?", version)
        now = self.clock()
        age = (now.year * 12 + now.month) - (int(match[1]) * 12 + int(match[2])) if match else -1
        if not match or not 1 <= int(match[2]) <= 12 or not 0 <= age < self.active_months:
            return _error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        if req.header("x-restli-protocol-version") != "2.0.0":
            return _error(400, "ILLEGAL_ARGUMENT", "Rest.li protocol 2.0.0 is required: send "
                          "X-Restli-Protocol-Version: 2.0.0")
        return None

    def rate_limited(self, rule: FaultRule) -> Response:
        """LinkedIn's daily throttle: 429, no Retry-After, no rate-limit headers."""
        return _error(429, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls "
                      "to this resource is reached.")

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        token = str(payload.get("token", ""))
        if action == "add_token":
            org = str(payload.get("organization", DEMO_ORGANIZATION))
            self.organizations.setdefault(org, str(payload.get("name", org)))
            ttl = timedelta(seconds=float(payload.get("expires_in", ACCESS_TTL.total_seconds())))
            self.tokens[token] = SimToken([org], self.clock() + ttl)
            return json_response({"token_added": True, "organization": org})
        if action in ("revoke", "expire") and token in self.tokens:
            if action == "revoke":
                self.tokens[token].revoked = True
            else:
                self.tokens[token].expires_at = self.clock()
            return json_response({action: True})
        if action == "configure":
            allowed = ("daily_post_limit", "processing_polls", "active_months")
            unknown = set(payload) - set(allowed)
            if unknown:
                return json_response({"error": f"unknown settings: {', '.join(sorted(unknown))}"}, 400)
            for key, value in payload.items():
                setattr(self, key, int(value))
            return json_response({key: getattr(self, key) for key in allowed})
        if action == "video":  # {"part_bytes": N, "polls": N}
            return json_response(self.video.control(payload))
        return super().control(action, payload)

    def published_texts(self) -> list[str]:
        return [p["text"] for p in self.state()["posts"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-linkedin", "linkedin", f"{url}/linkedin",
                           options={"organization_urn": DEMO_ORGANIZATION}, secrets={"token": DEMO_TOKEN})

    def state(self) -> dict[str, Any]:
        with self.lock:
            per_commentary: dict[str, int] = {}
            for post in self.posts.values():
                per_commentary[post.commentary] = per_commentary.get(post.commentary, 0) + 1
            return {
                "posts": [{"urn": p.urn, "author": p.author, "commentary": p.commentary, "text": p.text,
                           "truncated": p.truncated, "image": p.image, "alt_text": p.alt_text,
                           "created_at": p.created_at.isoformat()} for p in self.posts.values()],
                "posts_per_commentary": per_commentary,
                "images": [{"urn": i.urn, "owner": i.owner, "status": i.status, "size": len(i.data),
                            "mime_type": i.mime_type} for i in self.images.values()],
                "videos": self.video.state(),
            }

    # -- endpoints ----------------------------------------------------------------------------

    def _organization(self, req: Request, org_id: str) -> Response:
        urn = f"urn:li:organization:{org_id}"
        if urn not in self.organizations:
            return _error(404, "NOT_FOUND", f"Organization {org_id} does not exist")
        return json_response({"id": int(org_id), "localizedName": self.organizations[urn],
                              "vanityName": "verandering-van-binnenuit", "$URN": urn})

    def _initialize_upload(self, req: Request) -> Response:
        if req.param("action") != "initializeUpload":
            return _error(400, "ILLEGAL_ARGUMENT", "Unsupported action; use ?action=initializeUpload")
        owner = ((req.json() or {}).get("initializeUploadRequest") or {}).get("owner", "")
        if owner not in self._token.organizations:
            return _error(403, "ACCESS_DENIED", f"Not enough permissions to upload images for {owner!r}", 100)
        n = next(self._seq)
        image = SimImage(urn=f"urn:li:image:C4E10AQ{n:09d}", owner=owner, key=f"upload-{n:06d}")
        self.images[image.urn] = image
        expires = self.clock() + timedelta(days=1)
        return json_response({"value": {"uploadUrlExpiresAt": int(expires.timestamp() * 1000),
                                        "uploadUrl": f"{self._base}/dms-uploads/{image.key}?sau={self.capability(image.key)}",
                                        "image": image.urn}})

    def _upload(self, req: Request, key: str) -> Response:
        image = next((i for i in self.images.values() if i.key == key), None)
        if image is not None and req.param("sau") != self.capability(image.key):
            image = None  # the signed `sau` parameter is what authorizes the PUT
        if image is None or image.status != "WAITING_UPLOAD":
            return Response(400, b"upload URL is unknown or already used", {"Content-Type": "text/plain"})
        image.data = req.body
        image.mime_type = next((t for magic, t in IMAGE_MAGIC.items() if req.body.startswith(magic)), "")
        image.status, image.polls_left = "PROCESSING", self.processing_polls
        if not image.mime_type or self._pixels(req.body) > MAX_PIXELS:
            image.status = "PROCESSING_FAILED"
        return Response(201, b"")

    @staticmethod
    def _pixels(data: bytes) -> int:
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                return img.size[0] * img.size[1]
        except Exception:  # noqa: BLE001 - what Pillow cannot read, LinkedIn cannot process either
            return MAX_PIXELS + 1

    def _image_show(self, req: Request, urn: str) -> Response:
        image = self.images.get(unquote(urn))
        if image is None or image.owner not in self._token.organizations:
            return _error(404, "NOT_FOUND", f"Image {unquote(urn)} does not exist")
        if image.status == "PROCESSING":
            image.polls_left -= 1
            if image.polls_left < 0:
                image.status = "AVAILABLE"
        return json_response({"id": image.urn, "owner": image.owner, "status": image.status,
                              "downloadUrl": f"{self._base}/dms/image/{image.key}" if image.data else None})

    def _create_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            return _error(400, "ILLEGAL_ARGUMENT", "Request body is not valid JSON")
        author, commentary = str(body.get("author", "")), body.get("commentary", "")
        if author not in self._token.organizations:
            return _error(403, "ACCESS_DENIED", f"Not enough permissions to post as {author!r}", 100)
        for name in ("visibility", "distribution", "lifecycleState"):
            if name not in body:
                return _error(422, "UNPROCESSABLE_ENTITY", f"/{name} :: field is required but not found")
        if not isinstance(commentary, str):
            return _error(422, "UNPROCESSABLE_ENTITY", "/commentary :: must be a string")
        text, truncated = render_little_text(commentary)
        if len(text) > MAX_COMMENTARY:
            return _error(400, "FIELD_LENGTH_TOO_LONG", f"/commentary :: length {len(text)} exceeds "
                          f"{MAX_COMMENTARY}")
        media = ((body.get("content") or {}).get("media") or {})
        image = self.images.get(str(media.get("id", ""))) if media else None
        if str(media.get("id", "")).startswith("urn:li:video:"):
            if not self.video.available(str(media["id"]), author):
                return _error(422, "UNPROCESSABLE_ENTITY", f"/content/media/id :: {media['id']} is not an "
                              "AVAILABLE video of the author (still processing?)")
        elif media and (image is None or image.owner != author or image.status != "AVAILABLE"):
            return _error(422, "UNPROCESSABLE_ENTITY", f"/content/media/id :: {media.get('id')} is not an "
                          "AVAILABLE image of the author")
        now = self.clock()
        for post in self.posts.values():
            if post.author == author and post.commentary == commentary \
                    and now - post.created_at < self.duplicate_window:
                return _error(422, "DUPLICATE_POST", f"Content is a duplicate of {post.urn}")
        day = (author, now.date().isoformat())
        if self.posts_per_day.get(day, 0) >= self.daily_post_limit:
            return self.rate_limited(FaultRule(platform=self.prefix, mode="rate_limit"))
        self.posts_per_day[day] = self.posts_per_day.get(day, 0) + 1
        # Share ids carry their creation time in the top 41 bits (milliseconds), like LinkedIn's.
        share_id = (int(now.timestamp() * 1000) << 22) | next(self._seq)
        post = SimPost(urn=f"urn:li:share:{share_id}", author=author, commentary=commentary, text=text,
                       truncated=truncated, created_at=now,
                       image=image.urn if image else (str(media["id"]) if media else None),
                       alt_text=media.get("altText") if media else None)
        self.posts[post.urn] = post
        return Response(201, None, {"x-restli-id": post.urn, "x-linkedin-id": post.urn})

    def _post_show(self, req: Request, urn: str) -> Response:
        post = self.posts.get(unquote(urn))
        if post is None or post.author not in self._token.organizations:
            return _error(404, "NOT_FOUND", f"Post {unquote(urn)} does not exist")
        created = int(post.created_at.timestamp() * 1000)
        body: dict[str, Any] = {
            "id": post.urn, "author": post.author, "commentary": post.commentary, "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED", "createdAt": created, "publishedAt": created,
            "lastModifiedAt": created, "distribution": {"feedDistribution": "MAIN_FEED"}}
        if post.image:
            body["content"] = {"media": {"id": post.image, "altText": post.alt_text}}
        return json_response(body)

    def _share_statistics(self, req: Request) -> Response:
        org = req.param("organizationalEntity") or ""
        if req.param("q") != "organizationalEntity" or org not in self._token.organizations:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to read share statistics "
                          f"of {org!r} (needs rw_organization_admin)", 100)
        wanted: list[tuple[str, str]] = []
        for kind, param in (("share", "shares"), ("ugcPost", "ugcPosts")):
            raw = req.param(param)
            if raw is None:
                continue
            match = _LIST.match(raw)
            if match is None:
                return _error(400, "ILLEGAL_ARGUMENT", f"{param} must be List(...) (Rest.li 2.0)")
            wanted += [(kind, urn) for urn in match[1].split(",") if urn]
        posts = [(kind, self.posts[urn]) for kind, urn in wanted
                 if urn in self.posts and self.posts[urn].author == org]
        elements = [{"organizationalEntity": org, kind: post.urn,
                     "totalShareStatistics": self._statistics(post)} for kind, post in posts]
        return json_response({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    def _statistics(self, post: SimPost) -> dict[str, Any]:
        """Deterministic, monotone, saturating growth with the post's age on the sim clock."""
        age_h = max(0.0, (self.clock() - post.created_at).total_seconds() / 3600)
        ceiling = 400 + int(post.urn.rsplit(":", 1)[1]) % 600
        impressions = int(ceiling * (1 - math.exp(-age_h / 12)))
        likes, clicks = impressions // 25, impressions // 30
        comments, shares = impressions // 120, impressions // 150
        engaged = likes + clicks + comments + shares
        return {"impressionCount": impressions, "uniqueImpressionsCount": impressions * 4 // 5,
                "likeCount": likes, "commentCount": comments, "shareCount": shares,
                "clickCount": clicks, "engagement": round(engaged / impressions, 4) if impressions else 0.0}

    def _access_token(self, req: Request) -> Response:
        """The 3-legged OAuth token endpoint; only the refresh grant (Marketing partners) is simulated."""
        if req.param("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "Only grant_type=refresh_token is simulated"}, 400)
        if (req.param("client_id"), req.param("client_secret")) != (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET):
            return json_response({"error": "invalid_client",
                                  "error_description": "Client authentication failed"}, 401)
        known = self.refresh_tokens.get(req.param("refresh_token") or "")
        now = self.clock()
        if known is None or now >= known[1]:
            return json_response({"error": "invalid_request", "error_description":
                                  "The provided authorization grant or refresh token is invalid, "
                                  "expired or revoked"}, 400)
        access = f"sandbox-linkedin-token-{next(self._seq)}"
        self.tokens[access] = SimToken(list(known[0]), now + ACCESS_TTL)
        return json_response({"access_token": access, "expires_in": int(ACCESS_TTL.total_seconds()) - 1,
                              "refresh_token": req.param("refresh_token"),
                              "refresh_token_expires_in": int((known[1] - now).total_seconds()),
                              "scope": "r_organization_social,rw_organization_admin,w_organization_social"})
