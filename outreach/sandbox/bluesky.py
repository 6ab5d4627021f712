"""A Bluesky PDS, simulated: sessions with JWT-shaped tokens and rotating refresh tokens,
`uploadBlob`, `createRecord` with client-chosen record keys, `getRecord`, `app.bsky.feed.getPosts`,
lexicon validation with the recorded error messages, and `RateLimit-*` headers (epoch reset).

Wire formats follow platforms.md section 5 and what the real PDS (@atproto/pds 0.4.217) answers.
Everything runs on the injected clock: token lifetimes, rate-limit windows and the like and
repost counters, which grow with a post's age so harvesting has something to watch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import regex

from outreach.sandbox.bluesky_video import VideoService
from outreach.sandbox.core import DemoAccount, FaultRule, PlatformSim
from outreach.sandbox.http import Request, Response, json_response

DEMO_IDENTIFIER = "outreach-demo.bsky.social"
DEMO_PASSWORD = "demo-app4-pass-word"  # the shape of a Bluesky app password: xxxx-xxxx-xxxx-xxxx
POST = "app.bsky.feed.post"
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_LIMITS = ("access_ttl", "refresh_ttl", "max_upload_bytes", "max_image_bytes", "create_session_daily_limit",
           "request_limit", "write_points_per_hour")
_TID = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cid_for(data: bytes, *, codec: int = 0x55) -> str:
    """A real CIDv1 (sha2-256, base32): `bafkrei…` for raw blobs, `bafyrei…` for records (dag-cbor)."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode("ascii").lower().rstrip("=")


def tid_for(moment: datetime, clock_id: int) -> str:
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    value = (micros << 10) | (clock_id & 0x3FF)
    return "".join(_B32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def xrpc_error(status: int, error: str, message: str, **headers: str) -> Response:
    return json_response({"error": error, "message": message}, status, **headers)


@dataclass
class SimAccount:
    did: str
    handle: str
    password: str
    display_name: str


@dataclass
class SimRefresh:
    did: str
    expires_at: datetime
    next_token: str | None = None  # set once rotated; usable for the grace period after rotation
    rotated_at: datetime | None = None
    revoked: bool = False


@dataclass
class SimRecord:
    did: str
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]
    indexed_at: datetime
    blobs: list[str] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


