"""A Mastodon instance's own limits (`GET /api/v2/instance`) are read, kept with an expiry, survive an
unreachable instance, and drive validation and media fitting; `max_text` in the config still wins.
Over real HTTP against the Mastodon simulation."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from outreach.cards import prepare_image_for_platform
from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore
from outreach.connectors.mastodon import MastodonConnector
from outreach.credentials import FileCredentialStore
from outreach.domain import MediaItem, Platform, PublishRequest
from outreach.planning.limits import platform_validator
from outreach.sandbox.mastodon import DEMO_TOKEN, MastodonSim
from tests.clock import FakeClock
from tests.connectors.harness import Context

TOKEN_ENV = "OUTREACH_TEST_MASTODON_LIMITS_TOKEN"
START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
DAY = MastodonConnector.limits_ttl_s


@pytest.fixture
def ctx(serve_sandbox, monkeypatch) -> Context:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(MastodonSim(clock=clock))
    store = MemoryCredentialStore()

    def make_connector(*, credentials: Any = None, **options: Any) -> MastodonConnector:
        return MastodonConnector(channel(url, **options), timeout_s=5, clock=clock,
                                 credentials=credentials or store, sleep=lambda s: None)

    return Context(sandbox=sandbox, url=url, prefix="mastodon", make_connector=make_connector,
                   scratch={"clock": clock, "store": store})


def channel(url: str, **options: Any) -> ChannelConfig:
    return ChannelConfig(name="peer-mastodon", platform=Platform("mastodon"), base_url=f"{url}/mastodon",
                         options=options, secret_envs={"token": TOKEN_ENV})


def instance_reads(ctx: Context) -> int:
    return ctx.requests_to("GET", "/api/v2/instance")


def test_limits_are_kept_until_they_expire_then_read_again(ctx: Context) -> None:
    ctx.control("set_limits", {"max_characters": 1000})
    assert ctx.make_connector().limits().max_text == 1000
    ctx.control("set_limits", {"max_characters": 700})
    ctx.scratch["clock"].advance(seconds=DAY - 60)
    assert ctx.make_connector().limits().max_text == 1000  # a new connector: the kept copy, no request
    assert instance_reads(ctx) == 1
    ctx.scratch["clock"].advance(seconds=120)
    assert ctx.make_connector().limits().max_text == 700
    assert instance_reads(ctx) == 2


def test_an_unreachable_instance_never_fails_a_post_and_is_asked_again_later(ctx: Context) -> None:
    connector = ctx.make_connector()
    ctx.control("set_limits", {"max_characters": 1000})
    assert connector.limits().max_text == 1000
    ctx.scratch["clock"].advance(seconds=DAY + 1)
    ctx.sandbox.add_fault(platform="mastodon", mode="error", status=503, path="/api/v2/instance", times=1)
    assert connector.limits().max_text == 1000  # the last known limits serve
    ctx.control("set_limits", {"max_characters": 800})
    assert connector.limits().max_text == 1000 and instance_reads(ctx) == 2  # not asked at once ...
    ctx.scratch["clock"].advance(seconds=MastodonConnector.limits_retry_s + 1)
    assert connector.limits().max_text == 800  # ... but after the retry interval


def test_without_any_answer_the_defaults_apply(ctx: Context) -> None:
    ctx.sandbox.add_fault(platform="mastodon", mode="error", status=500, path="/api/v2/instance", times=1,
                          body="<html>oops</html>")
    limits = ctx.make_connector().limits()
    assert limits == MastodonConnector(channel("http://x")).with_options(MastodonConnector.declared_limits())


def test_max_text_in_the_config_overrides_the_instance(ctx: Context) -> None:
    ctx.control("set_limits", {"max_characters": 1000})
    assert ctx.make_connector(max_text=600).limits().max_text == 600


def test_url_length_media_and_video_limits_come_from_the_instance(ctx: Context) -> None:
    ctx.control("set_limits", {"characters_reserved_per_url": 30, "image_size_limit": 2_000_000,
                               "image_matrix_limit": 1_000_000, "video_size_limit": 41_943_040,
                               "video_matrix_limit": 2_304_000, "video_frame_rate_limit": 60,
                               "max_media_attachments": 2,
                               "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"]})
    connector = ctx.make_connector()
    limits = connector.limits()
    assert MastodonConnector.text_length("zie https://example.org/" + "a" * 80, limits) == 4 + 30
    assert (limits.max_images, limits.image_mime_types) == (2, ("image/jpeg", "image/png"))
    policy = connector.image_policy()
    assert (policy.max_bytes, policy.max_width, policy.max_height) == (2_000_000, 1000, 1000)
    assert limits.video is not None
    assert (limits.video.max_bytes, limits.video.max_pixels, limits.video.max_fps, limits.video.mime_types) \
        == (41_943_040, 2_304_000, 60, ("video/mp4",))
    assert MastodonConnector.validate("x", [MediaItem("a.webp", mime_type="image/webp")], limits=limits)


def test_media_fitting_with_the_instance_limits_is_accepted_by_the_instance(ctx: Context, tmp_path: Path) -> None:
    """An instance with a 150 kB image limit: fitted with the declared 16 MiB the upload is refused;
    fitted with what the instance reported it is accepted."""
    ctx.control("set_limits", {"image_size_limit": 150_000})
    rng = random.Random(3)
    raw = io.BytesIO()
    Image.frombytes("RGB", (900, 900), rng.randbytes(900 * 900 * 3)).save(raw, format="PNG")
    connector = ctx.make_connector()

    def publish(policy: Any, key: str) -> Any:
        prepared = prepare_image_for_platform(raw.getvalue(), policy)
        path = tmp_path / f"{key}.{prepared.mime_type.split('/')[1]}"
        path.write_bytes(prepared.data)
        req = PublishRequest(post_id=1, text=f"foto {key}", language="nl", idempotency_key=key,
                             media=(MediaItem(str(path), alt_text="ruis", mime_type=prepared.mime_type),),
                             attempt_started_at=START)
        return connector.publish(req, save_handle=lambda handle: None)

    with pytest.raises(Exception, match="(?i)too large|size|invalid"):
        publish(MastodonConnector.image_policy_for(), "declared")
    assert publish(connector.image_policy(), "instance").remote_id
    assert len(ctx.state()["statuses"]) == 1


def test_validate_uses_the_limits_the_instance_last_reported(ctx: Context, tmp_path: Path) -> None:
    ctx.control("set_limits", {"max_characters": 1000})
    state_dir = tmp_path / "state"
    ctx.make_connector(credentials=FileCredentialStore(state_dir / "credentials")).limits()
    text = "x" * 700
    offline = platform_validator(channel(ctx.url))
    assert offline is not None and "allows 500" in offline(text, [])[0]  # nothing known: the defaults
    known = platform_validator(channel(ctx.url), state_dir=str(state_dir))
    assert known is not None and known(text, []) == []
    ctx.scratch["clock"].advance(seconds=10 * DAY)  # old limits still beat the defaults when validating
    assert platform_validator(channel(ctx.url), state_dir=str(state_dir))(text, []) == []  # type: ignore[misc]
    capped = platform_validator(channel(ctx.url, max_text=600), state_dir=str(state_dir))
    assert capped is not None and "allows 600" in capped(text, [])[0]
    assert instance_reads(ctx) == 1  # validation itself never asks the instance
    stored = (state_dir / "credentials" / "peer-mastodon.json").read_text()
    assert DEMO_TOKEN not in stored and "max_characters" in stored


def test_odd_values_from_an_instance_fall_back_to_the_defaults(ctx: Context) -> None:
    ctx.control("set_limits", {"max_characters": "lots", "image_size_limit": -1, "max_media_attachments": True,
                               "supported_mime_types": [7, None]})
    limits = ctx.make_connector().limits()
    declared = MastodonConnector.declared_limits()
    assert (limits.max_text, limits.max_image_bytes, limits.max_images, limits.image_mime_types) == (
        declared.max_text, declared.max_image_bytes, declared.max_images, declared.image_mime_types)
