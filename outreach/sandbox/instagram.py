"""Instagram Graph API (either host), simulated: image containers fetched from a public URL, Reels
containers (`video_url` fetched, or bytes POSTed to the rupload `uri`), the status state machine,
`media_publish` with the rolling publishing quota, media listing and fields, media insights, account demographics. Wire formats follow platforms.md §2.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, ClassVar

from outreach.sandbox.core import DemoAccount
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.meta import (
    Container,
    ContainerSim,
    FetchFailed,
    Published,
    breakdown_insight,
    demographics,
    fetch_image,
    graph_error,
    graph_time,
    grown,
    image_size,
    insight,
    pick_fields,
)
from outreach.sandbox.meta_video import IG_SUBCODES, clip_problem, fetch_bytes, read_clip

DEMO_TOKEN = "IGQWRsandbox-instagram-demo-token"
IG_USER_ID = "17841400000000021"
USERNAME = "verandering.van.binnenuit"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_CAPTION = 2200
MAX_REEL_BYTES = 300_000_000
REEL_SECONDS = (3.0, 900.0)
MEDIA_METRICS = ("reach", "views", "likes", "comments", "shares", "saved", "total_interactions",
                 "follows", "profile_visits", "profile_activity")
REELS_METRICS = ("ig_reels_video_view_total_time", "ig_reels_avg_watch_time")  # milliseconds; Reels only
DEPRECATED_MEDIA_METRICS = ("impressions", "plays", "clips_replays_count",
                            "ig_reels_aggregated_all_plays_count", "engagement", "video_views")
DEMOGRAPHIC_METRICS = {"follower_demographics": ("Follower demographics", 1.0, 1.0, 1.0),
                       "engaged_audience_demographics": ("Engaged audience demographics", 0.2, 0.45, 1.35),
                       "reached_audience_demographics": ("Reached audience demographics", 0.6, 1.5, 1.2)}
TIMEFRAMES = ("this_week", "this_month")
LEGACY_TIMEFRAMES = ("last_14_days", "last_30_days", "last_90_days", "prev_month")
BREAKDOWNS = ("age", "gender", "city", "country")


def shortcode(media_id: str) -> str:
    return base64.urlsafe_b64encode(int(media_id).to_bytes(8, "big")).decode().rstrip("=")[:11]


class InstagramSim(ContainerSim):
    prefix: ClassVar[str] = "instagram"
    user_id: ClassVar[str] = IG_USER_ID
    media_id_base: ClassVar[int] = 17920238420000000
    demo_token: ClassVar[str] = DEMO_TOKEN
    usage_type: ClassVar[str] = "instagram"
    throttle: ClassVar[tuple[int, str]] = (
        80002, "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.")
    refresh_grant: ClassVar[str | None] = "ig_refresh_token"
    # `resumable_upload`: False is Instagram Login as some clients see it (code 100 asking for video_url).
    defaults: ClassVar[dict[str, Any]] = {"reject_legacy_timeframes": True, "resumable_upload": True}

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/(?P<user>\w+)/media", self.create_container)
        add("POST", r"/ig-api-upload/v[\d.]+/(?P<container_id>\d+)", self.rupload)
        add("POST", r"/(?P<user>\w+)/media_publish", self.media_publish)
        add("GET", r"/(?P<user>\w+)/media", self.list_media)
        add("GET", r"/(?P<user>\w+)/content_publishing_limit", self.publishing_limit)
        add("GET", r"/(?P<node>\w+)/insights", self.insights)
        add("GET", r"/(?P<node>\w+)", self.node)

    # -- publishing ---------------------------------------------------------------------------

    def create_container(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        caption = req.param("caption") or ""
        if req.param("media_type") == "VIDEO":
            return graph_error("(#100) The media type VIDEO is not supported for single feed videos; "
                               "use media_type=REELS", 100)
        if (req.param("media_type") or "IMAGE") not in ("IMAGE", "REELS"):
            return graph_error("(#100) The sandbox simulates IMAGE and REELS containers only", 100)
        if len(caption) > MAX_CAPTION:
            return graph_error(f"(#100) The caption is longer than {MAX_CAPTION} characters.", 100,
                               user_title="Caption too long")
        if caption.count("#") > 30:
            return graph_error("(#100) The caption contains more than 30 hashtags.", 100)
        if req.param("media_type") == "REELS":
            return self.create_reel(req, caption)
        url = req.param("image_url")
        if not url:
            return graph_error("(#100) The parameter image_url is required", 100)
        try:
            data, mime = fetch_image(url, max_bytes=MAX_IMAGE_BYTES)
        except FetchFailed:
            return graph_error("Only photo or video can be accepted as media type.", 9004, subcode=2207052,
                               user_title="Media download has failed.",
                               user_msg=f"The media could not be fetched from this URI: {url}. Please "
                                        "check the URI and try again.")
        if len(data) > MAX_IMAGE_BYTES:
            return graph_error("The image size is too large.", 36000, subcode=2207004,
                               user_title="Image size too large",
                               user_msg="The image is too large to download. It should be less than 8 MiB.")
        if mime != "image/jpeg":
            return graph_error("Only photo or video can be accepted as media type.", 9004, subcode=2207052,
                               user_title="Unsupported image format",
                               user_msg=f"The image at {url} is {mime}; Instagram accepts JPEG images.")
        size = image_size(data)
        if size and not 0.8 <= size[0] / size[1] <= 1.91:
            return graph_error("The aspect ratio is not supported.", 36003, subcode=2207009,
                               user_title="Cannot publish image with this aspect ratio",
                               user_msg=f"The submitted image with aspect ratio ('{size[0]}/{size[1]}') "
                                        "cannot be published. Please submit an image with a valid "
                                        "aspect ratio.")
        container = Container(id=self.new_id(17889455560000000), owner=IG_USER_ID, created_at=self.clock(),
                              params={"caption": caption, "alt_text": req.param("alt_text") or "",
                                      "image_url": url})
        self.containers[container.id] = container
        return json_response({"id": container.id})

    def create_reel(self, req: Request, caption: str) -> Response:
        """A Reels container: `video_url` is fetched now and judged while IN_PROGRESS; with
        `upload_type=resumable` the answer carries the rupload `uri` and processing waits for the bytes."""
        resumable = req.param("upload_type") == "resumable"
        url = req.param("video_url")
        if (not resumable and not url) or (resumable and not self.config["resumable_upload"]):
            return graph_error("(#100) The parameter video_url is required", 100)
        cover = req.param("cover_url")
        if cover:
            try:
                data, mime = fetch_image(cover, max_bytes=MAX_IMAGE_BYTES)
            except FetchFailed:
                data, mime = b"", ""
            if mime != "image/jpeg" or len(data) > MAX_IMAGE_BYTES:
                return graph_error("Only photo or video can be accepted as media type.", 9004, subcode=2207052,
                                   user_title="Media download has failed.",
                                   user_msg=f"The cover could not be fetched as a JPEG from this URI: {cover}.")
        share = (req.param("share_to_feed") or "true").lower()
        container = Container(id=self.new_id(17889455560000000), owner=IG_USER_ID, created_at=self.clock(),
                              params={"caption": caption, "alt_text": "", "video_url": url, "image_url": None,
                                      "media_type": "REELS", "share_to_feed": share != "false",
                                      "cover_url": cover, "thumb_offset": req.param("thumb_offset"),
                                      "uploaded": not resumable})
        if not resumable:
            try:
                self.judge_reel(container, fetch_bytes(url or "", max_bytes=MAX_REEL_BYTES))
            except FetchFailed:
                return graph_error("Only photo or video can be accepted as media type.", 9004, subcode=2207052,
                                   user_title="Media download has failed.",
                                   user_msg=f"The media could not be fetched from this URI: {url}.")
        self.containers[container.id] = container
        if not resumable:
            return json_response({"id": container.id})
        host = req.header("host", "127.0.0.1")
        return json_response({"id": container.id,
                              "uri": f"http://{host}/instagram/ig-api-upload/v25.0/{container.id}"})

    def judge_reel(self, container: Container, data: bytes) -> None:
        clip = read_clip(data)
        problem = clip_problem(clip, min_s=REEL_SECONDS[0], max_s=REEL_SECONDS[1], max_bytes=MAX_REEL_BYTES)
        container.params["duration_s"] = clip.duration_s if clip is not None else 0.0
        container.refusal = (problem, IG_SUBCODES[problem]) if problem else None
        container.params["video_sha"] = hashlib.sha256(data).hexdigest()
        container.params["uploaded"] = True

    def rupload(self, req: Request, container_id: str) -> Response:
        """`POST <uri>` with `offset` and `file_size` headers and the bytes (whole, or the rest)."""
        container = self.containers.get(container_id)
        if container is None or container.params.get("media_type") != "REELS":
            return json_response({"debug_info": {"retriable": False, "type": "NotFoundError",
                                                 "message": "Upload session not found"}}, 400)
        try:
            offset, total = int(req.header("offset")), int(req.header("file_size"))
        except ValueError:
            return json_response({"debug_info": {"retriable": False, "type": "ProcessingFailedError",
                                                 "message": "offset and file_size headers are required"}}, 400)
        have = container.params.setdefault("bytes", b"")
        if offset != len(have) or offset + len(req.body) > total:
            return json_response({"debug_info": {"retriable": False, "type": "ProcessingFailedError",
                                                 "message": f"offset {offset} does not match the "
                                                            f"{len(have)} bytes received"}}, 400)
        container.params["bytes"] = have + req.body
        if len(container.params["bytes"]) == total:
            self.judge_reel(container, container.params.pop("bytes"))
            container.created_at = self.clock()  # processing starts now
        return json_response({"success": True, "message": "Upload successful."})

    def container_status(self, container: Container, *, poll: bool = True) -> str:
        if not container.params.get("uploaded", True):
            container.polls += int(poll)
            return container.status_code  # IN_PROGRESS until the bytes arrive
        return super().container_status(container, poll=poll)

    def media_publish(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        container = self.containers.get(req.param("creation_id") or "")
        if container is None:
            return graph_error("(#100) Param creation_id must be the id of a media container", 100)
        status = self.container_status(container, poll=False)
        if status == "IN_PROGRESS":
            return graph_error("Media ID is not available", 9007, subcode=2207027,
                               user_title="Media not ready",
                               user_msg="The media is not ready for publishing, please wait for a moment")
        if status == "EXPIRED":
            return graph_error("The media you are trying to access has expired. Please try to upload again.",
                               -2, subcode=2207020, user_title="Media expired")
        if status == "ERROR":
            return graph_error("An unknown error occurred", -1, subcode=container.error_subcode or 2207001,
                               transient=True)
        if status == "PUBLISHED" and self.guards:
            return graph_error("(#100) This media container has already been published", 100)
        if self.quota_reached():
            return graph_error("Application request limit reached", 9, subcode=2207042,
                               user_title="Maximum number of posts reached",
                               user_msg="You reached the maximum number of posts that may be published "
                                        "through the API in 24 hours.")
        return self.publish_container(container, container.params["caption"])

    # -- reading ------------------------------------------------------------------------------

    def media_node(self, media: Published) -> dict[str, Any]:
        hours = (self.clock() - media.created_at).total_seconds() / 3600
        reel = media.extra.get("media_type") == "REELS"
        return {"id": media.id, "caption": media.text, "media_type": "VIDEO" if reel else "IMAGE",
                "media_product_type": "REELS" if reel else "FEED",
                "media_url": media.extra.get("video_url" if reel else "image_url"),
                "permalink": f"https://www.instagram.com/{'reel' if reel else 'p'}/{shortcode(media.id)}/", "timestamp": graph_time(media.created_at), "username": USERNAME,
                "like_count": self.counts(media, hours)["likes"],
                "comments_count": self.counts(media, hours)["comments"], "alt_text": media.extra.get("alt_text")}

    def node(self, req: Request, node: str) -> Response:
        if self.user(node):
            return self.answer(pick_fields(
                {"id": IG_USER_ID, "username": USERNAME, "name": "Verandering van binnenuit",
                 "followers_count": int(self.config["followers"]), "media_count": len(self.media),
                 "biography": "Gelijkheid, veiligheid en acceptatie", "profile_picture_url": None},
                self.fields(req, "id,username"), "IGUser"))
        if node in self.containers:
            container = self.containers[node]
            self.container_status(container)
            return self.answer(pick_fields({"id": node, "status_code": container.status_code,
                                            "status": self.status_text(container)},
                                           self.fields(req, "id"), "ShadowIGMediaBuilder"))
        if node in self.media:
            return self.answer(pick_fields(self.media_node(self.media[node]), self.fields(req, "id"),
                                           "IGMedia"))
        return self.not_found(req)

    def list_media(self, req: Request, user: str) -> Response:
        return self.listing(req, user, "IGMedia")

    @staticmethod
    def answer(result: Response | dict[str, Any]) -> Response:
        return result if isinstance(result, Response) else json_response(result)

    # -- insights -----------------------------------------------------------------------------

    def counts(self, media: Published, hours: float) -> dict[str, int]:
        reach = grown(f"{media.id}:reach", hours, low=150, high=900)
        likes = grown(f"{media.id}:likes", hours, low=8, high=90) * reach // 900
        counts = {"reach": reach, "views": reach * 14 // 10, "likes": likes, "comments": reach // 80,
                  "shares": reach // 95, "saved": reach // 50, "follows": reach // 300,
                  "profile_visits": reach // 40, "profile_activity": reach // 60}
        counts["total_interactions"] = counts["likes"] + counts["comments"] + counts["shares"] + counts["saved"]
        if media.extra.get("media_type") == "REELS":  # each view watched 35-80 % of the clip, fixed per Reel
            part = 0.35 + int(hashlib.sha256(media.id.encode()).hexdigest()[:4], 16) % 46 / 100
            counts["ig_reels_avg_watch_time"] = round(max(float(media.extra.get("duration_s") or 0), 3.0) * 1000 * part)
            counts["ig_reels_video_view_total_time"] = counts["views"] * counts["ig_reels_avg_watch_time"]
        return counts

    def insights(self, req: Request, node: str) -> Response:
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        if not metrics:
            return graph_error("(#100) The parameter metric is required", 100)
        if node in self.media:
            return self.media_insights(node, metrics)
        if self.user(node):
            return self.account_insights(req, metrics)
        return self.not_found(req)

    def media_insights(self, media_id: str, metrics: list[str]) -> Response:
        for i, name in enumerate(metrics):
            if name == "impressions":
                return graph_error("(#100) Starting from version v22.0 and above, the impressions metric is "
                                   "no longer supported for media", 100)
            if name not in MEDIA_METRICS + REELS_METRICS:
                return graph_error(f"(#100) metric[{i}] must be one of the following values: "
                                   f"{', '.join(MEDIA_METRICS + REELS_METRICS)}", 100)
        media = self.media[media_id]
        counts = self.counts(media, (self.clock() - media.created_at).total_seconds() / 3600)
        for name in metrics:
            if name not in counts:  # a Reels metric asked of a photo
                return graph_error(f"(#100) The Media Insights API does not support the {name} metric for this "
                                   "media product type.", 100)
        return json_response({"data": [insight(media_id, name, counts[name]) for name in metrics]})

    def account_insights(self, req: Request, metrics: list[str]) -> Response:
        for i, name in enumerate(metrics):
            if name not in DEMOGRAPHIC_METRICS:
                return graph_error(f"(#100) metric[{i}] is not simulated by the sandbox; it serves "
                                   f"{', '.join(DEMOGRAPHIC_METRICS)}", 100)
        if req.param("period", "lifetime") != "lifetime":
            return graph_error(f"(#100) Incompatible period: {metrics[0]} supports period=lifetime", 100)
        if req.param("metric_type") != "total_value":
            return graph_error(f"(#100) The following metrics ({', '.join(metrics)}) should be specified "
                               "with parameter metric_type=total_value", 100)
        timeframe = req.param("timeframe")
        if timeframe not in TIMEFRAMES and not (timeframe in LEGACY_TIMEFRAMES
                                                and not self.config["reject_legacy_timeframes"]):
            return graph_error("(#100) timeframe must be one of the following values: "
                               f"{', '.join(TIMEFRAMES)}", 100)
        keys = [b for b in (req.param("breakdown") or "").split(",") if b]
        if not keys or any(k not in BREAKDOWNS for k in keys):
            return graph_error(f"(#100) breakdown must be one or more of: {', '.join(BREAKDOWNS)}", 100)
        followers = int(self.config["followers"])
        data = []
        for name in metrics:
            title, week, month, young = DEMOGRAPHIC_METRICS[name]
            share = week if timeframe == "this_week" else month
            total = int(followers * share) if followers >= 100 else 0
            seed = int(self.config["seed"]) * 31 + list(DEMOGRAPHIC_METRICS).index(name)
            results = demographics(seed, total, keys, young=young, with_13_17=bool(self.config["with_13_17"]))
            data.append(breakdown_insight(IG_USER_ID, name, keys, results, title=title))
        return json_response({"data": data})

    # -- state --------------------------------------------------------------------------------

    def published_texts(self) -> list[str]:
        return [p["caption"] for p in self.state()["posts"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-instagram", "instagram", f"{url}/instagram", options={"ig_user_id": IG_USER_ID},
                           secrets={"token": DEMO_TOKEN})

    def state(self) -> dict[str, Any]:
        return {"containers": [{"id": c.id, "status_code": c.status_code, "caption": c.params["caption"],
                                "polls": c.polls} for c in self.containers.values()],
                "posts": [{"id": m.id, "caption": m.text, "alt_text": m.extra["alt_text"],
                           "image_url": m.extra["image_url"], "container_id": m.extra["container_id"],
                           **{k: m.extra[k] for k in ("media_type", "video_url", "share_to_feed", "cover_url",
                                                      "thumb_offset", "video_sha") if k in m.extra},
                           "timestamp": graph_time(m.created_at)} for m in self.media.values()],
                "quota_usage": self.quota_used(self.published_times()), "usage": dict(self.usage)}
