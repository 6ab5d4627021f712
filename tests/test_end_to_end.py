"""The whole path once, in process, on every simulated platform: campaign file → review → publish →
WARC evidence → BagIt archive that verifies, with the publish responses inside and no secret."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from outreach.archive import export_archive, period_from_dates, verify_archive
from outreach.credentials import credential_secrets
from outreach.db.models import Post
from outreach.demo import demo_settings
from outreach.planning import plan_campaign, schedule_campaign, shift_to_now
from outreach.planning.review import PostSelector, approve
from outreach.publishing import Dispatcher
from outreach.sandbox import build_sandbox, serve

ROOT = Path(__file__).resolve().parent.parent


def test_campaign_to_verified_archive(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    (state / "media").mkdir(parents=True)
    server = serve(build_sandbox(media_dir=state / "media"))
    try:
        settings, _, environ = demo_settings(state, server.url)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        from outreach.db import Database
        from outreach.db.migrate import upgrade

        db = Database(settings.database_url)
        upgrade(db)
        now = datetime.now(UTC)
        path = ROOT / "campaigns" / "voorjaar-2027.yaml"
        plan = plan_campaign(path, settings)
        plan = plan_campaign(path, settings, shift=shift_to_now(plan, now, lead=timedelta(seconds=-1)))
        schedule_campaign(db, plan, now=now - timedelta(minutes=1))
        approve(db, PostSelector(campaign=plan.campaign.slug), reviewer="Reviewer (test)")
        dispatcher = Dispatcher(db, settings, worker_id="e2e")
        outcomes = dispatcher.run_due()
        dispatcher.close(wait=True)  # captures run in the background: wait for them
        assert outcomes and {o.status for o in outcomes} == {"published", "manual_due"}, [o.line() for o in outcomes]
        published = {o.channel for o in outcomes}
        assert {"peer-mastodon", "peer-bluesky", "peer-instagram", "peer-facebook", "peer-threads", "peer-linkedin",
                "peer-tiktok", "peer-youtube", "peer-whatsapp"} == published  # YouTube: the meeting video

        start, end = period_from_dates(date(2020, 1, 1), date(2035, 1, 1), timezone=settings.timezone)
        report = export_archive(db, settings, tmp_path / "bag", start=start, end=end, pdf=False)
        assert not report.warnings, report.warnings
        assert verify_archive(tmp_path / "bag").ok

        with db.session() as s:
            remote_ids = [p.remote_id for p in s.query(Post).filter(Post.status == "published")]
        warc_text = ""
        statuses = []
        for warc in (tmp_path / "bag" / "data" / "warc").glob("*.warc.gz"):
            with open(warc, "rb") as fh:
                for record in ArchiveIterator(fh):
                    if record.rec_type == "response":
                        statuses.append(record.http_headers.get_statuscode())
                        warc_text += str(record.http_headers)  # LinkedIn answers with x-restli-id only
                        warc_text += record.content_stream().read().decode("utf-8", "replace")
        missing = [rid for rid in remote_ids if rid.rsplit("/", 1)[-1].split(":")[-1] not in warc_text]
        assert not missing, f"publish responses not in the archive: {missing}"
        assert "<article>" in warc_text  # a permalink page was captured
        everything = b"".join(p.read_bytes() for p in (tmp_path / "bag").rglob("*") if p.is_file())
        everything += b"".join(gzip.decompress(p.read_bytes()) for p in (tmp_path / "bag").rglob("*.warc.gz"))
        for secret in environ.values():
            assert secret.encode() not in everything
        # Nor in the database: neither configured secrets nor the rotating session tokens in state_dir.
        db.dispose()
        database_bytes = b"".join(p.read_bytes() for p in state.glob("outreach.db*"))
        stored = [v for f in (state / "credentials").glob("*.json")
                  for v in credential_secrets(json.loads(f.read_text()))]
        assert stored  # the Bluesky session's JWTs
        for secret in [*environ.values(), *stored]:
            assert secret.encode() not in database_bytes
    finally:
        server.stop()
