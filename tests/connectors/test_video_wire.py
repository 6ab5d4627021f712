"""The video simulations speak the platforms' wire formats (video.md §10), checked with plain HTTP and
no connector: Mastodon's 202/206/422, Bluesky's service tokens and video service answers, LinkedIn's
parts, ETags and finalize rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from outreach.media.synthetic import write_clip
from outreach.sandbox.bluesky import DEMO_IDENTIFIER, DEMO_PASSWORD, BlueskySim
from outreach.sandbox.linkedin import DEMO_ORGANIZATION, LinkedInSim
from outreach.sandbox.linkedin import DEMO_TOKEN as LINKEDIN_TOKEN
from outreach.sandbox.mastodon import DEMO_TOKEN as MASTODON_TOKEN
from outreach.sandbox.mastodon import MastodonSim
from tests.clock import FakeClock

START = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)


def test_mastodon_video_is_processed_asynchronously(serve_sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = serve_sandbox(MastodonSim(clock=FakeClock(START)))
    api, auth = f"{url}/mastodon/api", {"Authorization": f"Bearer {MASTODON_TOKEN}"}
    clip = write_clip(tmp_path / "c.mp4", seconds=0.5).read_bytes()
    upload = requests.post(f"{api}/v2/media", headers=auth, files={"file": ("c.mp4", clip, "video/mp4")}, timeout=5)
    assert upload.status_code == 202 and upload.json()["url"] is None and upload.json()["type"] == "video"
    media_id = upload.json()["id"]
    early = requests.post(f"{api}/v1/statuses", headers=auth, data={"status": "x", "media_ids[]": media_id}, timeout=5)
    assert early.status_code == 422 and "not finished processing" in early.json()["error"]
    polls = [requests.get(f"{api}/v1/media/{media_id}", headers=auth, timeout=5) for _ in range(3)]
    assert [p.status_code for p in polls] == [206, 206, 200] and polls[1].json()["url"] is None
    assert polls[2].json()["url"] and polls[2].json()["meta"]["original"]["frame_rate"] == "30/1"
    posted = requests.post(f"{api}/v1/statuses", headers=auth, data={"status": "x", "media_ids[]": media_id},
                           timeout=5)
    assert posted.status_code == 200
    assert requests.get(f"{api}/v1/media/{media_id}", headers=auth, timeout=5).status_code == 404  # attached
    sound = requests.post(f"{api}/v2/media", headers=auth, files={"file": ("a.mp4", b"\0" * 100, "video/mp4")},
                          timeout=5)
    assert (sound.status_code, sound.json()) == (422, {"error": "Video has no video stream"})


def test_bluesky_service_auth_and_video_service(serve_sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    sandbox, url = serve_sandbox(BlueskySim(clock=clock))
    xrpc, video = f"{url}/bluesky/xrpc", f"{url}/bluesky/video/xrpc"
    session = requests.post(f"{xrpc}/com.atproto.server.createSession", timeout=5,
                            json={"identifier": DEMO_IDENTIFIER, "password": DEMO_PASSWORD}).json()
    auth = {"Authorization": f"Bearer {session['accessJwt']}"}
    now = int(START.timestamp())

    def service_auth(**params: object) -> requests.Response:
        return requests.get(f"{xrpc}/com.atproto.server.getServiceAuth", headers=auth, params=params, timeout=5)

    host = url.removeprefix("http://").replace(":", "%3A")
    assert service_auth(aud=f"did:web:{host}", lxm="com.atproto.repo.uploadBlob", exp=now + 3601).json() == {
        "error": "BadExpiration", "message": "cannot request a token with an expiration more than an hour in the future"}
    assert service_auth(aud=f"did:web:{host}", exp=now - 1).json()["message"] == "expiration is in past"
    assert service_auth(aud=f"did:web:{host}", exp=now + 120).json()["error"] == "BadExpiration"  # method-less
    wrong = service_auth(aud="did:web:bsky.social", lxm="com.atproto.repo.uploadBlob", exp=now + 1800).json()
    token = service_auth(aud=f"did:web:{host}", lxm="com.atproto.repo.uploadBlob", exp=now + 1800).json()["token"]
    clip = write_clip(tmp_path / "c.mp4", seconds=0.5).read_bytes()

    def upload(bearer: str) -> requests.Response:
        return requests.post(f"{video}/app.bsky.video.uploadVideo", data=clip, timeout=5,
                             params={"did": session["did"], "name": "c.mp4"},
                             headers={"Authorization": f"Bearer {bearer}", "Content-Type": "video/mp4"})

    assert upload(wrong["token"]).status_code == 401  # aud must be the account's own PDS
    first = upload(token)
    assert first.status_code == 200 and set(first.json()) == {"did", "jobId", "state"}  # unwrapped
    again = upload(token)
    assert again.status_code == 409 and again.json()["error"] == "already_exists"
    assert again.json()["jobId"] == first.json()["jobId"]
    states = [requests.get(f"{video}/app.bsky.video.getJobStatus", params={"jobId": first.json()["jobId"]},
                           timeout=5).json()["jobStatus"] for _ in range(4)]
    assert [s["state"] for s in states] == ["JOB_STATE_ENCODING", "JOB_STATE_SCANNING", "JOB_STATE_UPLOADING",
                                           "JOB_STATE_COMPLETED"]
    assert [s["progress"] for s in states] == sorted(s["progress"] for s in states)
    assert states[-1]["blob"]["mimeType"] == "video/mp4" and states[-1]["blob"]["$type"] == "blob"
    limits_token = service_auth(aud="did:web:video.sandbox.test", lxm="app.bsky.video.getUploadLimits").json()
    limits = requests.get(f"{video}/app.bsky.video.getUploadLimits", timeout=5,
                          headers={"Authorization": f"Bearer {limits_token['token']}"}).json()
    assert limits["canUpload"] is True and limits["remainingDailyVideos"] == 24
    srt = requests.post(f"{xrpc}/com.atproto.repo.uploadBlob", data=b"1\n", timeout=5,
                        headers={**auth, "Content-Type": "application/x-subrip"}).json()["blob"]
    record = {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-11-06T14:00:00.000Z", "embed": {
        "$type": "app.bsky.embed.video", "video": states[-1]["blob"], "captions": [{"lang": "nl", "file": srt}]}}
    refused = requests.post(f"{xrpc}/com.atproto.repo.createRecord", headers=auth, timeout=5, json={
        "repo": session["did"], "collection": "app.bsky.feed.post", "record": record})
    assert (refused.status_code, refused.json()) == (400, {"error": "InvalidRequest", "message": (  # the real PDS's
        'Invalid app.bsky.feed.post record: Expected "text/vtt" (got "application/x-subrip") '
        "at $.record.embed.captions[0].file.mimeType")})


def test_linkedin_parts_etags_and_finalize(serve_sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = serve_sandbox(LinkedInSim(clock=FakeClock(START)))
    sandbox.sims["linkedin"].video.part_bytes = 80 * 1024
    rest = f"{url}/linkedin/rest"
    auth = {"Authorization": f"Bearer {LINKEDIN_TOKEN}", "LinkedIn-Version": "202610",
            "X-Restli-Protocol-Version": "2.0.0"}
    clip = write_clip(tmp_path / "c.mp4", width=128, height=224, seconds=3.2,
                      options={"preset": "ultrafast", "qp": "0"}).read_bytes()
    small = requests.post(f"{rest}/videos?action=initializeUpload", headers=auth, timeout=5, json={
        "initializeUploadRequest": {"owner": DEMO_ORGANIZATION, "fileSizeBytes": 1000}})
    assert small.status_code == 400  # under 75 KB
    value = requests.post(f"{rest}/videos?action=initializeUpload", headers=auth, timeout=5, json={
        "initializeUploadRequest": {"owner": DEMO_ORGANIZATION, "fileSizeBytes": len(clip), "uploadCaptions": True,
                                    "uploadThumbnail": False}}).json()["value"]
    parts = value["uploadInstructions"]
    assert len(parts) == 3 and parts[0]["firstByte"] == 0 and parts[-1]["lastByte"] == len(clip) - 1
    assert "captionsUploadUrl" in value and "thumbnailUploadUrl" not in value
    wrong_size = requests.put(parts[0]["uploadUrl"], headers=auth, data=clip[:10], timeout=5)
    assert wrong_size.status_code == 400
    etags = [requests.put(p["uploadUrl"], headers=auth, data=clip[p["firstByte"]:p["lastByte"] + 1],
                          timeout=5).headers["ETag"] for p in parts]

    def finalize(ids: list[str]) -> requests.Response:
        return requests.post(f"{rest}/videos?action=finalizeUpload", headers=auth, timeout=5, json={
            "finalizeUploadRequest": {"video": value["video"], "uploadToken": "", "uploadedPartIds": ids}})

    assert finalize(list(reversed(etags))).status_code == 400  # in instruction order only
    assert finalize(etags).status_code == 200
    assert finalize(etags).status_code == 400  # finalized once
    urn = value["video"].replace(":", "%3A")
    post = {"author": DEMO_ORGANIZATION, "commentary": "x", "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
            "distribution": {"feedDistribution": "MAIN_FEED"}, "content": {"media": {"id": value["video"]}}}
    assert requests.post(f"{rest}/posts", headers=auth, json=post, timeout=5).status_code == 422  # not AVAILABLE
    statuses = [requests.get(f"{rest}/videos/{urn}", headers=auth, timeout=5).json()["status"] for _ in range(3)]
    assert statuses == ["PROCESSING", "PROCESSING", "AVAILABLE"]
    assert requests.post(f"{rest}/posts", headers=auth, json=post, timeout=5).status_code == 201
