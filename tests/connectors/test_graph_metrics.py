"""On every Graph platform one retired or refused metric (error code 100, which fails the whole
request) drops alone: the others still come back, and the refused one is not asked again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outreach.connectors.facebook import DEFAULT_METRICS, FacebookConnector
from outreach.connectors.instagram import InstagramConnector
from outreach.connectors.threads import ThreadsConnector
from outreach.domain import Platform
from outreach.sandbox import facebook, instagram, threads
from tests.connectors.meta_fixtures import image, make_context, request

# platform, simulation, connector, token, options, the retired metric, how the connector comes to ask for it
CASES = [
    (Platform("instagram"), instagram.InstagramSim, InstagramConnector, instagram.DEMO_TOKEN,
     {"ig_user_id": instagram.IG_USER_ID}, "impressions", "class"),  # gone for media since v22.0
    (Platform("facebook"), facebook.FacebookSim, FacebookConnector, facebook.DEMO_TOKEN,
     {"page_id": facebook.PAGE_ID}, "post_impressions", "option"),  # deprecated November 2025
    (Platform("threads"), threads.ThreadsSim, ThreadsConnector, threads.DEMO_TOKEN,
     {"threads_user_id": threads.THREADS_USER_ID}, "impressions", "class"),  # never a Threads media metric
]


@pytest.mark.parametrize(("platform", "sim", "connector_class", "token", "options", "retired", "via"), CASES,
                         ids=[c[0] for c in CASES])
def test_one_retired_metric_drops_alone(platform: Platform, sim: Any, connector_class: Any, token: str,
                                        options: dict[str, Any], retired: str, via: str, serve_sandbox: Any,
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ctx = make_context(serve_sandbox=serve_sandbox, monkeypatch=monkeypatch, tmp_path=tmp_path, sim=sim,
                       connector=connector_class, platform=platform, token=token, base_options=options)
    if via == "class":
        wanted = connector_class.media_metrics
        monkeypatch.setattr(connector_class, "media_metrics", (*wanted[:2], retired, *wanted[2:]))
        connector = ctx.make_connector()
    else:
        wanted = DEFAULT_METRICS
        connector = ctx.make_connector(metrics=[*wanted[:2], retired, *wanted[2:]])
    media = (image(ctx),) if platform == Platform("instagram") else ()
    remote_id = connector.publish(request(ctx, "Donderdag in Rotterdam: welkom!", media=media),
                                  save_handle=ctx.save_handle).remote_id
    ctx.scratch["clock"].advance(hours=30)

    first = connector.fetch_metrics([remote_id])[remote_id]
    assert retired not in first and connector.rejected_metrics == {retired}
    got = {name.split(":")[0] for name in first}
    assert set(wanted) <= got, f"{platform}: {set(wanted) - got} lost with {retired}"
    assert all(value >= 0 for value in first.values())

    before = ctx.requests_to("GET", "/insights")
    again = connector.fetch_metrics([remote_id])[remote_id]
    assert ctx.requests_to("GET", "/insights") - before == 1  # one request, without the refused metric
    assert {name.split(":")[0] for name in again} == got
