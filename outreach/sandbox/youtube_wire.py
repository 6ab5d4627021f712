"""Google's wire formats for the YouTube simulation: the error envelope, `multipart/related` caption
uploads, and YouTube Analytics API v2 reports (`GET /v2/reports`, video.md 8.7).

Analytics: two report shapes the connector asks for: counts per video (`dimensions=video`; `views`,
`estimatedMinutesWatched` and `averageViewDuration` in seconds, in the order asked) and the share of
logged-in viewers by `ageGroup,gender` for one video (`metrics=viewerPercentage`). Shares and the
average view duration are fixed per video (seeded by its id), shares sum to 100; below
`analytics_threshold_views` the demographic report has no rows at all, as YouTube's privacy threshold
does (not zeros).
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from outreach.sandbox.http import Request, Response, json_response


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> Response:
    statuses = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
    return json_response({"error": {"code": status, "message": message, "status": statuses.get(status, ""),
                                    "errors": [{"message": message, "domain": domain, "reason": reason}]}},
                         status)


def caption_upload(req: Request) -> tuple[dict[str, Any], bytes] | Response:
    """The caption metadata's snippet and the caption file from a `multipart/related` upload, or the
    400 Google answers when the body is not that."""
    match = re.search(r"boundary=\"?([^\";]+)", req.header("content-type"))
    if req.content_type != "multipart/related" or match is None:
        return google_error(400, "invalidMetadata", "Captions need a multipart/related upload.")
    parts = [p for p in req.body.split(b"--" + match.group(1).encode()) if p.strip() not in (b"", b"--")]
    if len(parts) != 2 or any(b"\r\n\r\n" not in p for p in parts):
        return google_error(400, "invalidMetadata", "Captions need metadata and a file.")
    meta_raw, file_raw = (p.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") for p in parts)
    try:
        snippet = json.loads(meta_raw)["snippet"]
    except (ValueError, KeyError, TypeError):
        return google_error(400, "invalidMetadata", "The caption metadata is invalid.")
    if not re.search(r"(?:\d\d:)?\d\d:\d\d[,.]\d\d\d --> (?:\d\d:)?\d\d:\d\d[,.]\d\d\d", file_raw.decode("utf-8", "replace")):
        return google_error(400, "invalidMetadata", "The caption track could not be read (SRT or WebVTT).")
    return snippet, file_raw


AGE_GROUPS = ("age13-17", "age18-24", "age25-34", "age35-44", "age45-54", "age55-64", "age65-")
GENDERS = ("female", "male", "user_specified")
WEIGHTS = (6, 24, 28, 18, 12, 8, 4)  # a young-leaning audience, as the programme's videos have


def viewer_percentages(video_id: str) -> list[list[Any]]:
    """ageGroup x gender rows of one video, percentages summing to 100 (two decimals)."""
    rng = random.Random(video_id)
    cells = [(age, gender, weight * rng.uniform(0.6, 1.4) * (0.1 if gender == "user_specified" else 1.0))
             for age, weight in zip(AGE_GROUPS, WEIGHTS, strict=True) for gender in GENDERS]
    total = sum(c[2] for c in cells)
    rows = [[age, gender, round(100 * value / total, 2)] for age, gender, value in cells]
    rows[-1][2] = round(rows[-1][2] + 100 - sum(r[2] for r in rows), 2)
    return sorted(rows, key=lambda r: (r[1], r[0]))


VIDEO_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration")


def video_metrics(video_id: str, views: int) -> dict[str, int]:
    """Counts of one video: its views, and minutes watched from an average view of 12-40 s fixed per video
    (YouTube derives averageViewDuration from the same watch time, so the two agree)."""
    average_s = random.Random(f"{video_id}:duration").uniform(12, 40)
    minutes = round(views * average_s / 60)
    return {"views": views, "estimatedMinutesWatched": minutes,
            "averageViewDuration": round(minutes * 60 / views) if views else 0}


def report(req: Request, views_of: dict[str, int], *, threshold: int) -> Response:
    """Answer a reports query from `views_of` (video id -> views in the window)."""
    if req.param("ids") != "channel==MINE" or not req.param("startDate") or not req.param("endDate"):
        return json_response({"error": {"code": 400, "message": "ids, startDate and endDate are required",
                                        "errors": [{"reason": "badRequest"}]}}, 400)
    ids = re.sub(r"^video==", "", req.param("filters") or "").split(",")
    unknown = [v for v in ids if v not in views_of]
    if unknown:
        return json_response({"error": {"code": 403, "message": "Forbidden", "errors": [{"reason": "forbidden"}]}},
                             403)
    metrics, dimensions = req.param("metrics") or "", req.param("dimensions") or ""
    if metrics == "viewerPercentage" and dimensions == "ageGroup,gender" and len(ids) == 1:
        headers = [_header("ageGroup", "DIMENSION", "STRING"), _header("gender", "DIMENSION", "STRING"),
                   _header("viewerPercentage", "METRIC", "FLOAT")]
        rows = viewer_percentages(ids[0]) if views_of[ids[0]] >= threshold else []
    elif dimensions == "video" and metrics and set(metrics.split(",")) <= set(VIDEO_METRICS):
        names = metrics.split(",")
        headers = [_header("video", "DIMENSION", "STRING"), *(_header(m, "METRIC", "INTEGER") for m in names)]
        rows = [[v, *(video_metrics(v, views_of[v])[m] for m in names)] for v in ids]
    else:
        return json_response({"error": {"code": 400, "message": "The query is not supported.",
                                        "errors": [{"reason": "badRequest"}]}}, 400)
    return json_response({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows})


def _header(name: str, column: str, data: str) -> dict[str, str]:
    return {"name": name, "columnType": column, "dataType": data}


def thumbnail_problem(req: Request, video_found: bool, allowed: bool) -> Response | None:
    """thumbnails.set's refusals (video.md 8.3): an image that is not JPEG/PNG or over 2 MB, an unknown
    video, a channel that may not use custom thumbnails (not phone-verified)."""
    if req.param("uploadType") != "media" or req.header("content-type") not in ("image/jpeg", "image/png"):
        return google_error(400, "mediaBodyRequired", "The request does not include the image content.")
    if len(req.body) > 2 * 1024 * 1024:
        return google_error(400, "mediaTooLarge",
                            "The thumbnail image file is too large (2 MB at most).")
    if not video_found:
        return google_error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
    if not allowed:
        return google_error(403, "forbidden", "The authenticated user doesn't have permissions to upload and set "
                            "custom video thumbnails.")
    return None
