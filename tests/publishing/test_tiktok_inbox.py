"""TikTok through the dispatcher, over real HTTP to the TikTok simulation: by default the photos go
to the creator's inbox and the post becomes "finish in the TikTok app" (`manual_due`), confirmed by a
person; nothing is sent twice and no path leaves a possibly published post untold."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from outreach.analytics import needs_attention
from outreach.config import parse_settings
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.planning.review import confirm_manual
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.publishing.alerts import detect
from outreach.publishing.retry import RetryPolicy
from outreach.publishing.status import status_report
from outreach.sandbox.tiktok import DEMO_ACCESS_TOKEN, TikTokSim
from tests.clock import FakeClock
from tests.publishing.conftest import _NoCredentials, get_post

START = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def tiktok(serve_sandbox, sqlite_db, monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    media = tmp_path / "media"
    media.mkdir()
    sim = TikTokSim(clock=clock, fetch_timeout_s=2.0)
    sandbox, url = serve_sandbox(sim, media_dir=media)
    monkeypatch.setenv("TEST_TIKTOK_TOKEN", DEMO_ACCESS_TOKEN)
    photo = tmp_path / "kring.jpg"
    Image.new("RGB", (540, 960), (200, 80, 120)).save(photo, "JPEG")

    def dispatcher(**channel: object) -> Dispatcher:
        settings = parse_settings({
            "media": {"directory": str(media), "public_base_url": f"{url}/media"},
            "channels": {"peer-tiktok": {"platform": "tiktok", "base_url": f"{url}/tiktok",
                                         "token_env": "TEST_TIKTOK_TOKEN", **channel}}}, source="test")
        connectors = ConnectorCache(settings, clock=clock, credentials=_NoCredentials())
        connectors("peer-tiktok").sleep = lambda s: None
        return Dispatcher(sqlite_db, settings, worker_id="w1", clock=clock, connectors=connectors,
                          retry=RetryPolicy(max_attempts=4, backoff_base_s=60, backoff_max_s=600))

    def add(text: str) -> int:
        with sqlite_db.write() as s:
            post = Post(source_key=f"test/{uuid.uuid4().hex[:8]}", rule_key="test", channel="peer-tiktok",
                        platform="tiktok", language="nl", text=text, media=[{"path": str(photo), "alt_text": "Kring"}],
                        content_hash=hashlib.sha256(text.encode()).hexdigest(), due_at=clock.now,
                        status=PostStatus.APPROVED.value, approval_required=False, idempotency_key=str(uuid.uuid4()))
            s.add(post)
            s.flush()
            return post.id

    return sqlite_db, clock, sim, sandbox, dispatcher, add


def test_default_is_the_inbox_finished_and_confirmed_by_a_person(tiktok) -> None:  # type: ignore[no-untyped-def]
    db, clock, sim, sandbox, dispatcher, add = tiktok
    post_id = add("Praat mee over gelijkheid in Utrecht")
    [outcome] = dispatcher().run_due()
    assert outcome.status == "manual_due" and "finish the post in the TikTok app" in outcome.detail
    post = get_post(db, post_id)
    assert post.status == PostStatus.MANUAL_DUE and not post.needs_reconcile and post.next_attempt_at is None
    [draft] = sim.state()["posts"]
    assert (draft["post_mode"], draft["status"]) == ("MEDIA_UPLOAD", "SEND_TO_USER_INBOX")
    clock.advance(hours=2)
    assert dispatcher().run_due() == []  # never sent again
    assert len(sim.state()["posts"]) == 1
    [item] = [a for a in needs_attention(db, now=clock.now) if a.post_id == post_id]
    assert item.what == "tiktok_app_overdue" and "TikTok app" in item.message
    report = "\n".join(status_report(db, now=clock.now).lines())
    assert f"post {post_id} · peer-tiktok · nl · manual_due · in the TikTok inbox: finish the post in the TikTok " \
           f"app, then `outreach confirm {post_id} --permalink URL --by NAME`" in report
    [alert] = [i for i in detect(db, now=clock.now) if i.key == f"manual-due:{post_id}"]
    assert "finish the post in the TikTok app" in alert.message  # a person is told, by alert too
    public_id = sandbox.sims["tiktok"].control("finish_in_app", {"publish_id": draft["publish_id"]}).body["post_id"]
    link = f"https://www.tiktok.com/@doetank.peer/photo/{public_id}"
    confirm_manual(db, post_id, permalink=link, confirmed_by="Vrijwilliger")
    assert get_post(db, post_id).status == PostStatus.PUBLISHED
    clock.advance(hours=3)  # the confirmed post's link leads the harvest to its public counts
    sandbox.sims["tiktok"].control("add_token", {"token": DEMO_ACCESS_TOKEN, "expires_in": 86400})
    metrics = dispatcher().connectors("peer-tiktok").fetch_metrics([link])
    assert metrics[link]["view_count"] > 0


def test_direct_post_only_when_the_channel_says_audited(tiktok) -> None:  # type: ignore[no-untyped-def]
    db, _, sim, _, dispatcher, add = tiktok
    post_id = add("Openbaar via Direct Post")
    [outcome] = dispatcher(audited=True, privacy_level="PUBLIC_TO_EVERYONE").run_due()
    assert outcome.status == "published"
    [sent] = sim.state()["posts"]
    assert sent["post_mode"] == "DIRECT_POST" and get_post(db, post_id).remote_id == sent["post_id"]


def test_interrupted_private_direct_post_is_handed_to_a_person(tiktok) -> None:  # type: ignore[no-untyped-def]
    """A private post cannot be found after a dropped init: a person is told, nothing is sent again."""
    db, clock, sim, sandbox, dispatcher, add = tiktok
    post_id = add("Privé en onderbroken")
    sandbox.add_fault(platform="tiktok", mode="reset_after", path="/content/init/")
    assert dispatcher(audited=True).run_due()[0].status == "retrying"
    clock.advance(minutes=5)
    [outcome] = dispatcher(audited=True).run_due()
    assert outcome.status == "manual_due" and "does not list private posts" in outcome.detail
    assert get_post(db, post_id).status == PostStatus.MANUAL_DUE
    assert len(sim.state()["posts"]) == 1
