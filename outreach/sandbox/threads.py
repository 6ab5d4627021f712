"""Threads API, simulated: TEXT, IMAGE and VIDEO containers (video fetched by URL and judged while
IN_PROGRESS, refusals in `error_message`), `threads_publish` with the 250-per-24 h quota,
the 500 limit with emoji counted as UTF-8 bytes, media insights, follower demographics, token
refresh. Wire formats follow platforms.md §3.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, ClassVar

import regex

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
    insight,
    pick_fields,
)
from outreach.sandbox.meta_video import clip_problem, fetch_bytes, read_clip

DEMO_TOKEN = "THQVJsandbox-threads-demo-token"
THREADS_USER_ID = "25803160000000042"
USERNAME = "vanbinnenuit"
MAX_TEXT = 500
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 1024**3
MAX_VIDEO_S = 300.0
MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
USER_METRICS = ("views", "likes", "replies", "reposts", "quotes", "clicks", "followers_count",
                "follower_demographics")
BREAKDOWNS = ("age", "gender", "country", "city")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")


def threads_length(text: str) -> int:
    """Threads' count: one per character, except that an emoji costs its UTF-8 bytes."""
    return sum(len(g.encode()) if _EMOJI.search(g) else len(g) for g in regex.findall(r"\X", text))


class ThreadsSim(ContainerSim):
    prefix: ClassVar[str] = "threads"
    user_id: ClassVar[str] = THREADS_USER_ID
    media_id_base: ClassVar[int] = 18040000000000000
    demo_token: ClassVar[str] = DEMO_TOKEN
    usage_header: ClassVar[str] = "X-App-Usage"
    refresh_grant: ClassVar[str | None] = "th_refresh_token"
    defaults: ClassVar[dict[str, Any]] = {"quota_total": 250, "reply_quota_total": 1000}

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/(?P<user>\w+)/threads", self.create_container)
        add("POST", r"/(?P<user>\w+)/threads_publish", self.publish)
        add("GET", r"/(?P<user>\w+)/threads", self.list_threads)
        add("GET", r"/(?P<user>\w+)/threads_publishing_limit", self.publishing_limit)
        add("GET", r"/(?P<user>\w+)/threads_insights", self.user_insights)
        add("GET", r"/(?P<node>\w+)/insights", self.media_insights)
        add("GET", r"/(?P<node>\w+)", self.node)

    # -- publishing ---------------------------------------------------------------------------

    def create_container(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        media_type, text = req.param("media_type") or "", req.param("text") or ""
        if media_type not in ("TEXT", "IMAGE", "VIDEO"):
            return graph_error("(#100) media_type must be one of TEXT, IMAGE, VIDEO (the sandbox simulates "
                               "no carousel)", 100)
        if threads_length(text) > MAX_TEXT:
            return graph_error(f"(#100) The text is too long: {threads_length(text)} characters, the limit "
                               f"is {MAX_TEXT} (emoji count as their UTF-8 bytes)", 100,
                               user_title="Text too long")
        if media_type == "TEXT" and not text:
            return graph_error("(#100) The parameter text is required for TEXT posts", 100)
        params = {"media_type": media_type, "text": text, "alt_text": req.param("alt_text") or "",
                  "image_url": req.param("image_url"), "link_attachment": req.param("link_attachment"),
                  "video_url": req.param("video_url")}
        refusal = None
        if media_type == "VIDEO":
            url = params["video_url"]
            if not url:
                return graph_error("(#100) The parameter video_url is required for VIDEO posts", 100)
            try:
                data = fetch_bytes(url, max_bytes=MAX_VIDEO_BYTES)
            except FetchFailed:
                data = b""  # Meta reports a failed download on the container, not here
            problem = "FAILED_DOWNLOADING_VIDEO" if not data else clip_problem(
                read_clip(data), min_s=0.0, max_s=MAX_VIDEO_S, max_bytes=MAX_VIDEO_BYTES)
            refusal = (problem, 2207026) if problem else None
            params["video_sha"] = hashlib.sha256(data).hexdigest()
        if media_type == "IMAGE":
            url = params["image_url"]
            if not url:
                return graph_error("(#100) The parameter image_url is required for IMAGE posts", 100)
            try:
                data, mime = fetch_image(url, max_bytes=MAX_IMAGE_BYTES)
            except FetchFailed:
                return graph_error("Media download has failed.", 9004, subcode=2207052,
                                   user_title="Media download has failed.",
                                   user_msg=f"The media could not be fetched from this URI: {url}.")
            if len(data) > MAX_IMAGE_BYTES or mime not in ("image/jpeg", "image/png"):
                return graph_error("The image is too large or not a JPEG/PNG.", 36000, subcode=2207004,
                                   user_msg="Threads accepts JPEG or PNG images up to 8 MB.")
        container = Container(id=self.new_id(18030000000000000), owner=THREADS_USER_ID,
                              created_at=self.clock(), params=params,
                              status_code="FINISHED" if media_type == "TEXT" else "IN_PROGRESS", refusal=refusal)
        self.containers[container.id] = container
        return json_response({"id": container.id})

    def publish(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        container = self.containers.get(req.param("creation_id") or "")
        if container is None:
            return graph_error("(#100) Param creation_id must be the id of a Threads media container", 100)
        status = self.container_status(container, poll=False)
        if status == "IN_PROGRESS":
            return graph_error("Media ID is not available", 9007, subcode=2207027,
                               user_msg="The media is not ready for publishing, please wait for a moment")
        if status in ("EXPIRED", "ERROR"):
            return graph_error(f"The container is {status.lower()}; create a new one.", -2, subcode=2207020)
        if status == "PUBLISHED" and self.guards:
            return graph_error("(#100) This media container has already been published", 100)
        if self.quota_reached():
            return graph_error("Application request limit reached", 9, subcode=2207042,
                               user_msg=f"The profile has published {self.config['quota_total']} posts "
                                        "through the API in the past 24 hours.")
        return self.publish_container(container, container.params["text"])

    # -- reading ------------------------------------------------------------------------------

    def media_node(self, media: Published) -> dict[str, Any]:
        code = base64.urlsafe_b64encode(int(media.id).to_bytes(8, "big")).decode().rstrip("=")
        return {"id": media.id, "media_product_type": "THREADS", "shortcode": code,
                "media_type": {"TEXT": "TEXT_POST"}.get(media.extra["media_type"], media.extra["media_type"]),
                "text": media.text, "permalink": f"https://www.threads.net/@{USERNAME}/post/{code}",
                "timestamp": graph_time(media.created_at), "username": USERNAME, "is_quote_post": False,
                "media_url": media.extra["video_url"] or media.extra["image_url"], "alt_text": media.extra["alt_text"] or None}

    def node(self, req: Request, node: str) -> Response:
        if self.user(node):
            result = pick_fields({"id": THREADS_USER_ID, "username": USERNAME, "name": "Van Binnenuit",
                                  "threads_profile_picture_url": None, "threads_biography": "Samen in gesprek"},
                                 self.fields(req, "id"), "ThreadsUser")
        elif node in self.containers:
            container = self.containers[node]
            self.container_status(container)
            error = None if container.status_code != "ERROR" else container.refusal[0] if container.refusal \
                else f"FAILED_PROCESSING_{'VIDEO' if container.params['media_type'] == 'VIDEO' else 'IMAGE'}"
            result = pick_fields({"id": node, "status": container.status_code, "error_message": error},
                                 self.fields(req, "id"), "ThreadsMediaContainer")
        elif node in self.media:
            result = pick_fields(self.media_node(self.media[node]), self.fields(req, "id"), "ThreadsMedia")
        else:
            return self.not_found(req)
        return result if isinstance(result, Response) else json_response(result)

    def list_threads(self, req: Request, user: str) -> Response:
        return self.listing(req, user, "ThreadsMedia")

    # -- insights -----------------------------------------------------------------------------

    def counts(self, media: Published) -> dict[str, int]:
        hours = (self.clock() - media.created_at).total_seconds() / 3600
        views = grown(f"{media.id}:views", hours, low=100, high=1500)
        return {"views": views, "likes": views // 18, "replies": views // 110, "reposts": views // 150,
                "quotes": views // 400, "shares": views // 250, "clicks": views // 60}

    def media_insights(self, req: Request, node: str) -> Response:
        media = self.media.get(node)
        if media is None:
            return self.not_found(req)
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        bad = [m for m in metrics if m not in MEDIA_METRICS]
        if not metrics or bad:
            return graph_error(f"(#100) Param metric must be one or more of {', '.join(MEDIA_METRICS)}", 100)
        counts = self.counts(media)
        return json_response({"data": [insight(node, m, counts[m]) for m in metrics]})

    def user_insights(self, req: Request, user: str) -> Response:
        if not self.user(user):
            return self.not_found(req)
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        if not metrics or any(m not in USER_METRICS for m in metrics):
            return graph_error(f"(#100) Param metric must be one or more of {', '.join(USER_METRICS)}", 100)
        followers = int(self.config["followers"])
        totals = {k: sum(self.counts(m)[k] for m in self.media.values())
                  for k in ("views", "likes", "replies", "reposts", "quotes", "clicks")}
        data = []
        for name in metrics:
            if name == "follower_demographics":
                keys = [b for b in (req.param("breakdown") or "").split(",") if b]
                if len(keys) != 1 or keys[0] not in BREAKDOWNS:
                    return graph_error(f"(#100) follower_demographics needs exactly one breakdown out of "
                                       f"{', '.join(BREAKDOWNS)}", 100)
                results = demographics(int(self.config["seed"]) * 37, followers if followers >= 100 else 0,
                                       keys, young=1.25, with_13_17=bool(self.config["with_13_17"]))
                data.append(breakdown_insight(THREADS_USER_ID, name, keys, results, title="Followers"))
            elif name == "views":
                data.append(insight(THREADS_USER_ID, name, totals["views"], period="day"))
            else:
                value = followers if name == "followers_count" else totals[name]
                data.append({"name": name, "period": "day", "title": name, "description": "",
                             "total_value": {"value": value},
                             "id": f"{THREADS_USER_ID}/insights/{name}/day"})
        return json_response({"data": data})

    # -- state --------------------------------------------------------------------------------

    def published_texts(self) -> list[str]:
        return [p["text"] for p in self.state()["posts"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-threads", "threads", f"{url}/threads", options={"threads_user_id": THREADS_USER_ID},
                           secrets={"token": DEMO_TOKEN})

    def state(self) -> dict[str, Any]:
        return {"containers": [{"id": c.id, "status": c.status_code, "text": c.params["text"], "polls": c.polls,
                                "link_attachment": c.params["link_attachment"]} for c in self.containers.values()],
                "posts": [{"id": m.id, "text": m.text, "media_type": m.extra["media_type"],
                           "alt_text": m.extra["alt_text"], "image_url": m.extra["image_url"],
                           "video_url": m.extra["video_url"], "video_sha": m.extra.get("video_sha"),
                           "container_id": m.extra["container_id"], "timestamp": graph_time(m.created_at)}
                          for m in self.media.values()],
                "quota_usage": self.quota_used(self.published_times()), "usage": dict(self.usage)}
