"""LinkedIn's Videos API, simulated beside the LinkedIn simulation (video.md §6, §10).

`POST /rest/videos?action=initializeUpload` answers a `urn:li:video:` and upload instructions, one per
part (`part_bytes`, 4 MiB by default, inclusive `firstByte`/`lastByte`), plus caption and thumbnail
upload URLs when asked for; each part `PUT` must carry exactly its bytes and answers an `ETag`;
`finalizeUpload` checks the ETags in instruction order (a second finalize is refused); the video then
walks PROCESSING → AVAILABLE (or PROCESSING_FAILED when the bytes are no video of 3 s to 30 min)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.videofile import read_video

if TYPE_CHECKING:
    from outreach.sandbox.linkedin import LinkedInSim

MIN_BYTES, MAX_BYTES = 75 * 1024, 500 * 1024**2
MIN_DURATION_S, MAX_DURATION_S = 3.0, 1800.0


def _error(status: int, code: str, message: str) -> Response:
    return json_response({"status": status, "code": code, "message": message}, status)


@dataclass
class SimVideo:
    urn: str
    owner: str
    key: str
    size: int
    ranges: list[tuple[int, int]]
    parts: dict[int, bytes] = field(default_factory=dict, repr=False)
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0
    failure: str | None = None
    duration_ms: int = 0
    width: int = 0
    height: int = 0
    captions: bytes | None = field(default=None, repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)
    finalized: int = 0

    def etag(self, index: int) -> str:
        return "/ambry-video/signedId/" + hashlib.sha256(self.key.encode() + bytes([index]) +
                                                         self.parts[index]).hexdigest()[:40]

    @property
    def data(self) -> bytes:
        return b"".join(self.parts[i] for i in sorted(self.parts))  # what arrived so far, in order


class VideoUploads:
    """The videos of one LinkedIn simulation (it shares the simulation's tokens, clock and lock)."""

    def __init__(self, sim: LinkedInSim) -> None:
        self.sim = sim
        self.reset()

    def reset(self) -> None:
        self.videos: dict[str, SimVideo] = {}
        self.part_bytes = 4 * 1024 * 1024
        self.polls = 2
        self._seq = itertools.count(1)

    def routes(self, add: Callable[..., None]) -> None:
        add("POST", r"/rest/videos", self._action)
        add("GET", r"/rest/videos/(?P<urn>[^/]+)", self._show)
        add("PUT", r"/dms-uploads/video/(?P<key>[\w-]+)/(?P<part>\d+|captions|thumbnail)", self._put)

    def _owned(self, urn: str) -> SimVideo | None:
        video = self.videos.get(unquote(urn))
        token = self.sim.current_token()
        return video if video is not None and token is not None and video.owner in token.organizations else None

    def _action(self, req: Request) -> Response:
        action, body = req.param("action"), req.json() or {}
        if action == "initializeUpload":
            return self._initialize(body.get("initializeUploadRequest") or {})
        if action == "finalizeUpload":
            return self._finalize(body.get("finalizeUploadRequest") or {})
        return _error(400, "ILLEGAL_ARGUMENT", "Unsupported action; use initializeUpload or finalizeUpload")

    def _initialize(self, request: dict[str, Any]) -> Response:
        owner, size = str(request.get("owner", "")), request.get("fileSizeBytes")
        token = self.sim.current_token()
        if token is None or owner not in token.organizations:
            return _error(403, "ACCESS_DENIED", f"Not enough permissions to upload videos for {owner!r}")
        if not isinstance(size, int) or not MIN_BYTES <= size <= MAX_BYTES:
            return _error(400, "ILLEGAL_ARGUMENT", f"/initializeUploadRequest/fileSizeBytes :: {size} is outside "
                          f"{MIN_BYTES}..{MAX_BYTES}")
        n = next(self._seq)
        key = f"video-{n:06d}"
        ranges = [(first, min(size, first + self.part_bytes) - 1) for first in range(0, size, self.part_bytes)]
        video = SimVideo(urn=f"urn:li:video:C5505AQ{n:09d}", owner=owner, key=key, size=size, ranges=ranges)
        self.videos[video.urn] = video
        base = f"{self.sim.base_url()}/dms-uploads/video/{key}"
        value: dict[str, Any] = {
            "uploadUrlsExpireAt": int((self.sim.clock() + timedelta(days=1)).timestamp() * 1000),
            "video": video.urn, "uploadToken": "",
            "uploadInstructions": [{"uploadUrl": self._signed(base, key, i), "firstByte": first, "lastByte": last}
                                   for i, (first, last) in enumerate(ranges)]}
        if request.get("uploadCaptions"):
            value["captionsUploadUrl"] = self._signed(base, key, "captions")
        if request.get("uploadThumbnail"):
            value["thumbnailUploadUrl"] = self._signed(base, key, "thumbnail")
        return json_response({"value": value})

    def _signed(self, base: str, key: str, part: object) -> str:
        """An upload URL as LinkedIn signs it: the `sau` parameter is what authorizes the PUT."""
        return f"{base}/{part}?sau={self.sim.capability(f'{key}/{part}')}"

    def _put(self, req: Request, key: str, part: str) -> Response:
        video = next((v for v in self.videos.values() if v.key == key), None)
        if video is not None and req.param("sau") != self.sim.capability(f"{key}/{part}"):
            video = None  # an unsigned or wrongly signed URL opens nothing
        if video is None:
            return Response(404, b"upload URL is unknown", {"Content-Type": "text/plain"})
        if part in ("captions", "thumbnail"):
            setattr(video, part, req.body)
            return Response(201, b"")
        index = int(part)
        if video.status != "WAITING_UPLOAD" or index >= len(video.ranges):
            return Response(400, b"upload URL is unknown or already used", {"Content-Type": "text/plain"})
        first, last = video.ranges[index]
        if len(req.body) != last - first + 1:
            return Response(400, f"expected {last - first + 1} bytes, got {len(req.body)}".encode(),
                            {"Content-Type": "text/plain"})
        video.parts[index] = req.body
        return Response(200, b"", {"ETag": video.etag(index)})

    def _finalize(self, request: dict[str, Any]) -> Response:
        video = self._owned(str(request.get("video", "")))
        if video is None:
            return _error(404, "NOT_FOUND", f"Video {request.get('video')} does not exist")
        if video.status != "WAITING_UPLOAD":
            return _error(400, "ILLEGAL_ARGUMENT", f"Video {video.urn} is already finalized")
        missing = [i for i in range(len(video.ranges)) if i not in video.parts]
        expected = [video.etag(i) for i in range(len(video.ranges)) if i in video.parts]
        if missing or request.get("uploadedPartIds") != expected:
            return _error(400, "ILLEGAL_ARGUMENT", "/finalizeUploadRequest/uploadedPartIds :: do not match the "
                          "uploaded parts in order" + (f" (parts {missing} missing)" if missing else ""))
        video.finalized += 1
        facts = read_video(video.data)
        video.status, video.polls_left = "PROCESSING", self.polls
        if facts is None or not MIN_DURATION_S <= facts.duration_s <= MAX_DURATION_S:
            video.failure = "The video could not be processed: not a video of 3 seconds to 30 minutes"
        else:
            video.duration_ms, video.width, video.height = int(facts.duration_s * 1000), facts.width, facts.height
        return Response(200, b"")

    def _show(self, req: Request, urn: str) -> Response:
        video = self._owned(urn)
        if video is None:
            return _error(404, "NOT_FOUND", f"Video {unquote(urn)} does not exist")
        if video.status == "PROCESSING":
            video.polls_left -= 1
            if video.polls_left < 0:
                video.status = "PROCESSING_FAILED" if video.failure else "AVAILABLE"
        body: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": video.status}
        if video.status == "AVAILABLE":
            body |= {"duration": video.duration_ms, "aspectRatioWidth": video.width,
                     "aspectRatioHeight": video.height,
                     "thumbnail": f"{self.sim.base_url()}/dms/image/{video.key}-thumbnail",
                     "downloadUrl": f"{self.sim.base_url()}/dms/video/{video.key}"}
        if video.status == "PROCESSING_FAILED":
            body["processingFailureReason"] = video.failure
        return json_response(body)

    def available(self, urn: str, owner: str) -> bool:
        video = self.videos.get(urn)
        return video is not None and video.owner == owner and video.status == "AVAILABLE"

    def control(self, payload: dict[str, Any]) -> dict[str, Any]:
        for key in ("part_bytes", "polls"):
            if key in payload:
                setattr(self, key, int(payload[key]))
        return {"part_bytes": self.part_bytes, "polls": self.polls}

    def state(self) -> list[dict[str, Any]]:
        return [{"urn": v.urn, "owner": v.owner, "status": v.status, "size": v.size, "parts": len(v.ranges),
                 "finalized": v.finalized, "captions": v.captions.decode("utf-8", "replace") if v.captions else None,
                 "thumbnail": len(v.thumbnail) if v.thumbnail else None,
                 "sha256": hashlib.sha256(v.data).hexdigest() if len(v.parts) == len(v.ranges) else None}
                for v in self.videos.values()]
