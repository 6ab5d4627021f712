"""A URL shown in an error or a log line keeps its host and path and loses its query string: an upload
URL's query can be a capability (YouTube's `upload_id`, TikTok's `upload_token`, LinkedIn's `sau`).
Checked where platform errors become our messages (`Connector.request`, over real HTTP, each platform's
own error envelope echoing an upload URL), on requests' own exception texts, on urllib3's debug lines
and on the worker's log output."""

from __future__ import annotations

import io
import logging

import pytest
import requests

from outreach.config import parse_settings
from outreach.connectors.errors import ConnectorError
from outreach.publishing import ConnectorCache
from outreach.redact import strip_url_queries
from outreach.sandbox import simulations

SECRET = "capSECRET42"
YOUTUBE = f"https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=xa298sd_{SECRET}"
TIKTOK = f"https://open-upload.tiktokapis.com/video/?upload_id=7&upload_token={SECRET}"
LINKEDIN = f"https://www.linkedin.com/dms-uploads/sp/v2/D5610AQ/uploadedVideo?sau={SECRET}"

# platform -> its error envelope, its message echoing an upload URL; the path the message must keep
CASES = {
    "youtube": ({"error": {"code": 503, "message": f"Backend Error at {YOUTUBE}",
                           "errors": [{"reason": "backendError", "message": "Backend Error"}]}}, "/upload/youtube/v3/videos?"),
    "tiktok": ({"data": {}, "error": {"code": "internal_error", "message": f"upload failed: {TIKTOK}", "log_id": "1"}},
               "open-upload.tiktokapis.com/video/?"),
    "linkedin": ({"status": 500, "code": "INTERNAL_SERVER_ERROR", "message": f"PUT {LINKEDIN} failed"},
                 "/uploadedVideo?"),
    "facebook": ({"error": {"message": f"rupload {YOUTUBE} failed", "type": "OAuthException", "code": 2,
                            "is_transient": True}}, "/upload/youtube/v3/videos?"),
    "mastodon": ({"error": f"upstream said: PUT /upload?upload_id={SECRET} failed"}, "PUT /upload?"),
}


@pytest.mark.parametrize("platform", list(CASES))
def test_a_platform_error_echoing_an_upload_url_loses_the_query(platform: str, serve_sandbox,
                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sim = next(cls for cls in simulations() if cls.prefix == platform)()
    sandbox, url = serve_sandbox(sim)
    account = sim.demo_account(url)
    table = {"platform": account.platform, "base_url": account.base_url, **account.options}
    for key, value in account.secrets.items():
        monkeypatch.setenv(f"URLS_{key.upper()}", value)
        table[f"{key}_env"] = f"URLS_{key.upper()}"
    connector = ConnectorCache(parse_settings({"channels": {account.channel: table}}, source="test"))(account.channel)
    body, kept = CASES[platform]
    sandbox.add_fault(platform=platform, mode="error", status=503, body=body, path="/echo")
    with pytest.raises(ConnectorError) as caught:
        connector.request("GET", "/echo")
    assert kept in caught.value.message  # the platform's words are shown ...
    assert SECRET not in caught.value.message and SECRET not in str(caught.value)  # ... without the capability


def test_requests_exception_texts_lose_the_query() -> None:
    with pytest.raises(requests.ConnectionError) as caught:
        requests.put(f"http://127.0.0.1:9/upload/youtube/v3/videos?upload_id={SECRET}", timeout=2)
    assert SECRET in str(caught.value)  # requests shows it ...
    shown = strip_url_queries(str(caught.value))
    assert SECRET not in shown and "url: /upload/youtube/v3/videos?***" in shown  # ... we do not


@pytest.mark.parametrize("text,expected", [
    (f"PUT {YOUTUBE} 503", "PUT https://www.googleapis.com/upload/youtube/v3/videos?*** 503"),
    (f'"PUT /tiktok/video/?upload_id=1&upload_token={SECRET} HTTP/1.1" 201 0', '"PUT /tiktok/video/?*** HTTP/1.1" 201 0'),
    (f"({LINKEDIN})", "(https://www.linkedin.com/dms-uploads/sp/v2/D5610AQ/uploadedVideo?***)"),
    ("no URL here? none, and a/b?", "no URL here? none, and a/b?"),
    ("HTTP 503 at /rest/posts", "HTTP 503 at /rest/posts"),
])
def test_strip_url_queries(text: str, expected: str) -> None:
    assert strip_url_queries(text) == expected


def test_urllib3_debug_lines_lose_the_query(serve_sandbox, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    import outreach.connectors.http  # noqa: F401  (installs the filter)

    _, url = serve_sandbox()
    caplog.set_level(logging.DEBUG)
    requests.get(f"{url}/nowhere/?upload_token={SECRET}", timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("/nowhere/?***" in line for line in lines), lines
    assert SECRET not in caplog.text


def test_the_workers_log_lines_and_tracebacks_lose_queries_and_secrets(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from outreach import cli

    monkeypatch.setenv("URLS_TOKEN", "tok-very-secret")
    settings = parse_settings({"channels": {"peer-mastodon": {"platform": "mastodon", "base_url": "http://x",
                                                              "token_env": "URLS_TOKEN"}}}, source="test")
    stream = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", stream)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        cli._setup_logging(settings, verbose=True)
        log = logging.getLogger("outreach.test")
        log.warning("session %s with tok-very-secret", f"/upload?upload_id={SECRET}")
        try:
            raise RuntimeError(f"failed: {TIKTOK}")
        except RuntimeError:
            log.exception("a bug")
    finally:
        root.handlers[:], root.level = handlers, level
    written = stream.getvalue()
    assert "session /upload?*** with ***" in written and "RuntimeError: failed: https://open-upload" in written
    assert SECRET not in written and "tok-very-secret" not in written
