"""The sandbox application: platform simulations mounted under path prefixes, plus fault injection.

Each platform simulation lives in its own module, subclasses `PlatformSim`, speaks that
platform's real wire format and keeps its own state. The sandbox never imports connectors:
the simulation must not share the connectors' mistakes.

Control API (JSON), for tests, the demo and people poking at it:
  GET    /_sandbox/state                 every simulation's state (posts, containers, ...)
  GET    /_sandbox/published             what each platform shows as published: text -> count
  POST   /_sandbox/faults                add a fault rule (see `FaultRule`)
  DELETE /_sandbox/faults                clear all fault rules
  POST   /_sandbox/reset                 forget all state and faults
  POST   /_sandbox/{prefix}/{action}     platform-specific control (e.g. revoke a token)
  GET    /media/{path}                   files from the media directory (public URLs for Meta, TikTok)
"""

from __future__ import annotations

import hashlib
import mimetypes
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from outreach.sandbox.http import Drop, Request, Response, Router, SandboxHTTPServer, json_response

Clock = Callable[[], datetime]

FAULT_MODES = ("error", "timeout_before", "timeout_after", "reset_before", "reset_after", "rate_limit",
               "garble_after")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FaultRule:
    """Inject a failure into matching requests.

    mode: error (answer `status`/`body` without acting), rate_limit (the platform's own 429 or
    throttle answer), timeout_before (stall `delay_s`, then answer 504 without acting),
    timeout_after (act, then stall `delay_s` before answering: the client times out although
    the platform did the work), reset_before / reset_after (close the connection without an
    answer, before or after acting), garble_after (act, then answer `status`/`body` instead of
    the platform's answer: a success the client cannot read).
    `times` limits how often it fires (None = unlimited); `rate` fires with that probability;
    `after` lets the first N matching requests through untouched.
    """

    platform: str
    mode: str
    method: str | None = None
    path: str | None = None  # substring of the path below the prefix
    status: int = 503
    body: Any = None
    headers: dict[str, str] | None = None  # sent with an `error` answer (e.g. Retry-After)
    delay_s: float = 2.0
    retry_after_s: float = 60.0
    times: int | None = 1
    rate: float = 1.0
    after: int = 0  # let this many matching requests through first
    fired: int = 0
    seen: int = 0

    def matches(self, prefix: str, req: Request) -> bool:
        if self.platform not in ("*", prefix):
            return False
        if self.method and self.method.upper() != req.method:
            return False
        return not (self.path and self.path not in req.path)


@dataclass
class Account:
    """A simulated account and the token that opens it."""

    id: str
    username: str
    display_name: str
    token: str
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoAccount:
    """A channel that works against the sandbox out of the box (the demo writes these into its config)."""

    channel: str
    platform: str
    base_url: str
    options: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # key -> value; public sandbox values only


