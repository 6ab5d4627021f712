"""What the simulated Meta Graph hosts share: the error envelope, tokens, usage headers, insights
envelopes, containers, real image fetching by URL, demographics and engagement that grows.

Instagram, Facebook Pages and Threads answer in the same Graph dialect (platforms.md §1.4, §2.3,
§3): errors as HTTP 400 with `{"error": {message, type, code, error_subcode, is_transient,
fbtrace_id}}`, throttling signalled by error code and `X-Business-Use-Case-Usage` / `X-App-Usage`
headers rather than by 429.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import random
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from PIL import Image

from outreach.sandbox.core import FaultRule, PlatformSim
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.paging import PagingError, graph_page

AGE_BUCKETS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("F", "M", "U")
CITIES = ("Amsterdam, North Holland", "Rotterdam, South Holland", "Den Haag, South Holland",
          "Utrecht, Utrecht", "Eindhoven, North Brabant")
COUNTRIES = ("NL", "BE", "DE", "TR", "MA", "SY")
_VERSION = re.compile(r"^/v\d+(?:\.\d+)?(/.*)$")
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"GIF8": "image/gif"}


def graph_time(moment: datetime) -> str:
    """Graph timestamps: `2026-05-01T12:00:00+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(message: str, code: int, *, subcode: int | None = None, status: int = 400,
                transient: bool = False, user_title: str | None = None, user_msg: str | None = None,
                headers: dict[str, str] | None = None) -> Response:
    """Meta's error envelope (HTTP 400 unless told otherwise), with a fresh fbtrace_id."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = transient
    if user_title:
        error["error_user_title"] = user_title
    if user_msg:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = "A" + hashlib.sha1(f"{message}{next(_TRACE)}".encode()).hexdigest()[:20]
    return Response(status, {"error": error}, dict(headers or {}))


_TRACE = itertools.count(1)


def invalid_metric(message: str = "(#100) The value must be a valid insights metric") -> Response:
    return graph_error(message, 100)


def insight(object_id: str, name: str, value: Any, *, period: str = "lifetime", title: str = "",
            description: str = "") -> dict[str, Any]:
    """One entry of the insights envelope (`values` form, used for media and post metrics)."""
    return {"name": name, "period": period, "values": [{"value": value}],
            "title": title or name.replace("_", " ").capitalize(), "description": description,
            "id": f"{object_id}/insights/{name}/{period}"}


def breakdown_insight(object_id: str, name: str, keys: list[str], results: list[tuple[list[str], int]],
                      *, title: str) -> dict[str, Any]:
    """One entry in the `total_value.breakdowns` form (demographics)."""
    breakdowns = [{"dimension_keys": keys,
                   "results": [{"dimension_values": dims, "value": value} for dims, value in results]}] \
        if results else []
    return {"name": name, "period": "lifetime", "title": title,
            "description": f"The demographic characteristics of the {title.lower()}",
            "total_value": {"breakdowns": breakdowns}, "id": f"{object_id}/insights/{name}/lifetime"}


def grown(key: str, hours: float, *, low: int, high: int) -> int:
    """A count that rises with the hours since publishing towards a ceiling fixed by `key`."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    ceiling = low + digest % max(1, high - low)
    return int(ceiling * (1 - math.exp(-max(0.0, hours) / 12)))


def demographics(seed: int, total: int, keys: list[str], *, young: float = 1.0,
                 with_13_17: bool = True) -> list[tuple[list[str], int]]:
    """Deterministic counts per breakdown cell; `young` > 1 tilts the audience younger."""
    rng = random.Random(seed)
    ages = AGE_BUCKETS if with_13_17 else AGE_BUCKETS[1:]
    base = {"13-17": 0.05, "18-24": 0.27, "25-34": 0.30, "35-44": 0.18, "45-54": 0.11,
            "55-64": 0.06, "65+": 0.03}
    age_w = {a: base[a] * (young if a in ("13-17", "18-24") else 1) * rng.uniform(0.8, 1.2) for a in ages}
    dims = {"age": age_w, "gender": {"F": 0.56, "M": 0.40, "U": 0.04},
            "city": {c: rng.uniform(1, 5) for c in CITIES}, "country": {c: rng.uniform(1, 5) for c in COUNTRIES}}
    cells: list[tuple[list[str], float]] = [([], 1.0)]
    for key in keys:
        weights = dims[key]
        norm = sum(weights.values())
        cells = [(d + [k], w * v / norm) for d, w in cells for k, v in weights.items()]
    return [(d, round(total * w)) for d, w in cells if round(total * w) > 0]


class FetchFailed(Exception):
    """The media URL could not be fetched (any reason Meta's cURL would give up)."""


def fetch_image(url: str, *, max_bytes: int, timeout_s: float = 5.0) -> tuple[bytes, str]:
    """GET the image like Meta does; returns (bytes, sniffed mime type). Reads at most max_bytes+1."""
    if not re.match(r"^https?://", url or ""):
        raise FetchFailed(f"not an http(s) URL: {url!r}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "facebookexternalhit/1.1"}),
                         timeout=timeout_s) as response:
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchFailed(str(exc)) from None
    mime = next((m for magic, m in _MAGIC.items() if data.startswith(magic)), "application/octet-stream")
    return data, mime


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:  # noqa: BLE001 - any undecodable image just has no size
        return None


@dataclass
class Token:
    issued_at: datetime
    expires_at: datetime | None
    revoked: bool = False


@dataclass
class Container:
    """A media container (Instagram, Threads): IN_PROGRESS -> FINISHED -> PUBLISHED, or ERROR/EXPIRED."""

    id: str
    owner: str
    created_at: datetime
    params: dict[str, Any]
    status_code: str = "IN_PROGRESS"
    polls: int = 0
    media_id: str | None = None
    error_subcode: int | None = None
    refusal: tuple[str, int] | None = None  # what processing will find wrong: (error_message, subcode)


STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
}


class GraphSim(PlatformSim):
    """Base of the Meta simulations: versioned paths, token checks, usage headers, control actions."""

    demo_token: ClassVar[str]
    usage_header: ClassVar[str] = "X-Business-Use-Case-Usage"
    usage_type: ClassVar[str] = "pages"
    throttle: ClassVar[tuple[int, str]] = (4, "(#4) Application request limit reached")
    token_lifetime: ClassVar[timedelta | None] = timedelta(days=60)
    refresh_grant: ClassVar[str | None] = None  # ig_refresh_token / th_refresh_token
    defaults: ClassVar[dict[str, Any]] = {}
    common: ClassVar[dict[str, Any]] = {"ready_after_polls": 2, "ready_after_s": 30.0, "followers": 1240,
                                        "with_13_17": True, "seed": 7, "quota_total": 50,
                                        "quota_duration": 86400, "min_refresh_age_s": 86400.0,
                                        "container_error_subcode": None}

    def account_id(self) -> str:
        raise NotImplementedError

    def reset(self) -> None:
        now = self.clock()
        self.tokens: dict[str, Token] = {self.demo_token: self._token(now - timedelta(days=2))}
        self.usage = {"call_count": 3, "total_cputime": 1, "total_time": 2, "estimated_time_to_regain_access": 0}
        self.config: dict[str, Any] = {**self.common, **self.defaults}
        self.containers: dict[str, Container] = {}
        self.ids = itertools.count(1)

    def _token(self, issued_at: datetime) -> Token:
        life = self.token_lifetime
        return Token(issued_at=issued_at, expires_at=issued_at + life if life else None)

    def new_id(self, base: int) -> str:
        return str(base + next(self.ids))

    # -- request plumbing ---------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        match = _VERSION.match(req.path)
        if match:
            req.path = match.group(1)
        with self.lock:
            if req.path == "/refresh_access_token" and self.refresh_grant:
                response = self.refresh(req)
            else:
                response = self.authorize(req) or self.router.dispatch(req) or self.not_found(req)
            response.headers.update(self.usage_headers())
        return response

    def not_found(self, req: Request) -> Response:
        node = req.path.strip("/").split("/")[0]
        return graph_error(f"Unsupported {req.method.lower()} request. Object with ID '{node}' does not "
                           "exist, cannot be loaded due to missing permissions, or does not support "
                           "this operation.", 100, subcode=33)

    @staticmethod
    def token_of(req: Request) -> str | None:
        scheme, _, value = req.header("authorization").strip().partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return req.param("access_token")

    def authorize(self, req: Request) -> Response | None:
        token = self.token_of(req)
        if not token:
            return graph_error("An access token is required to request this resource.", 104)
        return self.token_problem(token)

    def token_problem(self, token: str) -> Response | None:
        state = self.tokens.get(token)
        if state is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if state.revoked:
            return graph_error("Error validating access token: The session has been invalidated because "
                               "the user changed their password or Facebook has changed the session for "
                               "security reasons.", 190, subcode=460)
        if state.expires_at is not None and self.clock() >= state.expires_at:
            return graph_error(f"Error validating access token: Session has expired on "
                               f"{state.expires_at:%A, %d-%b-%y %H:%M:%S} UTC.", 190, subcode=463)
        return None

    def refresh(self, req: Request) -> Response:
        """GET /refresh_access_token: a fresh 60-day token, only for tokens at least 24 h old."""
        token = req.param("access_token") or ""
        if req.param("grant_type") != self.refresh_grant:
            return graph_error(f"Unsupported grant_type; expected {self.refresh_grant}", 100)
        problem = self.token_problem(token)
        if problem is not None:
            return problem
        age = (self.clock() - self.tokens[token].issued_at).total_seconds()
        if age < float(self.config["min_refresh_age_s"]):
            return graph_error("(#100) The access token must be at least 24 hours old to be refreshed", 100)
        new = f"{self.demo_token[:6]}R{hashlib.sha1(f'{token}{self.clock()}'.encode()).hexdigest()[:24]}"
        self.tokens[new] = self._token(self.clock())
        life = self.token_lifetime or timedelta(days=60)
        return json_response({"access_token": new, "token_type": "bearer",
                              "expires_in": int(life.total_seconds())})

    # -- usage headers and throttling ---------------------------------------------------------

    def usage_headers(self, **override: int) -> dict[str, str]:
        usage = {**self.usage, **override}
        if self.usage_header == "X-App-Usage":
            body: Any = {k: usage[k] for k in ("call_count", "total_cputime", "total_time")}
        else:
            body = {self.account_id(): [{"type": self.usage_type, **usage}]}
        return {self.usage_header: json.dumps(body)}

    def rate_limited(self, rule: FaultRule) -> Response:
        minutes = max(1, math.ceil(rule.retry_after_s / 60))
        code, message = self.throttle
        return graph_error(message, code, transient=True,
                           headers=self.usage_headers(call_count=100, estimated_time_to_regain_access=minutes))

    # -- control ------------------------------------------------------------------------------

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        token = str(payload.get("token") or self.demo_token)
        if action == "add_token":
            issued = self.clock() - timedelta(seconds=float(payload.get("age_s", 0)))
            self.tokens[token] = self._token(issued)
            return json_response({"token": "added"})
        if action in ("revoke", "expire") and token in self.tokens:
            state = self.tokens[token]
            if action == "revoke":
                state.revoked = True
            else:
                state.expires_at = self.clock() - timedelta(seconds=1)
            return json_response({action: True})
        if action == "usage":
            self.usage.update({k: int(v) for k, v in payload.items() if k in self.usage})
            return json_response(self.usage)
        if action == "config":
            unknown = sorted(set(payload) - set(self.config))
            if unknown:
                return json_response({"error": f"unknown config keys: {', '.join(unknown)}"}, 400)
            self.config.update(payload)
            return json_response(self.config)
        if action == "container" and str(payload.get("id")) in self.containers:
            container = self.containers[str(payload["id"])]
            container.status_code = str(payload.get("status_code", container.status_code))
            container.error_subcode = payload.get("error_subcode", container.error_subcode)
            return json_response({"id": container.id, "status_code": container.status_code})
        return json_response({"error": f"unknown control action {action!r} (or unknown token/id)"}, 404)

    # -- containers -----------------------------------------------------------------------------

    def container_status(self, container: Container, *, poll: bool = True) -> str:
        """Advance the state machine (a status read counts as a poll): IN_PROGRESS until enough
        polls or sim seconds, EXPIRED after 24 h unpublished."""
        now = self.clock()
        container.polls += int(poll)
        age = (now - container.created_at).total_seconds()
        if container.status_code in ("IN_PROGRESS", "FINISHED") and age > 86400:
            container.status_code = "EXPIRED"
        elif container.status_code == "IN_PROGRESS" and (
                container.polls >= int(self.config["ready_after_polls"])
                or age >= float(self.config["ready_after_s"])):
            failure = self.config["container_error_subcode"] or (  # processing fails (e.g. 2207001)
                container.refusal[1] if container.refusal else None)
            container.status_code, container.error_subcode = ("ERROR", int(failure)) if failure \
                else ("FINISHED", None)
        return container.status_code

    def status_text(self, container: Container) -> str:
        if container.status_code == "ERROR":
            return f"Error: Media upload has failed with error code {container.error_subcode or 2207001}"
        return STATUS_TEXT[container.status_code]

    def quota_used(self, published: list[datetime]) -> int:
        window = timedelta(seconds=int(self.config["quota_duration"]))
        return sum(1 for at in published if self.clock() - at < window)

    def quota_body(self, published: list[datetime]) -> dict[str, Any]:
        return {"data": [{"quota_usage": self.quota_used(published),
                          "config": {"quota_total": int(self.config["quota_total"]),
                                     "quota_duration": int(self.config["quota_duration"])}}]}

    @staticmethod
    def fields(req: Request, default: str) -> list[str]:
        return [f.strip() for f in (req.param("fields") or default).split(",") if f.strip()]


def pick_fields(node: dict[str, Any], wanted: list[str], node_type: str) -> Response | dict[str, Any]:
    """Answer `?fields=` like Graph: the asked fields plus id; an unknown field is error 100."""
    out: dict[str, Any] = {}
    for name in wanted:
        if name not in node:
            return graph_error(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
                               100)
        if node[name] is not None:
            out[name] = node[name]
    out["id"] = node["id"]
    return out


@dataclass
class Published:
    """A post/media as the simulation keeps it."""

    id: str
    text: str
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


class ContainerSim(GraphSim):
    """Instagram and Threads: posts go through media containers, within a rolling 24 h quota."""

    user_id: ClassVar[str]
    media_id_base: ClassVar[int]

    def account_id(self) -> str:
        return self.user_id

    def reset(self) -> None:
        super().reset()
        self.media: dict[str, Published] = {}

    def user(self, user: str) -> bool:
        return user in ("me", self.user_id)

    def published_times(self) -> list[datetime]:
        return [m.created_at for m in self.media.values()]

    def publishing_limit(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        return json_response(self.quota_body(self.published_times()))

    def quota_reached(self) -> bool:
        return self.quota_used(self.published_times()) >= int(self.config["quota_total"])

    def publish_container(self, container: Container, text: str) -> Response:
        """The container becomes a published media object (checks done by the caller)."""
        media = Published(id=self.new_id(self.media_id_base), text=text, created_at=self.clock(),
                          extra={**container.params, "container_id": container.id})
        self.media[media.id] = media
        container.status_code, container.media_id = "PUBLISHED", media.id
        return json_response({"id": media.id})

    def media_node(self, media: Published) -> dict[str, Any]:
        raise NotImplementedError

    def listing(self, req: Request, user: str, node_type: str) -> Response:
        """The account's media, newest first, a page at a time, with the asked `fields`."""
        if not self.user(user):
            return self.not_found(req)
        newest = sorted(self.media.values(), key=lambda m: (m.created_at, m.id), reverse=True)
        try:
            page, paging = graph_page(req, newest, id_of=lambda m: m.id)
        except PagingError as exc:
            return graph_error(f"(#100) {exc}", 100)
        data = [pick_fields(self.media_node(media), self.fields(req, "id"), node_type) for media in page]
        refused = next((d for d in data if isinstance(d, Response)), None)  # an unknown field: error 100
        return refused or json_response({"data": data, **({"paging": paging} if paging else {})})
