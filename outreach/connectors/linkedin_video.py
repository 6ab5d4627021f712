"""LinkedIn video through the Videos API (video.md §6): initializeUpload, a PUT per part collecting
ETags, finalizeUpload, captions (SRT) and thumbnail, then polling until AVAILABLE.

Exactly-once: the video URN and its upload instructions are saved (`save_handle`; the signed upload
URLs only in the worker's resume file, so another machine uploads anew) before the first part is sent,
and each part's ETag as it arrives, so a retry sends only the parts still missing and finalizes; a
finalize whose answer was lost is recognised by the video's status. A video that is PROCESSING or
AVAILABLE is never uploaded again. The post itself keeps LinkedIn's duplicate rule.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from outreach.connectors.base import SaveHandle
from outreach.connectors.capability import Capability, capability
from outreach.connectors.errors import ContentRejected, TransientError
from outreach.domain import MediaItem
from outreach.media.captions import CaptionError, caption_text

if TYPE_CHECKING:
    from outreach.connectors.linkedin import LinkedInConnector


class VideoUpload:
    def __init__(self, connector: LinkedInConnector) -> None:
        self.c = connector

    def status(self, urn: str) -> str | None:
        """WAITING_UPLOAD, PROCESSING, AVAILABLE or PROCESSING_FAILED; None when LinkedIn has no such video."""
        try:
            return self.c.call("GET", f"/rest/videos/{quote(urn, safe='')}").json().get("status")
        except ContentRejected as exc:
            if exc.http_status == 404:
                return None
            raise

    def media_id(self, item: MediaItem, language: str, handle: dict[str, Any], save_handle: SaveHandle) -> str:
        """The URN of this video on LinkedIn, uploaded (or resumed) and processed."""
        upload = handle.get("video") if isinstance(handle.get("video"), dict) else None
        state = self.status(str(upload["urn"])) if upload else None
        if state is None or state == "WAITING_UPLOAD" and not all(part[0] for part in upload["parts"]):
            # never started, LinkedIn no longer has it, or its signed upload URLs stayed on another
            # machine (an upload never finalized is no post): a new upload
            upload, state = self._initialize(item, language, save_handle), "WAITING_UPLOAD"
        assert upload is not None
        if state == "WAITING_UPLOAD":
            self._send(item, language, upload, save_handle)
        self._wait(str(upload["urn"]))
        return str(upload["urn"])

    # -- steps --------------------------------------------------------------------------------

    def _initialize(self, item: MediaItem, language: str, save_handle: SaveHandle) -> dict[str, Any]:
        request = {"owner": self.c.organization, "fileSizeBytes": Path(item.path).stat().st_size,
                   "uploadCaptions": self._captions(item, language) is not None,
                   "uploadThumbnail": bool(item.cover_path)}
        value = self.c.call("POST", "/rest/videos?action=initializeUpload", write=False,
                            json={"initializeUploadRequest": request}).json()["value"]
        upload = {"urn": value["video"], "token": capability(value.get("uploadToken")), "etags": {},
                  "parts": [[Capability(i["uploadUrl"]), i["firstByte"], i["lastByte"]]
                            for i in value["uploadInstructions"]],
                  "captions_url": capability(value.get("captionsUploadUrl")),
                  "thumbnail_url": capability(value.get("thumbnailUploadUrl"))}
        save_handle({"video": deepcopy(upload)})  # before any byte is sent: a retry resumes this video
        return upload

    def _send(self, item: MediaItem, language: str, upload: dict[str, Any], save_handle: SaveHandle) -> None:
        etags: dict[str, str] = upload.setdefault("etags", {})
        with Path(item.path).open("rb") as fh:
            for index, (url, first, last) in enumerate(upload["parts"]):
                if str(index) in etags:
                    continue  # sent by an earlier attempt
                fh.seek(first)
                response = self.c.call("PUT", url, write=False, data=fh.read(last - first + 1),
                                       headers={"Content-Type": "application/octet-stream"})
                etag = response.headers.get("ETag")
                if not etag:
                    raise TransientError(self.c.channel.name, f"LinkedIn sent no ETag for part {index + 1}")
                etags[str(index)] = etag
                save_handle({"video": deepcopy(upload)})
        captions = self._captions(item, language)
        if captions is not None and upload.get("captions_url"):
            self.c.call("PUT", upload["captions_url"], write=False, data=captions.encode("utf-8"),
                        headers={"Content-Type": "application/octet-stream"})
        if item.cover_path and upload.get("thumbnail_url"):
            self.c.call("PUT", upload["thumbnail_url"], write=False, data=Path(item.cover_path).read_bytes(),
                        headers={"Content-Type": "application/octet-stream"})
        ids = [etags[str(i)] for i in range(len(upload["parts"]))]
        try:
            self.c.call("POST", "/rest/videos?action=finalizeUpload", ok=(200,), json={"finalizeUploadRequest": {
                "video": upload["urn"], "uploadToken": upload.get("token") or "", "uploadedPartIds": ids}})
        except (ContentRejected, TransientError):
            if self.status(str(upload["urn"])) not in ("PROCESSING", "AVAILABLE", "PROCESSING_FAILED"):
                raise  # not finalized: the error stands
        upload["finalized"] = True
        save_handle({"video": deepcopy(upload)})

    def _wait(self, urn: str) -> None:
        for attempt in range(self.c.video_max_polls):
            body = self.c.call("GET", f"/rest/videos/{quote(urn, safe='')}").json()
            if body.get("status") == "AVAILABLE":
                return
            if body.get("status") == "PROCESSING_FAILED":
                raise ContentRejected(self.c.channel.name, "LinkedIn could not process the video "
                                      f"({body.get('processingFailureReason') or urn}); it takes MP4 of "
                                      "3 s to 30 min, 75 KB to 500 MB")
            if attempt + 1 < self.c.video_max_polls:
                self.c.sleep(self.c.video_poll_interval_s)
        raise TransientError(self.c.channel.name, f"video {urn} is still processing; will check it again")

    def _captions(self, item: MediaItem, language: str) -> str | None:
        """One SRT file (LinkedIn takes one): the post's language, else the first given."""
        chosen = dict(item.captions).get(language) or (item.captions[0][1] if item.captions else None)
        if chosen is None:
            return None
        try:
            return caption_text(chosen, self.c.video.caption_formats if self.c.video else ())[1]
        except (CaptionError, OSError) as exc:
            raise ContentRejected(self.c.channel.name, f"captions: {exc}") from None