class BlueskySim(PlatformSim):
    """One PDS with app-password accounts, as an XRPC client sees it (no appview, no firehose)."""

    prefix: ClassVar[str] = "bluesky"

    def __init__(self, *, access_ttl_s: float = 7200, refresh_ttl_s: float = 90 * 86400,
                 refresh_grace_s: float = 7200, max_upload_bytes: int = 52_428_800,
                 max_image_bytes: int = 2_000_000, create_session_daily_limit: int = 300,
                 request_limit: int = 3000, request_window_s: int = 300,
                 write_points_per_hour: int = 5000, **kwargs: Any) -> None:
        self.access_ttl = timedelta(seconds=access_ttl_s)
        self.refresh_ttl = timedelta(seconds=refresh_ttl_s)
        self.refresh_grace = timedelta(seconds=refresh_grace_s)
        self.max_upload_bytes = max_upload_bytes
        self.max_image_bytes = max_image_bytes
        self.create_session_daily_limit = create_session_daily_limit
        self.request_limit = request_limit
        self.request_window_s = request_window_s
        self.write_points_per_hour = write_points_per_hour
        super().__init__(**kwargs)

    def reset(self) -> None:
        self.accounts: dict[str, SimAccount] = {}
        self.access: dict[str, tuple[str, datetime]] = {}  # token -> (did, expires)
        self.refresh: dict[str, SimRefresh] = {}
        self.blobs: dict[str, dict[str, Any]] = {}
        self.records: dict[tuple[str, str, str], SimRecord] = {}
        self.counters: dict[tuple[str, ...], int] = {}
        self.calls: dict[str, int] = {}
        self._key = secrets.token_bytes(32)
        self._clock_id = 0
        self._base = ""
        self.video.reset()
        self.add_account(DEMO_IDENTIFIER, DEMO_PASSWORD, "Outreach demo (sandbox)")

    def add_account(self, handle: str, password: str, display_name: str = "") -> SimAccount:
        did = "did:plc:" + base64.b32encode(hashlib.sha256(handle.encode()).digest()).decode().lower()[:24]
        account = SimAccount(did=did, handle=handle, password=password, display_name=display_name)
        self.accounts[did] = account
        return account

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/xrpc/com\.atproto\.server\.createSession", self._create_session)
        add("POST", r"/xrpc/com\.atproto\.server\.refreshSession", self._refresh_session)
        add("GET", r"/xrpc/com\.atproto\.server\.getSession", self._get_session)
        add("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob", self._upload_blob)
        add("POST", r"/xrpc/com\.atproto\.repo\.createRecord", self._create_record)
        add("GET", r"/xrpc/com\.atproto\.repo\.getRecord", self._get_record)
        add("GET", r"/xrpc/com\.atproto\.sync\.getBlob", self._get_blob)
        add("GET", r"/xrpc/app\.bsky\.feed\.getPosts", self._get_posts)
        add("GET", r"/xrpc/_health", lambda req: json_response({"version": "0.4.217-sandbox"}))
        self.video = VideoService(self)
        self.video.routes(add)

    # -- plumbing: rate limits, tokens --------------------------------------------------------

    def handle(self, req: Request) -> Response:
        with self.lock:
            self._base = f"http://{req.header('host', '127.0.0.1')}/{self.prefix}"
            nsid = req.path.rsplit("/", 1)[-1]
            self.calls[nsid] = self.calls.get(nsid, 0) + 1
            headers, over = self._window("requests", self.request_limit, self.request_window_s)
            if over:
                return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **headers)
            response = self.router.dispatch(req) or xrpc_error(
                501, "MethodNotImplemented", "Method Not Implemented")
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            return response

    def _window(self, name: str, limit: int, window_s: int, *, cost: int = 1,
                key: str = "") -> tuple[dict[str, str], bool]:
        """Count `cost` points in the current fixed window; headers as the PDS sends them."""
        now = self.clock().timestamp()
        index = int(now // window_s)
        counter = (name, key, str(index))
        used = self.counters.get(counter, 0) + cost
        self.counters[counter] = used
        headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, limit - used)),
                   "RateLimit-Reset": str((index + 1) * window_s), "RateLimit-Policy": f"{limit};w={window_s}"}
        return headers, used > limit

    def rate_limited(self, rule: FaultRule) -> Response:
        reset = int(self.clock().timestamp() + rule.retry_after_s)
        return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **{
            "RateLimit-Limit": str(self.request_limit), "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset), "RateLimit-Policy": f"{self.request_limit};w={self.request_window_s}"})

    def _jwt(self, claims: dict[str, Any]) -> str:
        head = _b64(json.dumps({"typ": "at+jwt", "alg": "HS256"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}"

    def _issue(self, did: str) -> tuple[str, str]:
        now = self.clock()
        iat = int(now.timestamp())
        access = self._jwt({"scope": "com.atproto.appPass", "sub": did, "aud": "did:web:sandbox.test",
                            "iat": iat, "exp": int((now + self.access_ttl).timestamp())})
        self.access[access] = (did, now + self.access_ttl)
        refresh = self._jwt({"scope": "com.atproto.refresh", "sub": did, "aud": "did:web:sandbox.test",
                             "jti": secrets.token_urlsafe(24), "iat": iat,
                             "exp": int((now + self.refresh_ttl).timestamp())})
        self.refresh[refresh] = SimRefresh(did=did, expires_at=now + self.refresh_ttl)
        return access, refresh

    def jwt(self, claims: dict[str, Any]) -> str:
        return self._jwt(claims)

    def authed(self, req: Request) -> SimAccount | Response:
        return self._authed(req)

    def base_url(self) -> str:
        return self._base

    def store_blob(self, did: str, data: bytes, mime: str) -> dict[str, Any]:
        """Keep a blob in the repo's blob store; returns its reference as `uploadBlob` answers it."""
        cid = cid_for(data)
        self.blobs[cid] = {"cid": cid, "did": did, "mimeType": mime, "size": len(data), "data": data}
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}

    def _bearer(self, req: Request) -> str | None:
        auth = req.header("authorization")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def _authed(self, req: Request) -> SimAccount | Response:
        token = self._bearer(req)
        if not token:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        if token in self.refresh:
            return xrpc_error(400, "InvalidToken", "Bad token scope")
        entry = self.access.get(token)
        if entry is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        did, expires = entry
        if self.clock() >= expires:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return self.accounts[did]

    def _session_body(self, account: SimAccount, access: str, refresh: str) -> dict[str, Any]:
        did_doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": account.did,
                   "alsoKnownAs": [f"at://{account.handle}"],
                   "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                "serviceEndpoint": self._base}]}
        return {"did": account.did, "didDoc": did_doc, "handle": account.handle,
                "email": f"{account.handle.split('.')[0]}@example.org",
                "emailConfirmed": self.video.email_confirmed,
                "emailAuthFactor": False, "accessJwt": access, "refreshJwt": refresh, "active": True}

    # -- server: sessions ---------------------------------------------------------------------

    def _create_session(self, req: Request) -> Response:
        body = req.json() or {}
        identifier, password = str(body.get("identifier", "")), str(body.get("password", ""))
        account = next((a for a in self.accounts.values() if identifier in (a.did, a.handle)), None)
        headers, over = self._window("createSession", self.create_session_daily_limit, 86400,
                                     key=account.did if account else identifier.lower())
        if over:
            return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **headers)
        if account is None or not hmac.compare_digest(account.password, password):
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password", **headers)
        return json_response(self._session_body(account, *self._issue(account.did)), **headers)

    def _refresh_session(self, req: Request) -> Response:
        token = self._bearer(req) or ""
        entry = self.refresh.get(token)
        if entry is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        now = self.clock()
        if now >= entry.expires_at:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if entry.revoked or (entry.rotated_at and now > entry.rotated_at + self.refresh_grace):
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        account = self.accounts[entry.did]
        if entry.next_token is not None:  # within the grace period: the same successor again
            access, _ = self._issue(entry.did)
            return json_response(self._session_body(account, access, entry.next_token))
        access, refresh = self._issue(entry.did)
        entry.next_token, entry.rotated_at = refresh, now
        return json_response(self._session_body(account, access, refresh))

    def _get_session(self, req: Request) -> Response:
        account = self._authed(req)
        if isinstance(account, Response):
            return account
        body = self._session_body(account, "", "")
        return json_response({k: v for k, v in body.items() if k not in ("accessJwt", "refreshJwt")})

    # -- repo: blobs and records --------------------------------------------------------------

    def _upload_blob(self, req: Request) -> Response:
        account = self._authed(req)
        if isinstance(account, Response):
            return account
        if len(req.body) > self.max_upload_bytes:
            return xrpc_error(413, "PayloadTooLarge", "request entity too large")
        mime = req.content_type or "application/octet-stream"
        return json_response({"blob": self.store_blob(account.did, req.body, mime)})

    def _create_record(self, req: Request) -> Response:
        account = self._authed(req)
        if isinstance(account, Response):
            return account
        headers, over = self._window("writes", self.write_points_per_hour, 3600, cost=3, key=account.did)
        if over:
            return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **headers)
        body = req.json()
        if not isinstance(body, dict):
            return xrpc_error(400, "InvalidRequest", "Request body must be a JSON object", **headers)
        if body.get("repo") not in (account.did, account.handle):
            return xrpc_error(400, "InvalidRequest", "Invalid repo", **headers)
        collection, record = body.get("collection"), body.get("record")
        rkey = body.get("rkey") or self._tid()
        if not isinstance(record, dict) or collection != POST:
            return xrpc_error(400, "InvalidRequest", f"Unsupported collection: {collection}", **headers)
        if not _TID.match(str(rkey)):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key for {POST}: Invalid TID string "
                              f'(got "{rkey}") at $', **headers)
        problem = self._validate_post(record)
        if problem is not None:
            return xrpc_error(400, *problem, **headers)
        if (account.did, collection, rkey) in self.records:  # the MST refuses the duplicate key
            if self.guards:
                return xrpc_error(500, "InternalServerError", "Internal Server Error", **headers)
            rkey = self._tid()  # guards off: the repeat becomes a second post, to be counted
        embed = record.get("embed", {})
        blob_cids = [img["image"]["ref"]["$link"] for img in embed.get("images", [])]
        if "video" in embed:
            blob_cids += [embed["video"]["ref"]["$link"], *(c["file"]["ref"]["$link"] for c in embed.get("captions", []))]
        stored = SimRecord(did=account.did, collection=collection, rkey=str(rkey),
                           cid=cid_for(json.dumps(record, sort_keys=True).encode(), codec=0x71),
                           value=record, indexed_at=self.clock(), blobs=blob_cids)
        self.records[(account.did, collection, stored.rkey)] = stored
        rev = self._tid()
        return json_response({"uri": stored.uri, "cid": stored.cid,
                              "commit": {"cid": cid_for(rev.encode(), codec=0x71), "rev": rev},
                              "validationStatus": "valid"}, **headers)

    def _validate_post(self, record: dict[str, Any]) -> tuple[str, str] | None:
        """The lexicon checks the PDS applies to app.bsky.feed.post, with its messages."""
        def invalid(msg: str) -> tuple[str, str]:
            return "InvalidRequest", f"Invalid app.bsky.feed.post record: {msg}"

        text = record.get("text")
        if not isinstance(text, str):
            return invalid('Record must have the property "text"')
        if len(text.encode("utf-8")) > 3000:
            return invalid("Record/text must not be longer than 3000 characters")
        if len(regex.findall(r"\X", text)) > 300:
            return invalid("Record/text must not be longer than 300 graphemes")
        if not isinstance(record.get("createdAt"), str):
            return invalid('Record must have the property "createdAt"')
        if len(record.get("langs", [])) > 3:
            return invalid("Record/langs must not have more than 3 elements")
        for i, facet in enumerate(record.get("facets", [])):
            index = facet.get("index", {}) if isinstance(facet, dict) else {}
            if not all(isinstance(index.get(k), int) and index[k] >= 0 for k in ("byteStart", "byteEnd")):
                return invalid(f"Record/facets/{i}/index must have byteStart and byteEnd >= 0")
        embed = record.get("embed")
        if embed is None:
            return None
        if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.video":
            return self.video.embed_problem(embed)
        images = embed.get("images", [])
        if embed.get("$type") != "app.bsky.embed.images" or not isinstance(images, list):
            return invalid("Record/embed must be an object which includes the \"$type\" property")
        if len(images) > 4:
            return invalid("Record/embed/images must not have more than 4 elements")
        for i, image in enumerate(images):
            if not isinstance(image.get("alt"), str):
                return invalid(f'Record/embed/images/{i} must have the property "alt"')
            ref = image.get("image", {}).get("ref", {}).get("$link")
            blob = self.blobs.get(ref)
            if blob is None:
                return "BlobNotFound", f"Could not find blob: {ref}"
            if not blob["mimeType"].startswith("image/"):
                return "InvalidMimeType", f"Wrong type of file. It is {blob['mimeType']} but it must match image/*."
            if blob["size"] > self.max_image_bytes:  # as @atproto/pds 0.4.217 words it
                return invalid(f"blob too big (maximum {self.max_image_bytes}, got {blob['size']}) "
                               f"at $.record.embed.images[{i}].image")
        return None

    def _tid(self) -> str:
        self._clock_id += 1
        return tid_for(self.clock(), self._clock_id)

    def _find(self, repo: str, collection: str, rkey: str) -> SimRecord | None:
        did = next((a.did for a in self.accounts.values() if repo in (a.did, a.handle)), repo)
        return self.records.get((did, collection, rkey))

    def _get_record(self, req: Request) -> Response:
        repo, collection, rkey = (req.param(k) or "" for k in ("repo", "collection", "rkey"))
        record = self._find(repo, collection, rkey)
        if record is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: at://{repo}/{collection}/{rkey}")
        return json_response({"uri": record.uri, "cid": record.cid, "value": record.value})

    def _get_blob(self, req: Request) -> Response:
        blob = self.blobs.get(req.param("cid") or "")
        if blob is None or blob["did"] != req.param("did"):
            return xrpc_error(400, "BlobNotFound", "Blob not found")
        return Response(200, blob["data"], {"Content-Type": blob["mimeType"]})

    # -- app.bsky (what the PDS proxies to the appview) ---------------------------------------

    def counts(self, record: SimRecord) -> dict[str, int]:
        """Engagement that grows with age on the sim clock: fast at first, levelling off."""
        hours = max(0.0, (self.clock() - record.indexed_at).total_seconds() / 3600)
        peak = 20 + int(hashlib.sha256(record.uri.encode()).hexdigest()[:4], 16) % 180
        likes = int(peak * (1 - math.exp(-hours / 12)))
        return {"replyCount": likes // 10, "repostCount": likes // 6, "likeCount": likes,
                "quoteCount": likes // 25}

    def _get_posts(self, req: Request) -> Response:
        account = self._authed(req)
        if isinstance(account, Response):
            return account
        uris = req.query.get("uris", [])
        if len(uris) > 25:
            return xrpc_error(400, "InvalidRequest", "Error: uris must not have more than 25 elements")
        posts = []
        for uri in uris:
            parts = uri.removeprefix("at://").split("/")
            record = self._find(*parts) if len(parts) == 3 else None
            if record is None:
                continue  # missing or deleted posts are simply absent
            author = self.accounts[record.did]
            posts.append({"uri": record.uri, "cid": record.cid, "record": record.value,
                          "author": {"did": author.did, "handle": author.handle,
                                     "displayName": author.display_name},
                          **self.counts(record), "indexedAt": iso(record.indexed_at), "labels": []})
        return json_response({"posts": posts})

    # -- control and state --------------------------------------------------------------------

    def control(self, action: str, payload: dict[str, Any]) -> Response:
        if action == "set_limits":  # e.g. an older PDS: {"max_image_bytes": 1000000}
            for key, value in payload.items():
                if key not in _LIMITS:
                    return xrpc_error(400, "InvalidRequest", f"unknown limit {key!r}")
                setattr(self, key, timedelta(seconds=value) if key.endswith("_ttl") else int(value))
            return json_response({"limits": {k: str(getattr(self, k)) for k in _LIMITS}})
        if action == "set_password":  # a new app password; the old one deleted, its sessions ended
            account = next((a for a in self.accounts.values()
                            if payload.get("identifier") in (a.did, a.handle)), None)
            if account is None:
                return xrpc_error(400, "InvalidRequest", "unknown account")
            account.password = str(payload.get("password", ""))
            for entry in self.refresh.values():  # deleting an app password ends its sessions
                entry.revoked = True
            self.access.clear()
            return json_response({"password_set": True})
        if action == "revoke_sessions":  # what "sign out everywhere" or an app-password deletion does
            for entry in self.refresh.values():
                entry.revoked = True
            self.access.clear()
            return json_response({"revoked": True})
        if action == "video":  # the video service: {"polls", "failure", "email_confirmed", "daily_videos", ...}
            return json_response(self.video.control(payload))
        if action == "delete_record":
            record = self._find(str(payload.get("did", "")), POST, str(payload.get("rkey", "")))
            if record is not None:
                del self.records[(record.did, record.collection, record.rkey)]
            return json_response({"deleted": record is not None})
        return super().control(action, payload)

    def published_texts(self) -> list[str]:
        return [r["value"]["text"] for r in self.state()["records"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-bluesky", "bluesky", f"{url}/bluesky", options={
            "identifier": DEMO_IDENTIFIER, "video_service_url": f"{url}/bluesky/video",
            "video_service_did": "did:web:video.sandbox.test"}, secrets={"password": DEMO_PASSWORD})

    def state(self) -> dict[str, Any]:
        """Accounts, records and blobs (never tokens), for exactly-once checks and the demo."""
        return {
            "accounts": [{"did": a.did, "handle": a.handle} for a in self.accounts.values()],
            "records": [{"uri": r.uri, "rkey": r.rkey, "cid": r.cid, "value": r.value,
                         "indexedAt": iso(r.indexed_at), **self.counts(r)} for r in self.records.values()],
            "blobs": [{k: v for k, v in b.items() if k != "data"} for b in self.blobs.values()],
            "sessions": {"active_refresh_tokens": sum(1 for e in self.refresh.values()
                                                      if not e.revoked and e.next_token is None)},
            "calls": dict(self.calls),
            "video_jobs": self.video.state(),
            "video_uploads": self.video.multipart.state(),
        }
