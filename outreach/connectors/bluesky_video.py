"""Bluesky video through the video service (video.md §2.1): daily limits, a service token for the
account's PDS, `uploadVideo` (from 16 MiB the multipart flow of §2.2, where the service has it),
`getJobStatus` until COMPLETED, WebVTT caption blobs, the video embed. Where the service is out of
reach or refuses before a job exists, the video goes straight to the PDS (`uploadBlob`, §2.3).

Exactly-once: the job id is saved (`save_handle`) as soon as the service answers, before any poll; a
retry asks that job first and uploads again only when the job is gone or failed (the service
deduplicates by content, answering `already_exists` with the earlier job). The post itself keeps
the connector's client-chosen record key, so reconcile stays a `getRecord`.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from outreach.connectors.base import SaveHandle, next_utc_midnight
from outreach.connectors.errors import AuthError, ConnectorError, ContentRejected, RateLimited, TransientError
from outreach.domain import MediaItem, PublishRequest
from outreach.media.captions import CaptionError, caption_problems, caption_text

if TYPE_CHECKING:
    from outreach.connectors.bluesky import BlueskyConnector

SERVICE_URL, SERVICE_DID = "https://video.bsky.app", "did:web:video.bsky.app"
UPLOAD_BLOB, LIMITS = "com.atproto.repo.uploadBlob", "app.bsky.video.getUploadLimits"
TOKEN_LIFETIME_S = 1800  # an upload token may live at most an hour
_DAILY = frozenset({"DailyLimitExceeded", "TooManyOpenUploads"})  # the service's daily quota


class VideoUpload:
    """One connector's video service client."""

    def __init__(self, connector: BlueskyConnector) -> None:
        self.c = connector
        options = connector.channel.options
        self.service = str(options.get("video_service_url") or SERVICE_URL).rstrip("/")
        self.service_did = str(options.get("video_service_did") or SERVICE_DID)

    def for_post(self, req: PublishRequest, handle: dict[str, Any], save_handle: SaveHandle) -> dict[str, Any]:
        """The post's one video as an embed; the record key (in `handle`) is saved first, the job id joins it
        as soon as there is one."""
        if len(req.media) > 1:
            raise ContentRejected(self.c.channel.name, "Bluesky takes one video per post, with no images beside it")
        for key in ("video_upload", "video_job"):  # what an earlier attempt left at the service
            if req.handle.get(key):
                handle[key] = req.handle[key]
        save_handle(dict(handle))
        return self.embed(req.media[0], handle, save_handle)

    def embed(self, item: MediaItem, handle: dict[str, Any], save_handle: SaveHandle) -> dict[str, Any]:
        """The `app.bsky.embed.video` for this item: the processed video blob, captions, alt, aspect."""
        captions = self._captions(item)  # bad caption files fail before anything is uploaded
        embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": self._blob(item, handle, save_handle),
                                 "alt": item.alt_text or ""}
        if captions:
            embed["captions"] = captions
        if item.width and item.height:
            embed["aspectRatio"] = {"width": item.width, "height": item.height}
        return embed

    # -- the service --------------------------------------------------------------------------

    def _token(self, aud: str, lxm: str) -> str:
        exp = int(self.c.clock().timestamp()) + TOKEN_LIFETIME_S
        body = self.c.xrpc("GET", "com.atproto.server.getServiceAuth", params={"aud": aud, "lxm": lxm, "exp": exp})
        return str(body.json()["token"])

    def _pds_did(self) -> str:
        """`did:web:` + the host of the account's own PDS (from its DID document), not bsky.social."""
        return "did:web:" + quote(urlsplit(self.c.pds_url()).netloc, safe="")

    def _check_limits(self) -> None:
        token = self._token(self.service_did, LIMITS)
        body = self.c.request("GET", f"{self.service}/xrpc/{LIMITS}", write=False, ok=(200,),
                              headers={"Authorization": f"Bearer {token}"}).json()
        if body.get("canUpload") is False:
            reset = next_utc_midnight(self.c.clock())
            raise RateLimited(self.c.channel.name, "Bluesky's daily video upload limit is reached"
                              f"{': ' + str(body['message']) if body.get('message') else ''}",
                              retry_after_s=(reset - self.c.clock()).total_seconds(), reset_at=reset)

    def _blob(self, item: MediaItem, handle: dict[str, Any], save_handle: SaveHandle) -> dict[str, Any]:
        """The processed blob from the video service; when the service is out of reach, or refuses
        before any job exists (5xx, a method it lacks), the bytes go straight to the PDS (video.md §2.3).
        The post keeps its record key either way, so a retry never makes a second post."""
        job = handle.get("video_job")
        try:
            status = self._status(str(job)) if job else None
            if status is None or status.get("state") == "JOB_STATE_FAILED":
                try:
                    self._check_limits()
                    job = self._upload_in_parts(item, handle, save_handle) or self._upload(item)
                except (TransientError, ContentRejected) as exc:
                    if exc.http_status in (404, 501) or (exc.http_status or 0) >= 500:
                        return self._pds_blob(item, f"it answered HTTP {exc.http_status}")
                    raise
                handle["video_job"] = job
                save_handle(dict(handle))
                status = {}
            return self._processed(str(job), status)
        except TransientError as exc:
            if exc.code != "unreachable":  # a dropped answer: the retry asks the service (it deduplicates)
                raise
            return self._pds_blob(item, "it could not be reached")

    def _pds_blob(self, item: MediaItem, why: str) -> dict[str, Any]:
        """`uploadBlob` of the video itself to the account's PDS, within the PDS's own blob cap."""
        size, service = os.path.getsize(item.path), urlsplit(self.service).netloc
        try:
            with open(item.path, "rb") as fh:  # streamed (xrpc rewinds it when it sends again with a fresh token)
                body = self.c.xrpc("POST", UPLOAD_BLOB, data=fh, write=False,
                                   headers={"Content-Type": "video/mp4"}).json()
        except ContentRejected as exc:
            if exc.http_status != 413 and exc.code not in ("BlobTooLarge", "PayloadTooLarge"):
                raise
            raise TransientError(self.c.channel.name, f"Bluesky's video service ({service}) is unavailable ({why}), "
                                 f"and the video ({size:,} bytes) is too big to send straight to the PDS, which "
                                 f"refused it ({exc.message}); will try the video service again") from None
        return dict(body["blob"])

    def _processed(self, job: str, status: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.c.video_max_polls):
            if status.get("state") == "JOB_STATE_COMPLETED" and status.get("blob"):
                return dict(status["blob"])
            if status.get("state") == "JOB_STATE_FAILED":
                self._failed(status)
            if attempt:
                self.c.sleep(self.c.video_poll_interval_s)
            status = self._status(str(job)) or {}
        if status.get("state") == "JOB_STATE_COMPLETED" and status.get("blob"):
            return dict(status["blob"])
        if status.get("state") == "JOB_STATE_FAILED":
            self._failed(status)
        raise TransientError(self.c.channel.name, f"video job {job} still processing "
                             f"({status.get('progress', 0)}%) after {self.c.video_max_polls} checks; "
                             "will continue with the same job")

    def _upload_in_parts(self, item: MediaItem, handle: dict[str, Any], save_handle: SaveHandle) -> str | None:
        """The multipart flow (video.md §2.2) for a file of `video_multipart_min_bytes` or more: the upload id
        saved before the first part, parts read from the file one at a time, `finishUpload` (idempotent);
        a retry asks `getUploadStatus` and sends only what is missing. The job id, or None where the
        service has no multipart flow (then one `uploadVideo`, as the Bluesky app does)."""
        size = os.path.getsize(item.path)
        if size < self.c.video_multipart_min_bytes:
            return None
        auth = {"Authorization": f"Bearer {self._token(self._pds_did(), UPLOAD_BLOB)}"}
        upload = handle.get("video_upload")
        status = self._service("GET", "getUploadStatus", params={"jobId": upload}, headers=auth) if upload else None
        if status is None or status.get("state") in ("failed", "aborted", "expired"):
            try:
                body = self._service("POST", "startUpload", headers=auth, json={
                    "sizeBytes": size, "mimeType": "video/mp4", "name": Path(item.path).name})
            except (ContentRejected, TransientError) as exc:
                if exc.http_status in (404, 501):  # no such method here
                    return None
                raise
            upload = handle["video_upload"] = str(body["jobId"])
            save_handle(dict(handle))
            status = {**body, "state": "created", "receivedParts": []}
        if status.get("state") != "completed":
            part_size, received = int(status["partSizeBytes"]), set(status.get("receivedParts") or [])
            with open(item.path, "rb") as fh:
                for number in range(1, int(status["partCount"]) + 1):
                    if number not in received:
                        fh.seek((number - 1) * part_size)
                        self._service("POST", "uploadPart", params={"jobId": upload, "partNumber": number},
                                      data=fh.read(part_size),
                                      headers={**auth, "Content-Type": "application/octet-stream"})
            auth = {"Authorization": f"Bearer {self._token(self._pds_did(), UPLOAD_BLOB)}"}  # fresh for finish
            status = self._service("POST", "finishUpload", json={"jobId": upload}, headers=auth)
        return str(status["completedJobId"])

    def _service(self, method: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """One call to the video service's `app.bsky.video.<name>` (a retry is safe: each is idempotent)."""
        return dict(self.c.request(method, f"{self.service}/xrpc/app.bsky.video.{name}", write=False, ok=(200,),
                                   **kwargs).json())

    def _upload(self, item: MediaItem) -> str:
        """POST the bytes to `uploadVideo`; the job id (a repeat of earlier bytes gives the earlier job)."""
        token = self._token(self._pds_did(), UPLOAD_BLOB)
        did = self.c.session_did()
        with open(item.path, "rb") as fh:  # streamed from the file: memory stays flat for a 300 MB video
            name = hashlib.file_digest(fh, "sha256").hexdigest()[:16] + ".mp4"
            fh.seek(0)
            response = self.c.request("POST", f"{self.service}/xrpc/app.bsky.video.uploadVideo", write=False,
                                      ok=(200, 409), params={"did": did, "name": name}, data=fh,
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"})
        body = self.c.json_or_empty(response)
        body = body.get("jobStatus", body) if isinstance(body, dict) else {}  # the service sends it unwrapped
        if not body.get("jobId"):
            raise TransientError(self.c.channel.name, f"the video service accepted no job "
                                 f"({body.get('message') or body.get('error') or 'no jobId'})")
        return str(body["jobId"])

    def _status(self, job: str) -> dict[str, Any] | None:
        """The job's status, or None when the service no longer knows it."""
        try:
            body = self.c.request("GET", f"{self.service}/xrpc/app.bsky.video.getJobStatus", ok=(200,),
                                  params={"jobId": job}).json()
        except ContentRejected:
            return None
        status = body.get("jobStatus") if isinstance(body, dict) else None
        return status if isinstance(status, dict) else None

    def _failed(self, status: dict[str, Any]) -> None:
        reason = f"{status.get('message') or 'Failed to process video'} ({status.get('failureCode') or 'failed'})"
        if status.get("failureCode") == "validation_failure":
            raise ContentRejected(self.c.channel.name, f"Bluesky refused the video: {reason}",
                                  code="validation_failure")
        raise TransientError(self.c.channel.name, f"Bluesky's video service failed: {reason}; "
                             "will upload again", code=str(status.get("failureCode") or "JOB_STATE_FAILED"))

    # -- captions -----------------------------------------------------------------------------

    def _captions(self, item: MediaItem) -> list[dict[str, Any]]:
        """A WebVTT blob per language; the caps (languages, bytes) are the ones `validate` checks."""
        caps = self.c.video
        try:
            texts = [(lang, caption_text(path, caps.caption_formats)[1]) for lang, path in item.captions]
            problems = caption_problems(dict(item.captions), caps)
        except (CaptionError, OSError) as exc:
            raise ContentRejected(self.c.channel.name, f"captions: {exc}") from None
        if problems:
            lang, message = problems[0]
            raise ContentRejected(self.c.channel.name, f"captions{f' ({lang})' if lang else ''}: {message}")
        return [{"lang": lang, "file": self.c.xrpc("POST", "com.atproto.repo.uploadBlob", data=text.encode("utf-8"),
                                                     write=False, headers={"Content-Type": "text/vtt"}).json()["blob"]}
                for lang, text in texts]


def video_error(body: dict[str, Any], status: int, *, channel: str, now: datetime) -> ConnectorError | None:
    """The video service's own errors: `unconfirmed_email` (inside `jobStatus`) needs a person; the daily
    quota (`DailyLimitExceeded`, `TooManyOpenUploads`) waits until the next UTC day."""
    job = body.get("jobStatus") if isinstance(body.get("jobStatus"), dict) else body
    if job.get("error") == "unconfirmed_email":
        return AuthError(channel, "confirm the account's email address in the Bluesky app before uploading video "
                         f"(channel {channel})", http_status=status, code="unconfirmed_email")
    name = body.get("error")
    if name in _DAILY:
        reset = next_utc_midnight(now)
        return RateLimited(channel, f"rate limited: {name}: {body.get('message') or name}",
                           retry_after_s=(reset - now).total_seconds(), reset_at=reset, http_status=status,
                           code=str(name))
    return None