class PlatformSim:
    """Base of every platform simulation. Subclasses add routes in `setup_routes`, say what they hold
    as published (`published_texts`) and which ready-made channel opens them (`demo_account`)."""

    prefix: ClassVar[str]

    def __init__(self, *, clock: Clock = utcnow, media_dir: Path | None = None) -> None:
        self.clock = clock
        self.media_dir = media_dir
        # The platform's own guards against a repeated request (Mastodon's Idempotency-Key, a
        # duplicate Bluesky record key, Meta's duplicate-message and published-container checks).
        # Tests switch them off to prove outreach's own reconcile. LinkedIn's duplicate-content
        # answer stays: it is the question LinkedIn's reconcile asks (README, "Guarantees").
        self.guards = True
        # Upload URLs and session URIs that are capabilities (YouTube's upload_id, TikTok's upload_token,
        # LinkedIn's signed `sau`) start with this random marker, new for every simulation, so a test can
        # look for it wherever outreach must never keep one (database, logs, archive, dashboard).
        self.capability_marker = "cap" + secrets.token_hex(8)
        self.lock = threading.RLock()
        self.router = Router()
        self.setup_routes()
        self.reset()

    def setup_routes(self) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all state."""

    def capability(self, what: str) -> str:
        """The secret part of an upload URL for `what` (an upload's id): the marker and a keyed digest."""
        return self.capability_marker + hashlib.sha256(f"{self.capability_marker}/{what}".encode()).hexdigest()[:16]

    def handle(self, req: Request) -> Response:
        with self.lock:
            response = self.router.dispatch(req)
        return response or self.not_found(req)

    def not_found(self, req: Request) -> Response:
        return json_response({"error": "Record not found"}, 404)

    def rate_limited(self, rule: FaultRule) -> Response:
        """The platform's own answer when throttled. Override per platform."""
        return json_response({"error": "Too many requests"}, 429,
                             **{"Retry-After": str(int(rule.retry_after_s))})

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        return json_response({"error": f"unknown control action {action!r}"}, 404)

    def state(self) -> dict[str, Any]:
        return {}

    def published_texts(self) -> list[str]:
        """The text of every post this platform now shows as published (once per post), so tests
        count duplicates and losses on the platform's side without knowing its state's shape."""
        raise NotImplementedError

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        """The channel (named as in the example campaigns) that works against this simulation at `url`."""
        raise NotImplementedError


class Sandbox:
    """The WSGI-like application the HTTP server calls: prefix routing, faults, control API."""

    def __init__(self, sims: list[PlatformSim], *, media_dir: Path | None = None, seed: int = 0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sims = {sim.prefix: sim for sim in sims}
        self.media_dir = media_dir
        self.faults: list[FaultRule] = []
        self.random = random.Random(seed)
        self.sleep = sleep
        self.lock = threading.Lock()
        self.requests_seen: list[tuple[str, str, str]] = []  # (prefix, method, path)
        # The same with the simulation's clock, and every fault fired: (prefix, mode, time, rule).
        self.request_log: list[tuple[str, str, str, datetime]] = []
        self.fault_log: list[tuple[str, str, datetime, FaultRule]] = []

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, **kwargs: Any) -> FaultRule:
        if kwargs.get("mode") not in FAULT_MODES:
            raise ValueError(f"fault mode must be one of {', '.join(FAULT_MODES)}")
        rule = FaultRule(**kwargs)
        with self.lock:
            self.faults.append(rule)
        return rule

    def set_guards(self, enabled: bool) -> None:
        """Switch every simulated platform's own duplicate guards on or off (see `PlatformSim.guards`)."""
        for sim in self.sims.values():
            with sim.lock:
                sim.guards = enabled

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _pick_fault(self, prefix: str, req: Request) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if not rule.matches(prefix, req):
                    continue
                rule.seen += 1
                if rule.seen > rule.after and self.random.random() < rule.rate:
                    rule.fired += 1
                    return rule
        return None

    # -- dispatch ---------------------------------------------------------------------------

    def __call__(self, req: Request) -> Response:
        parts = req.path.split("/", 2)  # "", prefix, rest
        prefix = parts[1] if len(parts) > 1 else ""
        if prefix == "_sandbox":
            return self._control(req, parts[2] if len(parts) > 2 else "")
        if prefix == "media":
            return self._media(parts[2] if len(parts) > 2 else "")
        sim = self.sims.get(prefix)
        if sim is None:
            return json_response({"error": f"no simulated platform at /{prefix}"}, 404)
        req.path = "/" + (parts[2] if len(parts) > 2 else "")
        now = sim.clock()
        with self.lock:
            self.requests_seen.append((prefix, req.method, req.path))
            self.request_log.append((prefix, req.method, req.path, now))
        rule = self._pick_fault(prefix, req)
        if rule is None:
            return sim.handle(req)
        with self.lock:
            self.fault_log.append((prefix, rule.mode, now, rule))
        return self._apply(rule, sim, req)

    def _apply(self, rule: FaultRule, sim: PlatformSim, req: Request) -> Response:
        if rule.mode == "error":
            return Response(rule.status, rule.body if rule.body is not None else {"error": "injected fault"},
                            dict(rule.headers or {}))
        if rule.mode == "rate_limit":
            return sim.rate_limited(rule)
        if rule.mode == "reset_before":
            raise Drop
        if rule.mode == "timeout_before":
            self.sleep(rule.delay_s)
            return Response(504, {"error": "Gateway timeout"})
        response = sim.handle(req)  # the platform acts ...
        if rule.mode == "garble_after":
            return Response(rule.status, rule.body if rule.body is not None else b"")
        if rule.mode == "reset_after":
            raise Drop
        self.sleep(rule.delay_s)  # ... and the answer comes too late
        return response

    def published(self) -> dict[str, Counter[str]]:
        """What every simulated platform holds as published: prefix -> text -> how many times."""
        result = {}
        for prefix, sim in self.sims.items():
            with sim.lock:
                result[prefix] = Counter(sim.published_texts())
        return result

    def _control(self, req: Request, rest: str) -> Response:
        if rest == "state" and req.method == "GET":
            return json_response({prefix: sim.state() for prefix, sim in self.sims.items()})
        if rest == "published" and req.method == "GET":
            return json_response({prefix: dict(texts) for prefix, texts in self.published().items()})
        if rest == "faults":
            if req.method == "POST":
                try:
                    rule = self.add_fault(**(req.json() or {}))
                except (TypeError, ValueError) as exc:
                    return json_response({"error": str(exc)}, 400)
                return json_response(asdict(rule), 201)
            if req.method == "DELETE":
                self.clear_faults()
                return json_response({"cleared": True})
            if req.method == "GET":
                return json_response([asdict(r) for r in self.faults])
        if rest == "guards" and req.method == "POST":
            self.set_guards(bool((req.json() or {}).get("enabled", True)))
            return json_response({"guards": all(sim.guards for sim in self.sims.values())})
        if rest == "reset" and req.method == "POST":
            self.clear_faults()
            for sim in self.sims.values():
                with sim.lock:
                    sim.reset()
            return json_response({"reset": True})
        prefix, _, action = rest.partition("/")
        sim = self.sims.get(prefix)
        if sim is not None and req.method == "POST":
            with sim.lock:
                return sim.control(action, req.json() or {})
        return json_response({"error": f"unknown control endpoint /_sandbox/{rest}"}, 404)

    def _media(self, rel: str) -> Response:
        if self.media_dir is None:
            return Response(404, b"no media directory", {"Content-Type": "text/plain"})
        root = self.media_dir.resolve()
        path = (root / rel).resolve()
        if root not in path.parents or not path.is_file():
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(200, path.read_bytes(), {"Content-Type": ctype})


def serve(sandbox: Sandbox, *, host: str = "127.0.0.1", port: int = 0,
          verbose: bool = False) -> SandboxHTTPServer:
    """Start serving `sandbox` in a background thread; returns the running server (has `.url`)."""
    return SandboxHTTPServer(sandbox, host, port, verbose=verbose).start()
