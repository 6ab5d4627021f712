"""Facebook Pages Graph API, simulated: `/feed`, `/photos` and Reels (facebook_reels.py) with a Page token, `published_posts`,
post fields with reaction/comment summaries, post insights where one deprecated metric fails the
whole request (code 100). Wire formats follow platforms.md §1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from outreach.sandbox.core import DemoAccount
from outreach.sandbox.facebook_reels import PageReels, Reel
from outreach.sandbox.http import Request, Response, json_response
from outreach.sandbox.meta import (
    FetchFailed,
    GraphSim,
    Published,
    fetch_image,
    graph_error,
    graph_time,
    grown,
    insight,
    invalid_metric,
)
from outreach.sandbox.paging import PagingError, graph_page

DEMO_TOKEN = "EAAGsandbox-facebook-page-token"
PAGE_ID = "104213502345678"
PAGE_NAME = "Verandering van binnenuit"
MAX_PHOTO_BYTES = 4 * 1024 * 1024
POST_METRICS = ("post_total_media_view_unique", "post_media_view", "post_reactions_by_type_total",
                "post_reactions_like_total", "post_reactions_love_total", "post_reactions_wow_total",
                "post_reactions_haha_total", "post_reactions_sorry_total", "post_reactions_anger_total",
                "post_activity_by_action_type", "post_activity_by_action_type_unique", "post_clicks",
                "post_clicks_by_type", "post_video_views")
# Removed 2024-03-14 / 2025-06 / 2025-11-15 (platforms.md §1.3): asking for any fails the request.
DEPRECATED_POST_METRICS = ("post_impressions", "post_impressions_unique", "post_engaged_users",
                           "post_impressions_paid_unique", "post_impressions_fan_unique",
                           "post_impressions_organic_unique", "post_impressions_viral_unique",
                           "post_impressions_nonviral_unique", "post_consumptions")
POST_FIELDS = ("id", "message", "created_time", "permalink_url", "shares", "reactions", "comments",
               "status_type", "full_picture", "is_published", "attachments")


class FacebookSim(PageReels, GraphSim):
    prefix: ClassVar[str] = "facebook"
    demo_token: ClassVar[str] = DEMO_TOKEN
    usage_type: ClassVar[str] = "pages"
    throttle: ClassVar[tuple[int, str]] = (
        80001, "(#80001) There have been too many calls to this Page account. Wait a bit and try again.")
    token_lifetime: ClassVar[timedelta | None] = None  # Page tokens from a long-lived user token
    # `rejected_metrics`: valid metrics this Page nevertheless refuses (seen in the wild for post_clicks).
    defaults: ClassVar[dict[str, Any]] = {"rejected_metrics": [], "user_content_permission": True,
                                          "duplicate_window_s": 86400}

    def account_id(self) -> str:
        return PAGE_ID

    def reset(self) -> None:
        super().reset()
        self.posts: dict[str, Published] = {}
        self.reels: dict[str, Reel] = {}

    def setup_routes(self) -> None:
        add = self.router.add
        add("POST", r"/(?P<page>\w+)/feed", self.feed)
        add("POST", r"/(?P<page>\w+)/photos", self.photos)
        self.reels_routes()
        add("GET", r"/(?P<page>\w+)/(?:published_posts|feed|posts)", self.published_posts)
        add("GET", r"/(?P<node>\w+)/insights", self.insights)
        add("GET", r"/(?P<node>\w+)", self.node)

    def page(self, page: str) -> bool:
        return page in ("me", PAGE_ID)

    # -- publishing ---------------------------------------------------------------------------

    def feed(self, req: Request, page: str) -> Response:
        if not self.page(page):
            return self.not_found(req)
        message, link = req.param("message") or "", req.param("link")
        if not message and not link:
            return graph_error("(#100) Either message or link must be supplied", 100)
        return self.create(message, {"link": link, "status_type": "shared_story" if link else "mobile_status_update"})

    def photos(self, req: Request, page: str) -> Response:
        if not self.page(page):
            return self.not_found(req)
        url = req.param("url")
        if url:
            try:
                data, mime = fetch_image(url, max_bytes=MAX_PHOTO_BYTES)
            except FetchFailed:
                return graph_error("(#324) Missing or invalid image file", 324,
                                   user_msg=f"The photo could not be downloaded from {url}.")
        elif "source" in req.files:
            data, mime = req.files["source"].data, req.files["source"].content_type
        else:
            return graph_error("(#324) Requires upload file", 324)
        if len(data) > MAX_PHOTO_BYTES:
            return graph_error("(#324) Photo is too large; Pages accept photos up to 4 MB", 324)
        if mime not in ("image/jpeg", "image/png", "image/gif"):
            return graph_error("(#324) Missing or invalid image file", 324)
        message = req.param("caption") or req.param("message") or ""
        photo_id = self.new_id(122100000000000000)
        response = self.create(message, {"photo_id": photo_id, "status_type": "added_photos",
                                         "alt_text": req.param("alt_text_custom") or "",
                                         "upload": "url" if url else "file"})
        if response.status == 200:
            response.body = {"id": photo_id, "post_id": response.body["id"]}
        return response

    def create(self, message: str, extra: dict[str, Any], *, check_duplicate: bool = True) -> Response:
        window = timedelta(seconds=int(self.config["duplicate_window_s"]))
        if check_duplicate and self.guards and message and any(p.text == message and self.clock() - p.created_at < window
                           for p in self.posts.values()):
            return graph_error("(#506) Duplicate status message", 506,
                               user_title="Duplicate post",
                               user_msg="This status update is identical to the last one you posted.")
        post = Published(id=f"{PAGE_ID}_{self.new_id(122150000000000000)}", text=message,
                         created_at=self.clock(), extra=extra)
        self.posts[post.id] = post
        return json_response({"id": post.id})

    # -- reading ------------------------------------------------------------------------------

    def post_node(self, post: Published) -> dict[str, Any]:
        hours = (self.clock() - post.created_at).total_seconds() / 3600
        counts = self.counts(post, hours)
        node: dict[str, Any] = {
            "id": post.id, "message": post.text or None, "created_time": graph_time(post.created_at),
            "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post.id.split('_')[1]}",
            "status_type": post.extra["status_type"], "is_published": True,
            "full_picture": "https://scontent.xx.fbcdn.net/sandbox.jpg" if "photo_id" in post.extra else None,
            "reactions": {"data": [], "summary": {"total_count": counts["reactions"]}},
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": counts["comments"]}}}
        if counts["shares"]:
            node["shares"] = {"count": counts["shares"]}  # Graph leaves the field out at zero
        attachment = self.attachment(post)
        if attachment:  # a text post has none: Graph leaves the field out
            node["attachments"] = {"data": [attachment]}
        return node

    def attachment(self, post: Published) -> dict[str, Any] | None:
        """The post's StoryAttachment (default fields): a Reel's `target` is its video, a photo's the photo."""
        if "video_id" in post.extra:
            video_id = post.extra["video_id"]
            return {"media_type": "video", "type": "video_inline", "target": {
                "id": video_id, "url": f"https://www.facebook.com/reel/{video_id}"},
                "url": f"https://www.facebook.com/reel/{video_id}"}
        if "photo_id" in post.extra:
            photo_id = post.extra["photo_id"]
            return {"media_type": "photo", "type": "photo", "target": {
                "id": photo_id, "url": f"https://www.facebook.com/photo.php?fbid={photo_id}"},
                "media": {"image": {"height": 720, "width": 720, "src": "https://scontent.xx.fbcdn.net/sandbox.jpg"}}}
        return None

    def node(self, req: Request, node: str) -> Response:
        if self.page(node):
            page = {"id": PAGE_ID, "name": PAGE_NAME, "followers_count": int(self.config["followers"]),
                    "fan_count": int(self.config["followers"]), "link": f"https://www.facebook.com/{PAGE_ID}",
                    "category": "Nonprofit organization"}
            wanted = self.fields(req, "id,name")
            unknown = [f for f in wanted if f not in page]
            if unknown:
                return graph_error(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                                   "(Page)", 100)
            return json_response({k: page[k] for k in [*wanted, "id"]})
        if node in self.reels:
            return self.reel_node(self.reels[node], self.fields(req, "id"))
        if node in self.posts:
            return self.answer_post(self.posts[node], self.fields(req, "id,created_time,message"))
        return self.not_found(req)

    def answer_post(self, post: Published, wanted: list[str]) -> Response:
        full, out = self.post_node(post), {}
        for expr in wanted:
            name = expr.split(".")[0]
            if name not in POST_FIELDS:
                return graph_error(f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                   "(PagePost)", 100)
            if name in ("reactions", "comments") and not self.config["user_content_permission"]:
                return graph_error("(#10) This endpoint requires the 'pages_read_user_content' permission "
                                   "or the 'Page Public Content Access' feature.", 10)
            if full.get(name) is not None:
                out[name] = full[name]
        out["id"] = post.id
        return json_response(out)

    def published_posts(self, req: Request, page: str) -> Response:
        if not self.page(page):
            return self.not_found(req)
        since = self.parse_since(req.param("since"))
        newest = sorted((p for p in self.posts.values() if since is None or p.created_at >= since),
                        key=lambda p: (p.created_at, p.id), reverse=True)
        try:
            posts, paging = graph_page(req, newest, id_of=lambda p: p.id)
        except PagingError as exc:
            return graph_error(f"(#100) {exc}", 100)
        wanted = self.fields(req, "id,message,created_time")
        data = []
        for post in posts:
            full = self.post_node(post)
            data.append({k: full[k] for k in [*wanted, "id"] if full.get(k) is not None})
        return json_response({"data": data, **({"paging": paging} if paging else {})})

    @staticmethod
    def parse_since(value: str | None) -> datetime | None:
        if not value:
            return None
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    # -- insights -----------------------------------------------------------------------------

    def counts(self, post: Published, hours: float) -> dict[str, int]:
        reach = grown(f"{post.id}:reach", hours, low=120, high=700)
        return {"reach": reach, "views": reach * 13 // 10, "reactions": reach // 14, "comments": reach // 90,
                "shares": reach // 120, "clicks": reach // 25}

    def insights(self, req: Request, node: str) -> Response:
        post = self.posts.get(node)
        if post is None:
            return self.not_found(req)
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        if not metrics:
            return graph_error("(#3001) No metric was specified", 3001, subcode=1504028,
                               user_title="No Metric Specified")
        rejected = set(self.config["rejected_metrics"])
        if any(m in DEPRECATED_POST_METRICS or m not in POST_METRICS or m in rejected for m in metrics):
            return invalid_metric()
        counts = self.counts(post, (self.clock() - post.created_at).total_seconds() / 3600)
        reactions = {"like": counts["reactions"] * 3 // 4, "love": counts["reactions"] // 6}
        reactions["wow"] = counts["reactions"] - reactions["like"] - reactions["love"]
        values: dict[str, Any] = {
            "post_total_media_view_unique": counts["reach"], "post_media_view": counts["views"],
            "post_reactions_by_type_total": reactions, "post_clicks": counts["clicks"],
            "post_clicks_by_type": {"other clicks": counts["clicks"]}, "post_video_views": 0,
            "post_activity_by_action_type": {"share": counts["shares"], "like": counts["reactions"],
                                             "comment": counts["comments"]}}
        values["post_activity_by_action_type_unique"] = values["post_activity_by_action_type"]
        for kind in ("like", "love", "wow", "haha", "sorry", "anger"):
            values[f"post_reactions_{kind}_total"] = reactions.get(kind, 0)
        base = f"https://graph.facebook.com/v25.0/{node}/insights?metric={','.join(metrics)}"
        return json_response({"data": [insight(node, m, values[m]) for m in metrics],
                              "paging": {"previous": f"{base}&since=0", "next": f"{base}&until=0"}})

    # -- state --------------------------------------------------------------------------------

    def published_texts(self) -> list[str]:
        return [p["message"] for p in self.state()["posts"]]

    @classmethod
    def demo_account(cls, url: str) -> DemoAccount:
        return DemoAccount("peer-facebook", "facebook", f"{url}/facebook", options={"page_id": PAGE_ID},
                           secrets={"token": DEMO_TOKEN})

    def state(self) -> dict[str, Any]:
        return {"posts": [{"id": p.id, "message": p.text, "created_time": graph_time(p.created_at),
                           **{k: v for k, v in p.extra.items() if v}} for p in self.posts.values()],
                "reels": [{"id": r.id, "finished": r.finished, "bytes": len(r.data), "post_id": r.post_id,
                           "sha256": r.sha256, "captions": sorted(r.captions),
                           "cover_sha": r.cover_sha} for r in self.reels.values()],
                "usage": dict(self.usage)}
