"""Bluesky connector against a real AT Protocol PDS (@atproto/pds 0.4.217) started locally.

What the sandbox cannot prove: that the real server accepts our records, facets, blobs and
record keys, rotates our sessions, and answers `getRecord` after a timeout the way we expect.
Skips where Node.js or peers/bluesky/node_modules is missing (see pds_fixture.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from outreach.config import ChannelConfig
from outreach.connectors.base import MemoryCredentialStore, utcnow
from outreach.connectors.bluesky import BlueskyConnector
from outreach.connectors.errors import ContentRejected, TransientError
from outreach.domain import MediaItem, Platform, PublishRequest
from tests.connectors.pds_fixture import LocalPds, bluesky_pds  # noqa: F401 - the fixture

PASSWORD_ENV = "OUTREACH_TEST_PDS_PASSWORD"
LINK = "https://example.org/aanmelden"
TEXT = f"🏳️‍🌈 لقاء مجتمعي — Eşitlik üzerine konuşalım: {LINK} #VanBinnenuit"
ALT = "Twee vrouwen lachen in een buurthuis in Utrecht"


class StallingProxy(ThreadingHTTPServer):
    """Forwards to the PDS; answers createRecord only after the client has given up waiting."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        self.target = target
        self.released = threading.Event()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        threading.Thread(target=self.serve_forever, name="pds-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: StallingProxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(self.command, self.server.target + self.path, data=body,
                                    headers=headers, timeout=30)
        if "createRecord" in self.path:
            self.server.released.wait(10)  # the PDS has acted; the answer comes too late
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_POST = _forward


@pytest.fixture
def connect(bluesky_pds: LocalPds, monkeypatch) -> Iterator[Any]:  # noqa: F811
    monkeypatch.setenv(PASSWORD_ENV, bluesky_pds.app_password)
    store = MemoryCredentialStore()
    proxies: list[StallingProxy] = []

    def make(*, via_stalling_proxy: bool = False, timeout_s: float = 30.0, **options: Any) -> BlueskyConnector:
        base = bluesky_pds.url
        if via_stalling_proxy:
            proxies.append(StallingProxy(bluesky_pds.url))
            base = proxies[-1].url
        channel = ChannelConfig(name="local-pds", platform=Platform("bluesky"), base_url=base,
                                options={"identifier": bluesky_pds.handle, **options},
                                secret_envs={"password": PASSWORD_ENV})
        return BlueskyConnector(channel, credentials=store, timeout_s=timeout_s)

    make.store = store  # type: ignore[attr-defined]
    yield make
    for proxy in proxies:
        proxy.released.set()
        proxy.shutdown()
        proxy.server_close()


@pytest.fixture
def picture(tmp_path: Path) -> MediaItem:
    path = tmp_path / "meeting.png"
    Image.new("RGB", (160, 90), (40, 120, 200)).save(path, "PNG")
    return MediaItem(path=str(path), alt_text=ALT, mime_type="image/png")


def request(text: str = TEXT, *, media: tuple[MediaItem, ...] = (), handle: dict[str, Any] | None = None,
            post_id: int = 1) -> PublishRequest:
    return PublishRequest(post_id=post_id, text=text, language="tr", idempotency_key=f"post-{post_id}-tr",
                          media=media, handle=handle or {}, attempt_started_at=utcnow())


def get_record(pds: LocalPds, rkey: str) -> dict[str, Any]:
    response = requests.get(pds.xrpc("com.atproto.repo.getRecord"), timeout=10,
                            params={"repo": pds.did, "collection": "app.bsky.feed.post", "rkey": rkey})
    response.raise_for_status()
    return response.json()


