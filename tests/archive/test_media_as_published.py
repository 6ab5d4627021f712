"""The archive holds the media as published (issue 16): a card post, a photo post and a video post go
through the real dispatcher to the Mastodon simulation; the export copies exactly the bytes the
simulation received into media/ by content hash, links them from posts.json, and the bag validates;
a changed media file is caught by `verify`, a file gone from disk is listed as missing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import bagit
import pytest
from PIL import Image

from outreach.archive import export_archive, verify_archive
from outreach.config import parse_settings
from outreach.db import Database
from outreach.db.migrate import upgrade
from outreach.db.models import Post
from outreach.domain import PostStatus
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.publishing import ConnectorCache, Dispatcher
from outreach.sandbox import build_sandbox, serve
from outreach.sandbox.mastodon import MastodonSim
from tests.clock import FakeClock
from tests.publishing.drain import drain

PHONE_MARK = b"PhoneMaker-7Q"  # the photo's EXIF camera make: must reach neither platform nor archive
TEXTS = {"card": "Kom naar de bijeenkomst in Rotterdam", "photo": "Foto van de zaal", "video": "Terugblik in beeld"}


@dataclass
class Published:
    root: Path
    db: Database
    settings: Any
    received: list[bytes]  # what the simulation was sent, file by file
    post_ids: dict[str, int]


def _photo(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x010F] = PHONE_MARK.decode()  # Make
    Image.new("RGB", (640, 480), (40, 120, 90)).save(path, exif=exif.tobytes())
    assert PHONE_MARK in path.read_bytes()
    return path


def _publish(root: Path, monkeypatch: pytest.MonkeyPatch, db: Database) -> Published:
    clock = FakeClock()
    sandbox = build_sandbox(clock=clock)
    server = serve(sandbox)
    try:
        account = MastodonSim.demo_account(server.url)
        table = {"platform": account.platform, "base_url": account.base_url, **account.options}
        for key, value in account.secrets.items():
            monkeypatch.setenv(f"ARCHMEDIA_{key.upper()}", value)
            table[f"{key}_env"] = f"ARCHMEDIA_{key.upper()}"
        settings = parse_settings({"channels": {account.channel: table}, "state_dir": str(root / "state"),
                                   "media": {"directory": str(root / "media")},
                                   "archive": {"capture": False}}, source="test")
        connectors = ConnectorCache(settings, clock=clock)
        connector = connectors(account.channel)
        connector.poll_interval_s = connector.video_poll_interval_s = 0
        clip = write_clip(root / "phone.mov", container="mov", tags=PHONE_TAGS, seconds=0.5)
        media = {"card": [{"card": "announce", "alt_text": "Kaart"}],
                 "photo": [{"path": str(_photo(root / "zaal.jpg")), "alt_text": "De zaal, leeg"}],
                 "video": [{"video": str(clip), "alt_text": "Kaarten, geen mensen"}]}
        with db.write() as s:
            rows = {kind: Post(source_key=f"archmedia/{kind}", rule_key=kind, channel=account.channel,
                               platform="mastodon", language="nl", text=TEXTS[kind], media=media[kind],
                               content_hash=hashlib.sha256(kind.encode()).hexdigest(), due_at=clock.now,
                               status=PostStatus.APPROVED.value, idempotency_key=str(uuid.uuid4()))
                    for kind in TEXTS}
            s.add_all(rows.values())
            s.flush()
            ids = {kind: row.id for kind, row in rows.items()}
        clock.advance(seconds=10)
        dispatcher = Dispatcher(db, settings, worker_id="archmedia", clock=clock, connectors=connectors)
        assert drain(dispatcher, db, clock) == []
        received = [m.data for m in sandbox.sims["mastodon"].media.values()]
        return Published(root, db, settings, received, ids)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    root = tmp_path_factory.mktemp("archmedia")
    db = Database(f"sqlite:///{root / 'outreach.db'}")
    try:
        upgrade(db)
        with pytest.MonkeyPatch.context() as mp:
            yield _publish(root, mp, db)
    finally:
        db.dispose()


def _export(p: Published, name: str) -> tuple[Path, Any, dict[int, dict[str, Any]]]:
    bag = p.root / name
    with p.db.session() as s:
        times = [t for (t,) in s.query(Post.published_at)]
    report = export_archive(p.db, p.settings, bag, start=min(times) - timedelta(days=1),
                            end=max(times) + timedelta(days=1), report=False, warc_dir=p.root / "no-warc")
    posts = json.loads((bag / "data" / "posts.json").read_text(encoding="utf-8"))
    return bag, report, {v["post_id"]: v for group in posts for v in group["variants"]}


def test_publishing_records_the_uploaded_files(published: Published) -> None:
    _check_recorded(published)


def test_publishing_records_the_uploaded_files_on_postgresql(pg_db: Database, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _check_recorded(_publish(tmp_path, monkeypatch, pg_db))


def _check_recorded(published: Published) -> None:
    with published.db.session() as s:
        uploaded = {p.id: p.published_media for p in s.query(Post)}
    received = {hashlib.sha256(data).hexdigest(): len(data) for data in published.received}
    for kind, post_id in published.post_ids.items():
        files = [f for f in uploaded[post_id] if f["role"] == "media"]
        assert len(files) == 1, kind
        assert received[files[0]["sha256"]] == files[0]["bytes"], kind  # exactly what the platform got
    video = uploaded[published.post_ids["video"]][0]
    assert video["mime_type"] == "video/mp4" and video["file"].endswith(".mp4")


def test_export_holds_exactly_the_bytes_the_platform_received(published: Published) -> None:
    bag, report, variants = _export(published, "bag")
    assert report.counts["media_files"] == len(published.received) == 3
    archived = set()
    for kind, post_id in published.post_ids.items():
        entry = variants[post_id]["media"][0]
        assert entry["archived_as"] == f"media/{entry['uploaded'][0]['sha256']}{Path(entry['file']).suffix}", kind
        archived.add((bag / "data" / entry["archived_as"]).read_bytes())
    assert archived == set(published.received)
    assert all(PHONE_MARK not in data and b"iPhone" not in data for data in archived)  # never an original
    manifest = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert all(f"data/{variants[i]['media'][0]['archived_as']}" in manifest for i in published.post_ids.values())
    bagit.Bag(str(bag)).validate()
    assert verify_archive(bag).ok


def test_verify_detects_a_changed_media_file(published: Published) -> None:
    bag, _, variants = _export(published, "bag-changed")
    target = bag / "data" / variants[published.post_ids["photo"]]["media"][0]["archived_as"]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    report = verify_archive(bag)
    assert not report.ok
    assert any(target.name in line for line in report.lines())


def test_a_file_gone_from_disk_is_listed_as_missing(published: Published) -> None:
    with published.db.session() as s:
        photo = s.get(Post, published.post_ids["photo"])
        assert photo is not None and photo.published_media
        source = Path(photo.published_media[0]["path"])
    kept = source.read_bytes()
    source.unlink()
    try:
        bag, report, variants = _export(published, "bag-missing")
    finally:
        source.write_bytes(kept)
    entry = variants[published.post_ids["photo"]]["media"][0]
    assert entry["archived_as"] is None and entry["uploaded"][0]["missing"] == "is no longer on disk"
    assert report.counts["media_missing"] == 1 and report.counts["media_files"] == 2
    assert any(source.name in w and "not archived" in w for w in report.warnings)
    bagit.Bag(str(bag)).validate()
