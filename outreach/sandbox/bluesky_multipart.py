"""The video service's multipart upload (video.md §2.2), behind the simulation's `multipart` switch
(off: `startUpload` answers 501, as a service without it would): `startUpload` → `uploadPart` (each part
exactly `partSizeBytes`, the last the remainder; idempotent) → `finishUpload` (idempotent; `MissingParts`
names what is missing; the same bytes as an earlier video give that job as `completedJobId`), and
`getUploadStatus` for a client that lost an answer."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from outreach.sandbox.bluesky_video import MAX_VIDEO_BYTES, UPLOAD_BLOB, _error
from outreach.sandbox.http import Request, Response, json_response

if TYPE_CHECKING:
    from outreach.sandbox.bluesky_video import VideoService


@dataclass
class SimUpload:
    job_id: str
    did: str
    size: int
    part_size: int
    expires_at: datetime
    parts: dict[int, bytes] = field(default_factory=dict, repr=False)
    state: str = "created"
    completed_job: str | None = None

    @property
    def count(self) -> int:
        return max(1, math.ceil(self.size / self.part_size))

    def expected(self, number: int) -> int:
        return self.part_size if number < self.count else self.size - self.part_size * (self.count - 1)


class MultipartUploads:
    def __init__(self, service: VideoService) -> None:
        self.service = service
        self.reset()

    def reset(self) -> None:
        self.enabled, self.part_bytes = False, 8 * 1024 * 1024
        self.uploads: dict[str, SimUpload] = {}

    def routes(self, add: Callable[..., None]) -> None:
        for name, handler in (("startUpload", self._start), ("uploadPart", self._part),
                              ("finishUpload", self._finish)):
            add("POST", rf"/video/xrpc/app\.bsky\.video\.{name}", handler)
        add("GET", r"/video/xrpc/app\.bsky\.video\.getUploadStatus", self._status)

    def _who(self, req: Request) -> str | Response:
        if not self.enabled:
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        return self.service._bearer(req, aud=self.service.pds_did(), lxm=UPLOAD_BLOB)

    def _upload(self, req: Request, job_id: str | None) -> SimUpload | Response:
        did = self._who(req)
        if isinstance(did, Response):
            return did
        upload = self.uploads.get(job_id or "")
        if upload is None or upload.did != did:
            return _error(400, "InvalidRequest", "upload not found")
        if upload.state == "created" and self.service.pds.clock() > upload.expires_at:
            upload.state = "expired"
        return upload

    def _start(self, req: Request) -> Response:
        did = self._who(req)
        if isinstance(did, Response):
            return did
        body = req.json() if req.body else {}
        size = body.get("sizeBytes") if isinstance(body, dict) else None
        if not isinstance(size, int) or size < 1:
            return _error(400, "InvalidRequest", 'Input must have the property "sizeBytes"')
        if body.get("mimeType") != "video/mp4":
            return _error(400, "UnsupportedContentType", f"unsupported content type {body.get('mimeType')}")
        if size > MAX_VIDEO_BYTES:
            return _error(400, "VideoTooLarge", f"video is larger than {MAX_VIDEO_BYTES} bytes")
        upload = SimUpload(job_id=secrets.token_hex(10), did=did, size=size, part_size=self.part_bytes,
                           expires_at=self.service.pds.clock() + timedelta(hours=1))
        self.uploads[upload.job_id] = upload
        return json_response({"jobId": upload.job_id, "partSizeBytes": upload.part_size, "partCount": upload.count,
                              "expiresAt": upload.expires_at.isoformat()})

    def _part(self, req: Request) -> Response:
        upload = self._upload(req, req.param("jobId"))
        if isinstance(upload, Response):
            return upload
        if upload.state != "created":
            name = {"completed": "UploadAlreadyCompleted", "expired": "UploadExpired"}.get(upload.state, "UploadFailed")
            return _error(400, name, f"the upload is {upload.state}")
        try:
            number = int(req.param("partNumber") or "")
        except ValueError:
            number = 0
        if not 1 <= number <= upload.count:
            return _error(400, "InvalidPartNumber", f"part number must be 1 to {upload.count}")
        if len(req.body) != upload.expected(number):
            return _error(400, "PartSizeMismatch", f"part {number} must be {upload.expected(number)} bytes, "
                          f"got {len(req.body)}")
        upload.parts[number] = req.body
        return json_response({"partNumber": number, "sizeBytes": len(req.body)})

    def _finish(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        upload = self._upload(req, body.get("jobId") if isinstance(body, dict) else None)
        if isinstance(upload, Response):
            return upload
        if upload.state == "created":
            missing = [n for n in range(1, upload.count + 1) if n not in upload.parts]
            if missing:
                return _error(400, "MissingParts", f"missing parts: {', '.join(map(str, missing))}")
            data = b"".join(upload.parts[n] for n in range(1, upload.count + 1))
            digest = hashlib.sha256(data).hexdigest()
            earlier = next((j for j in self.service.jobs.values() if j.did == upload.did and j.digest == digest
                            and j.state != "JOB_STATE_FAILED"), None)
            if earlier is None or not self.service.pds.guards:
                job = self.service._new_job(upload.did, data, "video/mp4")
                if isinstance(job, Response):
                    return job
                earlier = job
            upload.state, upload.completed_job, upload.parts = "completed", earlier.job_id, {}
        if upload.state != "completed" or upload.completed_job is None:
            return _error(400, "UploadFailed", f"the upload is {upload.state}")
        return json_response({"completedJobId": upload.completed_job,
                              "jobStatus": self.service.jobs[upload.completed_job].status()})

    def _status(self, req: Request) -> Response:
        upload = self._upload(req, req.param("jobId"))
        if isinstance(upload, Response):
            return upload
        body: dict[str, Any] = {"jobId": upload.job_id, "partSizeBytes": upload.part_size,
                                "partCount": upload.count, "receivedParts": sorted(upload.parts),
                                "expiresAt": upload.expires_at.isoformat(), "state": upload.state}
        if upload.completed_job:
            body |= {"completedJobId": upload.completed_job,
                     "jobStatus": self.service.jobs[upload.completed_job].status()}
        return json_response(body)

    def state(self) -> list[dict[str, Any]]:
        return [{"jobId": u.job_id, "size": u.size, "partCount": u.count, "state": u.state,
                 "completedJobId": u.completed_job} for u in self.uploads.values()]