def post_count(pds: LocalPds) -> int:
    response = requests.get(pds.xrpc("com.atproto.repo.listRecords"), timeout=10,
                            params={"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100})
    response.raise_for_status()
    return len(response.json()["records"])


def test_session_is_created_once_and_refreshed(connect, bluesky_pds: LocalPds) -> None:  # noqa: F811
    connector = connect()
    info = connector.check()
    assert (info.account_id, info.name) == (bluesky_pds.did, f"@{bluesky_pds.handle}")
    first = connect.store.load("local-pds")
    assert first["did"] == bluesky_pds.did and first["access_jwt"] and first["refresh_jwt"]
    expires = connector.refresh_credentials()
    rotated = connect.store.load("local-pds")
    # Refresh tokens rotate (the access token may repeat within the same second: same claims).
    assert rotated["refresh_jwt"] != first["refresh_jwt"], "the refresh token did not rotate"
    assert expires is not None and expires > utcnow() + timedelta(days=30)
    assert connect().check().account_id == bluesky_pds.did  # the next job uses the rotated session


def test_post_with_image_facets_alt_and_langs(connect, bluesky_pds: LocalPds, picture: MediaItem) -> None:  # noqa: F811
    saved: list[dict[str, Any]] = []
    result = connect().publish(request(media=(picture,)), save_handle=saved.append)
    [handle] = saved
    assert result.remote_id == f"at://{bluesky_pds.did}/app.bsky.feed.post/{handle['rkey']}"
    assert result.url == f"https://bsky.app/profile/{bluesky_pds.handle}/post/{handle['rkey']}"
    value = get_record(bluesky_pds, handle["rkey"])["value"]
    raw = value["text"].encode("utf-8")
    assert value["text"] == TEXT and value["langs"] == ["tr"]
    assert [(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"][0]["$type"])
            for f in value["facets"]] == [(LINK, "app.bsky.richtext.facet#link"),
                                          ("#VanBinnenuit", "app.bsky.richtext.facet#tag")]
    [image] = value["embed"]["images"]
    assert image["alt"] == ALT and image["aspectRatio"] == {"width": 160, "height": 90}
    assert image["image"]["ref"]["$link"] == handle["blobs"][0]["cid"]
    blob = requests.get(bluesky_pds.xrpc("com.atproto.sync.getBlob"), timeout=10,
                        params={"did": bluesky_pds.did, "cid": handle["blobs"][0]["cid"]})
    assert blob.content == Path(picture.path).read_bytes()


def test_timeout_on_create_then_reconcile_by_rkey(connect, bluesky_pds: LocalPds) -> None:  # noqa: F811
    before = post_count(bluesky_pds)
    saved: list[dict[str, Any]] = []
    req = request("Timeout test: staat deze post er toch? #reconcile", post_id=2)
    with pytest.raises(TransientError) as failure:
        connect(via_stalling_proxy=True, timeout_s=1.0).publish(req, save_handle=saved.append)
    assert failure.value.ambiguous
    [handle] = saved
    retry = request(req.text, handle=handle, post_id=2)
    found = connect().reconcile(retry)
    assert found is not None and found.remote_id.endswith(f"/app.bsky.feed.post/{handle['rkey']}")
    again = connect().publish(retry, save_handle=saved.append)
    assert again.remote_id == found.remote_id
    assert post_count(bluesky_pds) == before + 1  # exactly once


def test_the_server_refuses_what_the_sandbox_refuses(connect, tmp_path: Path) -> None:
    with pytest.raises(ContentRejected, match="grapheme too big"):
        connect().publish(request("é" * 301, post_id=3), save_handle=lambda h: None)
    noise = tmp_path / "noise.png"
    Image.effect_noise((800, 800), 90).convert("RGB").save(noise, "PNG")
    big = MediaItem(path=str(noise), alt_text="", mime_type="image/png")
    assert noise.stat().st_size > 1_000_000
    with pytest.raises(ContentRejected, match=r"blob too big \(maximum 1000000"):
        connect(max_image_bytes=5_000_000).publish(request("groot", media=(big,), post_id=4),
                                                    save_handle=lambda h: None)


def test_metrics_need_an_appview(connect) -> None:
    """A bare PDS proxies app.bsky.* to an appview; without one it says so (400, not a crash)."""
    with pytest.raises(ContentRejected, match="No service configured for app.bsky.feed.getPosts"):
        connect().fetch_metrics(["at://did:plc:x/app.bsky.feed.post/3lprdud4gi72i"])


def test_check_login_tries_the_password_in_the_environment(connect, bluesky_pds: LocalPds,  # noqa: F811
                                                           monkeypatch) -> None:
    """`channels check` on the real PDS: a stored session does not hide a wrong app password."""
    from outreach.connectors.errors import AuthError

    assert connect().check_login().account_id == bluesky_pds.did
    monkeypatch.setenv(PASSWORD_ENV, "wron-gapp-pass-word")
    with pytest.raises(AuthError, match="local-pds") as caught:
        connect().check_login()
    assert "wron-gapp-pass-word" not in str(caught.value)
    assert connect().check().account_id == bluesky_pds.did  # the stored session alone still answers


def test_real_pds_issues_the_video_service_token_as_the_sandbox_does(connect, bluesky_pds: LocalPds) -> None:  # noqa: F811
    """The upload token the video flow asks for (aud = the PDS's own did:web, lxm = uploadBlob, 30 min),
    and the PDS's BadExpiration answers, which the sandbox's getServiceAuth copies word for word."""
    import base64
    import json

    from outreach.connectors.bluesky_video import UPLOAD_BLOB, VideoUpload

    connector = connect()
    upload = VideoUpload(connector)
    token = upload._token(upload._pds_did(), UPLOAD_BLOB)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert (claims["iss"], claims["aud"], claims["lxm"]) == (bluesky_pds.did, upload._pds_did(), UPLOAD_BLOB)
    assert upload._pds_did() == "did:web:" + bluesky_pds.url.removeprefix("http://").replace(":", "%3A")
    auth = {"Authorization": f"Bearer {connect.store.load('local-pds')['access_jwt']}"}
    now = int(utcnow().timestamp())

    def refused(**params: Any) -> dict[str, Any]:
        response = requests.get(bluesky_pds.xrpc("com.atproto.server.getServiceAuth"), headers=auth,
                                params={"aud": upload._pds_did(), **params}, timeout=10)
        assert response.status_code == 400, response.text
        return response.json()

    assert refused(lxm=UPLOAD_BLOB, exp=now + 3700) == {
        "error": "BadExpiration", "message": "cannot request a token with an expiration more than an hour in the future"}
    assert refused(lxm=UPLOAD_BLOB, exp=now - 10) == {"error": "BadExpiration", "message": "expiration is in past"}
    assert refused(exp=now + 600) == {"error": "BadExpiration", "message": (  # a token without a method
        "cannot request a method-less token with an expiration more than a minute in the future")}


def test_real_pds_takes_the_video_embed_the_connector_writes(connect, bluesky_pds: LocalPds, tmp_path: Path) -> None:  # noqa: F811
    """A bare PDS has no video service, so the blob goes straight to it (video.md §2.3); the record is the
    connector's own `app.bsky.embed.video` (alt, aspect ratio, a WebVTT caption), and the PDS's lexicon
    check refuses a caption that is not text/vtt, as the sandbox does."""
    from outreach.connectors.bluesky import new_tid
    from outreach.media.synthetic import write_clip

    connector = connect()
    session = connector._session()
    auth = {"Authorization": f"Bearer {session['access_jwt']}"}

    def blob(data: bytes, mime: str) -> dict[str, Any]:
        response = requests.post(bluesky_pds.xrpc("com.atproto.repo.uploadBlob"), data=data, timeout=10,
                                 headers={**auth, "Content-Type": mime})
        response.raise_for_status()
        return response.json()["blob"]

    video = blob(write_clip(tmp_path / "c.mp4", seconds=0.5).read_bytes(), "video/mp4")
    vtt = blob(b"WEBVTT\n\n00:00.000 --> 00:00.400\nWelkom\n", "text/vtt")
    embed = {"$type": "app.bsky.embed.video", "video": video, "alt": ALT, "aspectRatio": {"width": 64, "height": 112},
             "captions": [{"lang": "nl", "file": vtt}]}

    def create(embed: dict[str, Any]) -> requests.Response:
        record = {"$type": "app.bsky.feed.post", "text": "Terugblik", "createdAt": "2026-11-06T14:00:00.000Z",
                  "langs": ["nl"], "embed": embed}
        return requests.post(bluesky_pds.xrpc("com.atproto.repo.createRecord"), headers=auth, timeout=10,
                             json={"repo": bluesky_pds.did, "collection": "app.bsky.feed.post", "rkey": new_tid(utcnow()),
                                   "record": record})

    assert create(embed).status_code == 200
    wrong = create({**embed, "captions": [{"lang": "nl", "file": blob(b"1\n00:00:00,000 --> 00:00:00,400\nx\n",
                                                                      "application/x-subrip")}]})
    assert (wrong.status_code, wrong.json()) == (400, {"error": "InvalidRequest", "message": (
        'Invalid app.bsky.feed.post record: Expected "text/vtt" (got "application/x-subrip") '
        "at $.record.embed.captions[0].file.mimeType")})
    mov = create({**embed, "video": blob(b"\0\0\0\x14ftypqt  ", "video/quicktime")})
    assert (mov.status_code, mov.json()) == (400, {"error": "InvalidRequest", "message": (
        'Invalid app.bsky.feed.post record: Expected "video/mp4" (got "video/quicktime") '
        "at $.record.embed.video.mimeType")})


def test_video_service_out_of_reach_sends_the_video_straight_to_the_real_pds(connect, bluesky_pds: LocalPds,  # noqa: F811
                                                                            tmp_path: Path) -> None:
    """video.md §2.3 end to end: the connector cannot reach the video service, so the video goes to the
    PDS by uploadBlob and the post carries it; over the PDS's blob cap it says so and posts nothing."""
    from outreach.media.synthetic import write_clip

    connector = connect(video_service_url="http://127.0.0.1:1")  # nothing listens there
    clip = write_clip(tmp_path / "c.mp4", seconds=0.5)
    vtt = tmp_path / "c.nl.vtt"
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:00.400\nWelkom\n", encoding="utf-8")
    video = MediaItem(path=str(clip), alt_text=ALT, mime_type="video/mp4", width=64, height=112, duration_s=0.5,
                      captions=(("nl", str(vtt)),))
    before = post_count(bluesky_pds)
    result = connector.publish(request(media=(video,), post_id=7), save_handle=lambda h: None)
    embed = get_record(bluesky_pds, result.raw["rkey"])["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["video"]["mimeType"] == "video/mp4"
    assert embed["video"]["size"] == clip.stat().st_size and embed["captions"][0]["lang"] == "nl"
    big = tmp_path / "big.mp4"
    big.write_bytes(clip.read_bytes() + bytes(7 * 1024 * 1024))  # over the local PDS's blob cap
    with pytest.raises(TransientError, match=r"too big to send straight to the PDS"):
        connector.publish(request(media=(MediaItem(path=str(big), mime_type="video/mp4"),), post_id=8),
                          save_handle=lambda h: None)
    assert post_count(bluesky_pds) == before + 1
