"""TikTok video, simulated (video.md §7): `POST /v2/post/publish/inbox/video/init/` (only `source_info`) or
`/v2/post/publish/video/init/` (Direct Post, `post_info` with a privacy level from creator_info), both with
`source_info` FILE_UPLOAD `video_size`/`chunk_size`/`total_chunk_count` checked against TikTok's chunk
rules; then `PUT` chunks in order to the `upload_url` with `Content-Range` (206, the last 201); the
status walks PROCESSING_UPLOAD -> SEND_TO_USER_INBOX (inbox) or PUBLISH_COMPLETE (direct), or FAILED.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.meta_video import read_clip

MB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK, MAX_LAST_CHUNK, MAX_CHUNKS = 5 * MB, 64 * MB, 128 * MB, 1000
MAX_VIDEO_TITLE = 2200  # UTF-16 code units
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def chunk_problem(size: Any, chunk: Any, count: Any) -> str | None:
    """TikTok's chunk rules (media transfer guide), as the init endpoint checks them."""
    if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
        return "video_size, chunk_size and total_chunk_count must be positive integers"
    if size < MIN_CHUNK:
        return None if (chunk, count) == (size, 1) else \
            "a video under 5 MB is uploaded whole: chunk_size = video_size and total_chunk_count = 1"
    if not MIN_CHUNK <= chunk <= MAX_CHUNK:
        return "chunk_size must be between 5 MB and 64 MB"
    if count != size // chunk or not 1 <= count <= MAX_CHUNKS:
        return f"total_chunk_count must be floor(video_size / chunk_size) = {size // chunk}, at most 1000"
    if size > MAX_CHUNK and count < 2:
        return "a video over 64 MB must be sent in chunks"
    if size - (count - 1) * chunk > MAX_LAST_CHUNK:
        return "the last chunk may not exceed 128 MB"
    return None


class VideoUploads:
    """Mixed into TikTokSim (which gives _envelope, _token, posts, _check_caps, _new_post, clock, lock)."""

    def video_routes(self) -> None:
        add = self.router.add  # type: ignore[attr-defined]
        add("POST", r"/v2/post/publish/inbox/video/init/", self._inbox_video_init)
        add("POST", r"/v2/post/publish/video/init/", self._direct_video_init)

    def _inbox_video_init(self, req: Request) -> Response:
        return self._video_init(req, "MEDIA_UPLOAD")

    def _direct_video_init(self, req: Request) -> Response:
        return self._video_init(req, "DIRECT_POST")

    def _video_init(self, req: Request, mode: str) -> Response:
        limited = self._count_init()  # type: ignore[attr-defined]
        if limited is not None:
            return limited
        body = req.json() if isinstance(req.json(), dict) else {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        problem = None
        if source.get("source") != "FILE_UPLOAD":
            problem = "source_info.source must be FILE_UPLOAD (the sandbox does not pull videos from URLs)"
        elif mode == "MEDIA_UPLOAD" and body.get("post_info"):
            problem = "the inbox flow takes no post_info: the creator writes the caption in the app"
        else:
            problem = chunk_problem(source.get("video_size"), source.get("chunk_size"),
                                    source.get("total_chunk_count"))
        title = str(info.get("title", ""))
        if problem is None and len(title.encode("utf-16-le")) // 2 > MAX_VIDEO_TITLE:
            problem = f"title is longer than {MAX_VIDEO_TITLE} UTF-16 code units"
        if problem:
            return self._envelope(code="invalid_params", message=problem)  # type: ignore[attr-defined]
        privacy = str(info.get("privacy_level", "")) if mode == "DIRECT_POST" else ""
        refused = self._check_caps(mode, privacy, ())  # type: ignore[attr-defined]
        if refused is not None:
            return refused
        post = self._new_post(mode, title=title, description=title, privacy=privacy,  # type: ignore[attr-defined]
                              publish_id_prefix="v_pub_file~v2")
        post.status, post.video = "PROCESSING_UPLOAD", {
            "size": source["video_size"], "chunk": source["chunk_size"], "count": source["total_chunk_count"],
            "data": b"", "sha256": "", "cover_ms": info.get("video_cover_timestamp_ms")}
        host = req.header("host", "127.0.0.1")
        token = self.capability(post.publish_id)  # type: ignore[attr-defined]
        return self._envelope({"publish_id": post.publish_id,  # type: ignore[attr-defined]
                               "upload_url": f"http://{host}/tiktok/video/?upload_id={post.publish_id}"
                                             f"&upload_token={token}"})

    def upload_chunk(self, req: Request) -> Response:
        """`PUT <upload_url>`: chunks in order, each `chunk_size` but the last (which takes the rest)."""
        post = self.posts.get(req.param("upload_id") or "")  # type: ignore[attr-defined]
        if post is not None and req.param("upload_token") != self.capability(post.publish_id):  # type: ignore[attr-defined]
            post = None  # the upload_token is what authorizes the upload
        if post is None or post.video is None or post.status != "PROCESSING_UPLOAD":
            return self._upload_error(404, "the upload URL is unknown or expired")
        video = post.video
        match = _RANGE.match(req.header("content-range"))
        if match is None:
            return self._upload_error(400, "Content-Range must be 'bytes FIRST-LAST/TOTAL'")
        first, last, total = (int(g) for g in match.groups())
        have = len(video["data"])
        index = have // video["chunk"]
        final = index == video["count"] - 1
        expected = video["size"] - have if final else video["chunk"]
        if total != video["size"] or first != have or last - first + 1 != len(req.body) or len(req.body) != expected:
            return self._upload_error(416, f"expected bytes {have}-{have + expected - 1}/{video['size']} "
                                           f"(chunk {index + 1} of {video['count']})")
        video["data"] += req.body
        if not final:
            return Response(206, b"", {"Content-Type": "text/plain"})
        data = video.pop("data")
        clip, video["sha256"], video["received"] = read_clip(data), hashlib.sha256(data).hexdigest(), len(data)
        post.status = "PROCESSING_DOWNLOAD"  # the state machine takes it from here; reported as PROCESSING_UPLOAD
        post.created_at = self.clock()  # type: ignore[attr-defined]
        if clip is None:
            post.fail_reason = "file_format_check_failed"
        elif clip.duration_s < 3:
            post.fail_reason = "duration_check_failed"
        elif clip.fps and not 23 <= clip.fps <= 60:
            post.fail_reason = "frame_rate_check_failed"
        elif min(clip.width, clip.height) < 360:
            post.fail_reason = "picture_size_check_failed"
        return Response(201, b"", {"Content-Type": "text/plain"})

    @staticmethod
    def _upload_error(status: int, message: str) -> Response:
        return json_response({"error": {"code": "invalid_file_upload", "message": message}}, status)
