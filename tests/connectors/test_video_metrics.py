"""Video metrics of published Reels and videos, over real HTTP against the Meta simulations: a Facebook
Reel's plays and watch time come from the video's `video_insights` (not the Page post's insights), an
Instagram Reel's watch time from its media insights (milliseconds, stored once in seconds), a Threads
video's views from its insights; a photo next to them keeps its own metrics. Each figure is checked
against the simulation's answer to the same question asked directly (its wire format, its units)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outreach.connectors.facebook import FacebookConnector
from outreach.connectors.instagram import InstagramConnector
from outreach.connectors.threads import ThreadsConnector
from outreach.domain import Platform
from outreach.harvest.harvester import normalise
from outreach.sandbox.facebook import DEMO_TOKEN as FB_TOKEN
from outreach.sandbox.facebook import PAGE_ID, FacebookSim
from outreach.sandbox.instagram import DEMO_TOKEN as IG_TOKEN
from outreach.sandbox.instagram import IG_USER_ID, InstagramSim
from outreach.sandbox.threads import DEMO_TOKEN as TH_TOKEN
from outreach.sandbox.threads import THREADS_USER_ID, ThreadsSim
from tests.connectors.harness import Context
from tests.connectors.meta_fixtures import graph_get, image, request
from tests.connectors.test_meta_video import TEXT, video, video_context


def published(ctx: Context, *, photo: bool = False) -> str:
    media = (image(ctx, "cover.jpg"),) if photo else (video(ctx),)  # clips() made meeting.jpg the cover
    text = "Foto's van de bijeenkomst" if photo else TEXT
    return ctx.make_connector().publish(request(ctx, text, media=media), save_handle=ctx.save_handle).remote_id


def asked(ctx: Context, token: str, node: str, edge: str, metrics: str) -> dict[str, Any]:
    """The simulation's own answer (Graph's insights envelope), bypassing the connector."""
    body = graph_get(ctx, f"{node}/{edge}", token, metric=metrics).json()
    return {item["name"]: item["values"][-1]["value"] for item in body["data"]}


def harvested(ctx: Context, remote_id: str) -> tuple[dict[str, Any], dict[str, int | None]]:
    """One metrics fetch as the harvester makes it: raw values and the normalised, converted ones."""
    connector = ctx.make_connector()
    raw = connector.fetch_metrics([remote_id])[remote_id]
    return raw, normalise(raw, connector.metric_names, connector.metric_scale)


def test_a_facebook_reel_gets_its_plays_and_watch_time_from_video_insights(serve_sandbox, monkeypatch,  # type: ignore[no-untyped-def]
                                                                          tmp_path: Path) -> None:
    ctx = video_context(serve_sandbox, monkeypatch, tmp_path, FacebookSim, FacebookConnector, Platform("facebook"),
                        FB_TOKEN, page_id=PAGE_ID)
    post_id = published(ctx)
    [reel] = ctx.state()["reels"]
    ctx.scratch["clock"].advance(hours=30)
    raw, values = harvested(ctx, post_id)
    sim = asked(ctx, FB_TOKEN, reel["id"], "video_insights", "fb_reels_total_plays,post_video_view_time")
    page_post = asked(ctx, FB_TOKEN, post_id, "insights", "post_media_view")
    assert sim["fb_reels_total_plays"] > 0 and sim["fb_reels_total_plays"] != page_post["post_media_view"]
    assert values["views"] == sim["fb_reels_total_plays"] == raw["fb_reels_total_plays"]
    assert raw["post_video_view_time"] == sim["post_video_view_time"]  # raw keeps Meta's milliseconds
    assert values["watch_time_s"] == round(sim["post_video_view_time"] / 1000) > 0
    assert values["likes"] is not None and values["comments"] is not None  # the Page post's fields stay
    assert ctx.requests_to("GET", f"{post_id}/insights") == 1  # only the test's own question: the Reel's post
    assert values.get("reach") is None  # is not asked (Meta's name for a Reel's reach is not confirmed)


def test_a_facebook_text_post_asks_no_video_insights(serve_sandbox, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = video_context(serve_sandbox, monkeypatch, tmp_path, FacebookSim, FacebookConnector, Platform("facebook"),
                        FB_TOKEN, page_id=PAGE_ID)
    remote_id = ctx.make_connector().publish(request(ctx, "Donderdag in Rotterdam: welkom!"),
                                             save_handle=ctx.save_handle).remote_id
    ctx.scratch["clock"].advance(hours=30)
    _, values = harvested(ctx, remote_id)
    assert values["views"] and values.get("watch_time_s") is None
    assert ctx.requests_to("GET", "/video_insights") == 0


def test_an_instagram_reel_gets_watch_time_and_a_photo_keeps_its_metrics(serve_sandbox, monkeypatch,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    ctx = video_context(serve_sandbox, monkeypatch, tmp_path, InstagramSim, InstagramConnector,
                        Platform("instagram"), IG_TOKEN, ig_user_id=IG_USER_ID)
    photo_id = published(ctx, photo=True)
    reel_id = published(ctx)
    ctx.scratch["clock"].advance(hours=30)
    connector = ctx.make_connector()
    fetched = connector.fetch_metrics([photo_id, reel_id])  # the photo first: its refusal must not stick
    photo = normalise(fetched[photo_id], connector.metric_names, connector.metric_scale)
    reel = normalise(fetched[reel_id], connector.metric_names, connector.metric_scale)
    sim = asked(ctx, IG_TOKEN, reel_id, "insights", "views,saved,shares,ig_reels_video_view_total_time")
    assert (reel["views"], reel["saves"], reel["shares"]) == (sim["views"], sim["saved"], sim["shares"])
    assert reel["reach"] and reel["watch_time_s"] == round(sim["ig_reels_video_view_total_time"] / 1000) > 0
    assert fetched[reel_id]["ig_reels_avg_watch_time"] > 0  # the average stays raw, in milliseconds
    assert photo["views"] and photo["reach"] and photo.get("watch_time_s") is None
    assert not connector.rejected_metrics


def test_a_threads_video_gets_its_views(serve_sandbox, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = video_context(serve_sandbox, monkeypatch, tmp_path, ThreadsSim, ThreadsConnector, Platform("threads"),
                        TH_TOKEN, threads_user_id=THREADS_USER_ID)
    remote_id = published(ctx)
    ctx.scratch["clock"].advance(hours=30)
    _, values = harvested(ctx, remote_id)
    assert values["views"] == asked(ctx, TH_TOKEN, remote_id, "insights", "views")["views"] > 0
    assert values.get("watch_time_s") is None  # Threads reports no watch time
