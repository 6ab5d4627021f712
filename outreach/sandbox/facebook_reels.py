"""Facebook Page Reels, simulated (video.md §4.1): `POST /{page}/video_reels?upload_phase=start` ->
`video_id` + `upload_url`; the bytes to rupload (`offset`, `file_size` headers; `debug_info` on refusal);
captions as SRT files named `*.<locale>.srt` (`POST /{video-id}/captions`, one per locale; a second
one for a locale replaces the first); a cover image (`POST /{video-id}/thumbnails`, `source` JPEG/PNG
with `is_preferred=true`); `upload_phase=finish&video_state=PUBLISHED&description=` -> `{"success": true}`; then the video's `status`
walks its phases (uploading, processing, publishing) to a Page post, or to a processing error.
At most 30 API-published Reels per Page in 24 h. A published Reel's plays and watch time are read from
`GET /{video-id}/video_insights` (video.md §4.3; times in milliseconds), not from its Page post's insights.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.meta import graph_error, graph_time, grown, insight, invalid_metric
from outreach.sandbox.meta_video import clip_problem, read_clip

MAX_REEL_BYTES = 1024**3
REEL_SECONDS = (3.0, 90.0)
REELS_PER_DAY = 30
_CAPTION_NAME = re.compile(r"^[^/]+\.([a-z]{2}_[A-Z]{2})\.srt$")
# SubRip: a cue number, then `00:00:01,000 --> 00:00:03,500` (a comma before the milliseconds; WebVTT has a dot).
_SRT_START = re.compile(r"\A\s*\d+[ \t]*\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}")
# What processing reports for a clip Pages refuse (video.md §4.4: 1363019/1363023 format/duration).
REFUSALS = {"INVALID_DURATION": (1363023, "The video must be between 3 and 90 seconds long."),
            "INVALID_ASPEC_RATIO": (1363019, "Reels must be 9:16."),
            "INVALID_FRAME_RATE": (1363019, "Reels must have 24 to 60 frames per second."),
            "INVALID_FILE_SIZE": (1363019, "The video file is too large."),
            "FAILED_PROCESSING_VIDEO": (1363019, "The video file could not be processed.")}


@dataclass
class Reel:
    id: str
    created_at: datetime
    file_size: int | None = None
    data: bytes = b""
    finished: bool = False
    description: str = ""
    polls: int = 0  # status reads since finish
    error: tuple[int, str] | None = None
    post_id: str | None = None
    sha256: str = ""
    captions: dict[str, str] = field(default_factory=dict)  # locale -> SRT text
    cover_sha: str = ""
    duration_s: float = 0.0  # of the clip, read at finish


def debug_info(message: str, *, retriable: bool = False) -> Response:
    return json_response({"debug_info": {"retriable": retriable, "type": "ProcessingFailedError",
                                         "message": message}}, 400)


class PageReels:
    """Mixed into the Facebook simulation (which provides page(), create(), posts, config, clock)."""

    reels: dict[str, Reel]

    def reels_routes(self) -> None:
        add = self.router.add  # type: ignore[attr-defined]
        add("POST", r"/(?P<page>\w+)/video_reels", self.video_reels)
        add("POST", r"/video-upload/v[\d.]+/(?P<video_id>\d+)", self.rupload)
        add("POST", r"/(?P<video_id>\d+)/captions", self.captions)
        add("POST", r"/(?P<video_id>\d+)/thumbnails", self.thumbnails)
        add("GET", r"/(?P<video_id>\d+)/video_insights", self.video_insights)

    def video_reels(self, req: Request, page: str) -> Response:
        if not self.page(page):  # type: ignore[attr-defined]
            return self.not_found(req)  # type: ignore[attr-defined]
        phase = req.param("upload_phase")
        if phase == "start":
            reel = Reel(id=self.new_id(120210000000000000), created_at=self.clock())  # type: ignore[attr-defined]
            self.reels[reel.id] = reel
            host = req.header("host", "127.0.0.1")
            return json_response({"video_id": reel.id,
                                  "upload_url": f"http://{host}/facebook/video-upload/v25.0/{reel.id}"})
        if phase != "finish":
            return graph_error("(#100) upload_phase must be one of start, finish", 100)
        reel = self.reels.get(req.param("video_id") or "")
        if reel is None:
            return graph_error("(#100) Invalid video_id", 100)
        if req.param("video_state") != "PUBLISHED":
            return graph_error("(#100) The sandbox simulates video_state=PUBLISHED only", 100)
        if reel.file_size is None or len(reel.data) < reel.file_size:
            return graph_error("(#6000) There was a problem uploading your video file. Please try again.", 6000,
                               transient=True)
        if reel.finished and self.guards:  # type: ignore[attr-defined]
            return graph_error("(#100) This video has already been published", 100)
        day = self.clock() - timedelta(days=1)  # type: ignore[attr-defined]
        if sum(1 for r in self.reels.values() if r.finished and r.created_at > day) >= REELS_PER_DAY:
            return graph_error("(#32) Page request limit reached: 30 Reels per Page in 24 hours", 32)
        clip = read_clip(reel.data)
        problem = clip_problem(clip, min_s=REEL_SECONDS[0], max_s=REEL_SECONDS[1], max_bytes=MAX_REEL_BYTES)
        if problem is None and clip is not None and clip.height and abs(clip.width / clip.height - 9 / 16) > 0.02:
            problem = "INVALID_ASPEC_RATIO"  # Page Reels are 9:16 only
        reel.finished, reel.description, reel.polls = True, req.param("description") or "", 0
        reel.duration_s = clip.duration_s if clip is not None else 0.0
        reel.error = REFUSALS[problem] if problem else None
        return json_response({"success": True})

    def captions(self, req: Request, video_id: str) -> Response:
        reel = self.reels.get(video_id)
        if reel is None:
            return self.not_found(req)  # type: ignore[attr-defined]
        upload = req.files.get("captions_file")
        match = _CAPTION_NAME.match(upload.filename if upload else "")
        if upload is None or match is None:
            return graph_error("(#100) captions_file must be an SRT file named <name>.<locale>.srt, "
                               "e.g. video.nl_NL.srt", 100)
        text = upload.data.decode("utf-8", "replace").removeprefix("\ufeff")
        if not _SRT_START.match(text):
            return graph_error("(#100) The captions file is not valid SRT", 100)
        reel.captions[match.group(1)] = text
        return json_response({"success": True})

    def thumbnails(self, req: Request, video_id: str) -> Response:
        reel = self.reels.get(video_id)
        if reel is None:
            return self.not_found(req)  # type: ignore[attr-defined]
        upload = req.files.get("source")
        if upload is None or not upload.data.startswith((b"\xff\xd8\xff", b"\x89PNG")):
            return graph_error("(#100) source must be a JPEG or PNG image", 100)
        if len(upload.data) > 10 * 1024 * 1024:
            return graph_error("(#100) The thumbnail is larger than 10 MB", 100)
        reel.cover_sha = hashlib.sha256(upload.data).hexdigest()
        return json_response({"success": True})

    def rupload(self, req: Request, video_id: str) -> Response:
        reel = self.reels.get(video_id)
        if reel is None:
            return debug_info("Upload session not found")
        try:
            offset, total = int(req.header("offset")), int(req.header("file_size"))
        except ValueError:
            return debug_info("offset and file_size headers are required")
        if offset == 0:
            reel.data = b""  # a fresh upload replaces what came before
        if offset != len(reel.data) or offset + len(req.body) > total:
            return debug_info(f"offset {offset} does not match the {len(reel.data)} bytes received")
        reel.file_size, reel.data = total, reel.data + req.body
        reel.sha256 = hashlib.sha256(reel.data).hexdigest()
        return json_response({"success": True})

    def reel_status(self, reel: Reel) -> dict[str, Any]:
        """The `status` field; a read after finish counts as a poll that moves processing along."""
        uploaded = reel.file_size is not None and len(reel.data) >= reel.file_size
        uploading = {"status": "complete" if uploaded else "in_progress" if reel.data else "not_started",
                     "bytes_transferred": len(reel.data)}
        processing: dict[str, Any] = {"status": "not_started"}
        publishing: dict[str, Any] = {"status": "not_started"}
        video_status = "upload_complete" if uploaded else "uploading" if reel.data else "processing"
        if reel.finished:
            reel.polls += 1
            ready = reel.polls > int(self.config["ready_after_polls"])  # type: ignore[attr-defined]
            if reel.error and ready:
                code, message = reel.error
                processing = {"status": "error", "errors": [{"code": code, "message": message}]}
                video_status = "error"
            elif ready:
                if reel.post_id is None:
                    reel.post_id = self.publish_reel(reel)
                processing = {"status": "complete"}
                publishing = {"status": "complete", "publish_status": "published",
                              "publish_time": int(self.posts[reel.post_id].created_at.timestamp())}  # type: ignore[attr-defined]
                video_status = "ready"
            else:
                processing, video_status = {"status": "in_progress"}, "processing"
        return {"video_status": video_status, "processing_progress": 100 if publishing["status"] == "complete" else 0,
                "uploading_phase": uploading, "processing_phase": processing, "publishing_phase": publishing}

    def publish_reel(self, reel: Reel) -> str:
        response = self.create(reel.description, {  # type: ignore[attr-defined]
            "status_type": "added_video", "video_id": reel.id, "video_sha": reel.sha256}, check_duplicate=False)
        return str(response.body["id"])

    def reel_node(self, reel: Reel, wanted: list[str]) -> Response:
        status = self.reel_status(reel) if "status" in wanted else None
        post = self.posts.get(reel.post_id or "")  # type: ignore[attr-defined]
        node = {"id": reel.id, "status": status, "description": reel.description, "post_id": reel.post_id,
                "permalink_url": f"/reel/{reel.id}" if post else None,
                "created_time": graph_time(reel.created_at)}
        unknown = [f for f in wanted if f not in node]
        if unknown:
            return graph_error(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (Video)", 100)
        return json_response({k: node[k] for k in [*wanted, "id"] if node[k] is not None})

    def video_insights(self, req: Request, video_id: str) -> Response:
        """The insights envelope per metric asked (`values` form, lifetime); one unknown metric fails the
        whole request with code 100, as Graph does. Times are milliseconds."""
        reel = self.reels.get(video_id)
        post = self.posts.get(reel.post_id or "") if reel else None  # type: ignore[attr-defined]
        if reel is None or post is None:
            return self.not_found(req)  # type: ignore[attr-defined]
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        if not metrics:
            return graph_error("(#100) The parameter metric is required", 100)
        hours = (self.clock() - post.created_at).total_seconds() / 3600  # type: ignore[attr-defined]
        values = reel_metrics(reel, hours)
        if any(m not in values for m in metrics):
            return invalid_metric()
        return json_response({"data": [{**insight(video_id, m, values[m]),
                                        "id": f"{video_id}/video_insights/{m}/lifetime"} for m in metrics]})


def reel_metrics(reel: Reel, hours: float) -> dict[str, int]:
    """A Reel's video insights after `hours`: plays grow towards a ceiling fixed by its id, each play
    watched for 35-80 % of the clip on average (fixed per Reel); times in milliseconds."""
    plays = grown(f"{reel.id}:plays", hours, low=300, high=2500)
    replays = plays // 6
    part = 0.35 + (int(hashlib.sha256(reel.id.encode()).hexdigest()[:4], 16) % 46) / 100
    average_ms = round(max(reel.duration_s, 3.0) * 1000 * part)
    watched_ms = plays * average_ms
    return {"fb_reels_total_plays": plays, "blue_reels_play_count": plays - replays, "fb_reels_replay_count": replays,
            "post_video_avg_time_watched": average_ms, "post_video_view_time": watched_ms,
            "post_video_followers": plays // 40, "post_video_social_actions": plays // 30,
            "total_video_views": plays, "total_video_views_unique": plays * 3 // 4,
            "total_video_avg_time_watched": average_ms, "total_video_view_total_time": watched_ms,
            "total_video_complete_views": plays // 4}
