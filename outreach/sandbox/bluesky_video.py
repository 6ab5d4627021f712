"""Bluesky's video service (video.bsky.app), simulated beside the PDS simulation, under `/video`.

The PDS side: `com.atproto.server.getServiceAuth` with the real `BadExpiration` rules. The service
side: `app.bsky.video.getUploadLimits` (daily videos and bytes), `uploadVideo` (raw bytes with a
service token whose `aud` is the account's PDS `did:web` and `lxm` is `com.atproto.repo.uploadBlob`;
the answer is the JobStatus itself, unwrapped, as the real service sends it), `already_exists` (409)
for repeated bytes, `unconfirmed_email`, and `getJobStatus` (wrapped) walking CREATED → ENCODING →
SCANNING → UPLOADING → COMPLETED with `progress`, or FAILED with a `failureCode`. A completed job's
blob is written to the PDS, as the real service does with the upload token (video.md §2.1, §10)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.videofile import read_video

if TYPE_CHECKING:
    from outreach.sandbox.bluesky import BlueskySim

UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
LIMITS = "app.bsky.video.getUploadLimits"
IN_PROGRESS = ("JOB_STATE_ENCODING", "JOB_STATE_SCANNING", "JOB_STATE_UPLOADING")
MAX_VIDEO_BYTES = 300_000_000  # app.bsky.embed.video (2026-08)
MAX_DURATION_S = 600
MAX_CAPTIONS, MAX_CAPTION_BYTES = 20, 20_000


def _error(status: int, error: str, message: str) -> Response:
    return json_response({"error": error, "message": message}, status)


@dataclass
class SimJob:
    job_id: str
    did: str
    digest: str
    data: bytes
    polls: int  # in-progress answers still to give
    total: int
    failure: str | None  # failureCode it ends with, or None
    state: str = "JOB_STATE_CREATED"
    blob: dict[str, Any] | None = None

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"jobId": self.job_id, "did": self.did, "state": self.state}
        if self.state in IN_PROGRESS:
            body["progress"] = int(100 * (self.total - self.polls) / max(1, self.total + 1))
        if self.state == "JOB_STATE_COMPLETED":
            body |= {"progress": 100, "blob": self.blob}
        if self.state == "JOB_STATE_FAILED":
            body |= {"error": f"video processing error for job: {self.job_id}", "message": "Failed to process video",
                     "failureCode": self.failure}
        return body


class VideoService:
    """The video service of one PDS simulation (it shares the PDS's accounts, clock and blob store)."""

    def __init__(self, pds: BlueskySim) -> None:
        # Imported here: the multipart module builds on this one (its errors, limits and jobs).
        from outreach.sandbox.bluesky_multipart import MultipartUploads

        self.pds = pds
        self.multipart = MultipartUploads(self)
        self.reset()

    def reset(self) -> None:
        self.did = "did:web:video.sandbox.test"
        self.tokens: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, SimJob] = {}
        self.daily: dict[tuple[str, str], tuple[int, int]] = {}  # (did, UTC day) -> (videos, bytes)
        self.daily_videos, self.daily_bytes = 25, 10_000_000_000
        self.polls, self.failure, self.email_confirmed = 3, None, True
        self.multipart.reset()

    def routes(self, add: Callable[..., None]) -> None:
        add("GET", r"/xrpc/com\.atproto\.server\.getServiceAuth", self._service_auth)
        add("GET", r"/video/xrpc/app\.bsky\.video\.getUploadLimits", self._limits)
        add("POST", r"/video/xrpc/app\.bsky\.video\.uploadVideo", self._upload)
        add("GET", r"/video/xrpc/app\.bsky\.video\.getJobStatus", self._job_status)
        self.multipart.routes(add)

    def pds_did(self) -> str:
        """`did:web:` + the PDS host (a port's colon percent-encoded, as did:web requires)."""
        return "did:web:" + quote(urlsplit(self.pds.base_url()).netloc, safe="")

    # -- PDS: service tokens ----------------------------------------------------------------------

    def _service_auth(self, req: Request) -> Response:
        account = self.pds.authed(req)
        if isinstance(account, Response):
            return account
        aud, lxm = req.param("aud") or "", req.param("lxm") or None
        if not aud.startswith("did:"):
            return _error(400, "InvalidRequest", "Error: Params must have the property \"aud\"")
        now = int(self.pds.clock().timestamp())
        try:
            exp = int(req.param("exp") or now + 60)
        except ValueError:
            return _error(400, "InvalidRequest", "Error: exp must be an integer")
        if exp < now:
            return _error(400, "BadExpiration", "expiration is in past")
        if exp - now > 3600:
            return _error(400, "BadExpiration", "cannot request a token with an expiration more than an hour in "
                          "the future")
        if lxm is None and exp - now > 60:
            return _error(400, "BadExpiration", "cannot request a method-less token with an expiration more than "
                          "a minute in the future")
        claims = {"iss": account.did, "aud": aud, "lxm": lxm, "exp": exp, "jti": secrets.token_hex(8)}
        token = self.pds.jwt(claims)
        self.tokens[token] = claims
        return json_response({"token": token})

    def _bearer(self, req: Request, *, aud: str, lxm: str) -> str | Response:
        """The account did of a valid service token for this audience and method, else a 401."""
        auth = req.header("authorization")
        claims = self.tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if claims is None:
            return _error(401, "AuthMissing", "Authentication Required")
        if claims["exp"] < self.pds.clock().timestamp():
            return _error(401, "ExpiredToken", "Token has expired")
        if claims["aud"] != aud or claims["lxm"] != lxm:
            return _error(401, "InvalidToken", f"Bad token: expected aud {aud} and lxm {lxm}")
        return str(claims["iss"])

    # -- the video service ------------------------------------------------------------------------

    def _today(self, did: str) -> tuple[str, tuple[int, int]]:
        day = self.pds.clock().date().isoformat()
        return day, self.daily.get((did, day), (0, 0))

    def _limits(self, req: Request) -> Response:
        did = self._bearer(req, aud=self.did, lxm=LIMITS)
        if isinstance(did, Response):
            return did
        _, (videos, size) = self._today(did)
        left_videos, left_bytes = max(0, self.daily_videos - videos), max(0, self.daily_bytes - size)
        body: dict[str, Any] = {"canUpload": left_videos > 0 and left_bytes > 0,
                                "remainingDailyVideos": left_videos, "remainingDailyBytes": left_bytes}
        if not body["canUpload"]:
            body |= {"error": "daily_limit", "message": "You have reached your daily upload limit"}
        return json_response(body)

    def _upload(self, req: Request) -> Response:
        did = self._bearer(req, aud=self.pds_did(), lxm=UPLOAD_BLOB)
        if isinstance(did, Response):
            return did
        if req.param("did") != did:
            return _error(400, "InvalidRequest", "did does not match the service token")
        if not self.email_confirmed:
            return json_response({"jobStatus": {"did": "", "error": "unconfirmed_email", "jobId": "", "state": ""}},
                                 400)
        job = self._new_job(did, req.body, req.content_type)
        if isinstance(job, Response):
            return job
        return json_response({"did": did, "jobId": job.job_id, "state": job.state})

    def _new_job(self, did: str, data: bytes, content_type: str) -> SimJob | Response:
        """A processing job for these bytes: the earlier one for bytes seen before (409 already_exists),
        within the daily limits; a file the service cannot take ends in validation_failure."""
        digest = hashlib.sha256(data).hexdigest()
        earlier = next((j for j in self.jobs.values() if j.did == did and j.digest == digest
                        and j.state != "JOB_STATE_FAILED"), None)
        if earlier is not None and self.pds.guards:
            return json_response({"did": did, "error": "already_exists", "jobId": earlier.job_id,
                                  "message": "Video already processed", "state": "JOB_STATE_COMPLETED"}, 409)
        day, (videos, size) = self._today(did)
        if videos >= self.daily_videos or size + len(data) > self.daily_bytes:
            return _error(400, "DailyLimitExceeded", "You have reached your daily upload limit")
        self.daily[(did, day)] = (videos + 1, size + len(data))
        facts = read_video(data)
        invalid = content_type != "video/mp4" or facts is None or facts.duration_s > MAX_DURATION_S \
            or len(data) > MAX_VIDEO_BYTES
        job = SimJob(job_id=secrets.token_hex(10), did=did, digest=digest, data=data, polls=self.polls,
                     total=self.polls, failure="validation_failure" if invalid else self.failure)
        self.jobs[job.job_id] = job
        return job

    def _job_status(self, req: Request) -> Response:
        job = self.jobs.get(req.param("jobId") or "")
        if job is None:
            return _error(400, "InvalidRequest", "job not found")
        if job.state not in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED"):
            if job.polls > 0:
                job.state = IN_PROGRESS[min(len(IN_PROGRESS) - 1, job.total - job.polls)]
                job.polls -= 1
            elif job.failure:
                job.state = "JOB_STATE_FAILED"
            else:
                job.blob = self.pds.store_blob(job.did, job.data, "video/mp4")
                job.state = "JOB_STATE_COMPLETED"
        return json_response({"jobStatus": job.status()})

    # -- the PDS's lexicon check of app.bsky.embed.video ----------------------------------------

    def embed_problem(self, embed: dict[str, Any]) -> tuple[str, str] | None:
        def invalid(msg: str) -> tuple[str, str]:
            return "InvalidRequest", f"Invalid app.bsky.feed.post record: Record/embed/{msg}"

        video = embed.get("video") if isinstance(embed.get("video"), dict) else None
        if video is None:
            return invalid('video must have the property "video"')
        blob = self.pds.blobs.get(str((video.get("ref") or {}).get("$link")))
        if blob is None:
            return "BlobNotFound", f"Could not find blob: {(video.get('ref') or {}).get('$link')}"
        if blob["mimeType"] != "video/mp4":  # as @atproto/pds 0.4.217 words it (checked in test_bluesky_pds)
            return "InvalidRequest", ('Invalid app.bsky.feed.post record: Expected "video/mp4" '
                                      f'(got "{blob["mimeType"]}") at $.record.embed.video.mimeType')
        if blob["size"] > MAX_VIDEO_BYTES:
            return invalid(f"video blob too big (maximum {MAX_VIDEO_BYTES}, got {blob['size']})")
        captions = embed.get("captions", [])
        if not isinstance(captions, list) or len(captions) > MAX_CAPTIONS:
            return invalid(f"captions must not have more than {MAX_CAPTIONS} elements")
        for i, caption in enumerate(captions):
            ref = str(((caption.get("file") or {}).get("ref") or {}).get("$link"))
            file = self.pds.blobs.get(ref)
            if not caption.get("lang") or file is None:
                return invalid(f'captions/{i} must have the properties "lang" and "file"')
            if file["mimeType"] != "text/vtt":
                return "InvalidRequest", ('Invalid app.bsky.feed.post record: Expected "text/vtt" '
                                          f'(got "{file["mimeType"]}") at $.record.embed.captions[{i}].file.mimeType')
            if file["size"] > MAX_CAPTION_BYTES:
                return invalid(f"captions/{i}/file must be at most {MAX_CAPTION_BYTES} bytes")
        ratio = embed.get("aspectRatio")
        if ratio is not None and not (isinstance(ratio, dict) and all(
                isinstance(ratio.get(k), int) and ratio[k] >= 1 for k in ("width", "height"))):
            return invalid("aspectRatio/width and height must be integers >= 1")
        return None

    def control(self, payload: dict[str, Any]) -> dict[str, Any]:
        for key in ("polls", "daily_videos", "daily_bytes"):
            if key in payload:
                setattr(self, key, int(payload[key]))
        if "failure" in payload:
            self.failure = payload["failure"] or None
        if "email_confirmed" in payload:
            self.email_confirmed = bool(payload["email_confirmed"])
        if "multipart" in payload:  # {"multipart": true, "part_bytes": 65536}: the multipart flow on
            self.multipart.enabled = bool(payload["multipart"])
        if "part_bytes" in payload:
            self.multipart.part_bytes = int(payload["part_bytes"])
        return {"polls": self.polls, "failure": self.failure, "email_confirmed": self.email_confirmed}

    def state(self) -> list[dict[str, Any]]:
        return [{"jobId": j.job_id, "did": j.did, "state": j.state, "sha256": j.digest, "size": len(j.data)}
                for j in self.jobs.values()]
