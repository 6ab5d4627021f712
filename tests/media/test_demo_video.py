"""The example campaign's meeting video: the committed file is small, clean and what the module makes
(cards over silence, vertical, a YouTube Short), and its captions fit it."""

from __future__ import annotations

from pathlib import Path

from outreach.connectors.youtube import YouTubeConnector
from outreach.media import assert_clean, probe, problems
from outreach.media.captions import read_captions
from outreach.media.demo_video import SECONDS_EACH, SIZE, demo_cards, write_demo_video

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "campaigns" / "video" / "voorjaar-2027.mp4"


def _shape(path: Path) -> tuple:
    info = probe(path)
    return (info.width, info.height, round(info.duration_s), info.video_codec, info.audio_codec)


def test_committed_video_is_small_clean_and_made_by_the_module(tmp_path: Path) -> None:
    assert COMMITTED.stat().st_size < 100_000  # lives in git: keep it tiny
    assert_clean(COMMITTED)
    made = write_demo_video(tmp_path / "again.mp4")
    assert _shape(made) == _shape(COMMITTED) == (*SIZE, round(SECONDS_EACH * len(demo_cards())), "h264", "aac")
    info = probe(COMMITTED)
    assert [p.message for p in problems(info, YouTubeConnector.video)] == []
    assert info.width < info.height and info.duration_s <= YouTubeConnector.shorts_max_duration_s  # a Short
    for language in ("nl", "en"):
        cues = read_captions(COMMITTED.with_suffix(f".{language}.srt"), duration_s=info.duration_s)
        assert len(cues) == len(demo_cards())
