"""The video pipeline on tiny real clips made with PyAV: nothing that says where or with what a video
was filmed survives, and a platform gets a file it accepts."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from outreach.connectors import connector_classes, platform_class
from outreach.domain import VideoCapabilities
from outreach.media import VideoError, assert_clean, prepare_video, probe, problems, strip
from outreach.media.synthetic import PHONE_TAGS, write_clip
from outreach.media.video import H264_OPTIONS

# Bytes that would betray place or device: the GPS value itself, the atoms and keys that carry it.
SECRETS = (b"+52.3676", b"+004.9041", b"\xa9xyz", b"loci", b"ISO6709", b"iPhone", b"com.apple",
           b"com.android", b"2026-05-01")
# MOV with classic udta atoms (©xyz, ©mak, ©mod) and MP4/MOV with iPhone-style mdta keys.
INPUTS = [("mov", False), ("mov", True), ("mp4", False), ("mp4", True)]


def _phone_clip(tmp_path: Path, container: str, keys_atom: bool, **kw) -> Path:
    path = tmp_path / f"phone-{'keys' if keys_atom else 'udta'}.{container}"
    return write_clip(path, container=container, tags=PHONE_TAGS, keys_atom=keys_atom, **kw)


def _tags(path: Path) -> dict[str, str]:
    with av.open(str(path)) as c:
        tags = dict(c.metadata)
        for s in c.streams:
            tags.update({f"{s.type}:{k}": v for k, v in s.metadata.items()})
    return tags


@pytest.mark.parametrize(("container", "keys_atom"), INPUTS)
@pytest.mark.parametrize("platform", ["mastodon", "facebook"])  # strip only / strip + transcode
def test_no_gps_or_device_tag_survives(tmp_path, container, keys_atom, platform):
    src = _phone_clip(tmp_path, container, keys_atom, seconds=3.1 if platform == "facebook" else 1)
    before, tags = src.read_bytes(), _tags(src)
    # The MP4 muxer writes GPS as ©xyz (MOV), as a binary 3GPP `loci` box (MP4), or as mdta keys.
    where = {(False, "mov"): b"\xa9xyz", (False, "mp4"): b"loci"}.get((keys_atom, container), b"ISO6709")
    assert where in before
    assert "location" in tags or "com.apple.quicktime.location.ISO6709" in tags
    if (keys_atom, container) != (False, "mp4"):  # 3GPP MP4 has no make/model atoms
        assert b"iPhone" in before

    prepared = prepare_video(src, platform_class(platform).video, tmp_path / "cache", preset="ultrafast")

    assert prepared.transcoded is (platform == "facebook")
    after = prepared.path.read_bytes()
    assert [s for s in SECRETS if s in after] == []
    assert set(_tags(prepared.path)) <= {"major_brand", "minor_version", "compatible_brands",
                                         "video:language", "video:handler_name", "video:vendor_id",
                                         "audio:language", "audio:handler_name", "audio:vendor_id"}
    assert after.index(b"moov") < after.index(b"mdat")  # faststart
    assert problems(prepared.info, platform_class(platform).video) == []


def test_strip_copies_without_reencoding_and_keeps_rotation(tmp_path):
    src = _phone_clip(tmp_path, "mov", False, rotation=90)
    out = tmp_path / "clean.mp4"
    strip(src, out)
    with av.open(str(src)) as a, av.open(str(out)) as b:
        packets_in = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        packets_out = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
    assert packets_in == packets_out
    info = probe(out)
    assert (info.rotation, info.width, info.height) == (90, 112, 64)


def test_transcode_makes_what_the_platform_needs(tmp_path):
    src = write_clip(tmp_path / "old.mp4", codec="mpeg4", width=160, height=90, seconds=3.1, fps=25,
                     options={})
    assert probe(src).video_codec == "mpeg4"
    vertical = prepare_video(src, platform_class("facebook").video, tmp_path / "c", preset="ultrafast")
    landscape = prepare_video(src, platform_class("youtube").video, tmp_path / "c", preset="ultrafast")
    assert (vertical.info.width, vertical.info.height, vertical.info.fps) == (1080, 1920, 30)
    assert (landscape.info.width, landscape.info.height) == (1920, 1080)
    assert (landscape.info.video_codec, landscape.info.audio_codec) == ("h264", "aac")


def test_rotated_phone_video_is_turned_upright_when_transcoded(tmp_path):
    # Stored 64 wide x 112 high, shown turned by 90 degrees: a landscape picture.
    src = write_clip(tmp_path / "turned.mov", container="mov", width=64, height=112, rotation=90,
                     seconds=1, codec="mpeg4", options={})
    prepared = prepare_video(src, platform_class("youtube").video, tmp_path / "c", preset="ultrafast")
    assert (prepared.info.width, prepared.info.height, prepared.info.rotation) == (1920, 1080, 0)


def test_cache_by_content_hash(tmp_path):
    a = write_clip(tmp_path / "a.mp4", seconds=1)
    copy = tmp_path / "same-bytes-other-name.mp4"
    copy.write_bytes(a.read_bytes())
    first = prepare_video(a, platform_class("mastodon").video, tmp_path / "c")
    again = prepare_video(copy, platform_class("bluesky").video, tmp_path / "c")  # strip is the same for both
    assert (first.cached, again.cached, again.path) == (False, True, first.path)
    other = prepare_video(write_clip(tmp_path / "b.mp4", seconds=2), platform_class("mastodon").video, tmp_path / "c")
    assert other.path != first.path and not other.cached
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted({first.path.name, other.path.name})


def test_too_long_for_the_platform_is_a_clear_error(tmp_path):
    src = write_clip(tmp_path / "long.mp4", seconds=2)
    with pytest.raises(VideoError, match=r"long\.mp4: duration is 2\.0 s long, the minimum is 3 s"):
        prepare_video(src, platform_class("facebook").video, tmp_path / "c")
    assert not (tmp_path / "c").exists() or list((tmp_path / "c").iterdir()) == []


def test_not_a_video_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoError) as caught:
        probe(bad)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_assert_clean_refuses_a_file_with_tags(tmp_path):
    with pytest.raises(VideoError, match="survived"):
        assert_clean(_phone_clip(tmp_path, "mp4", True))


def test_rotation_turns_the_picture_the_way_a_player_shows_it(tmp_path):
    # Stored 64x112 with its top half white, shown turned 90 degrees counter-clockwise (PyAV's and
    # FFmpeg's display-matrix convention): a player shows the white half on the left.
    src = tmp_path / "turned.mp4"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 112, "yuv420p"
        stream.set_display_rotation(90)
        for i in range(3):
            frame = av.VideoFrame(64, 112, "gray")
            plane = frame.planes[0]
            plane.update((b"\xff" * plane.line_size) * 56 + (b"\x00" * plane.line_size) * 56)
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    prepared = prepare_video(src, platform_class("youtube").video, tmp_path / "c", preset="ultrafast")
    with av.open(str(prepared.path)) as c:
        gray = next(c.decode(video=0)).reformat(format="gray")
    row = bytes(gray.planes[0])[540 * gray.planes[0].line_size:][:1920]
    assert row[400] > 200 and row[1500] < 50


def test_timed_gps_track_is_dropped(tmp_path):
    # Cameras write per-frame GPS in a data track (GoPro gpmd, drones); only video and audio are kept.
    src = tmp_path / "camera.mp4"
    with av.open(str(src), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=30)
        video.width, video.height, video.pix_fmt = 64, 112, "yuv420p"
        track = out.add_data_stream("bin_data")
        for i in range(3):
            frame = av.VideoFrame(64, 112, "yuv420p")
            frame.pts = i
            out.mux(video.encode(frame))
            packet = av.Packet(b"GPS +52.3676+004.9041 " * 4)
            packet.stream, packet.pts, packet.dts, packet.time_base = track, i, i, video.time_base
            out.mux(packet)
        out.mux(video.encode(None))
    with av.open(str(src)) as c:
        assert [s.type for s in c.streams] == ["video", "data"]
    assert src.read_bytes().count(b"+52.3676") == 12
    clean = tmp_path / "clean.mp4"
    strip(src, clean)
    with av.open(str(clean)) as c:
        assert [s.type for s in c.streams] == ["video"]
    assert b"+52.3676" not in clean.read_bytes()


def test_slideshow_of_cards_is_a_video_every_platform_takes(tmp_path):
    from datetime import UTC, datetime

    from outreach.cards import CardSpec, render_card
    from outreach.media.slideshow import slideshow

    cards = [render_card(CardSpec(template=t, language="nl", title="Samen in gesprek", organisation="IOT",
                                  when=datetime(2027, 3, 12, 18, tzinfo=UTC), venue="Wijkcentrum",
                                  city="Rotterdam"), size="story").data for t in ("announce", "reminder")]
    video = slideshow(cards, tmp_path / "meeting.mp4", seconds_each=1.6, preset="ultrafast")
    info = probe(video)
    assert (info.width, info.height, info.fps, info.video_codec, info.audio_codec) == \
        (1080, 1920, 30, "h264", "aac")
    assert 3.1 < info.duration_s < 3.4
    assert {cls.platform: problems(info, cls.video) for cls in connector_classes()} == \
        {cls.platform: [] for cls in connector_classes()}


@pytest.mark.parametrize(("language", "text"), [("nl", "Welkom bij de bijeenkomst"), ("ar", "مرحبا بكم في اللقاء")])
def test_burned_in_captions_show_only_while_their_cue_runs(tmp_path, language, text):
    from PIL import ImageChops

    from outreach.media.captions import Cue

    src = write_clip(tmp_path / "clip.mp4", seconds=1)
    burned = prepare_video(src, platform_class("threads").video, tmp_path / "b", preset="ultrafast",
                           burn=[Cue(0.0, 0.5, text)], language=language)
    unburned = prepare_video(src, VideoCapabilities(max_bytes=10**9, landscape=False),
                             tmp_path / "c", preset="ultrafast", burn=[Cue(5.0, 6.0, "later")], language="nl")
    assert burned.transcoded and unburned.transcoded and burned.path != unburned.path

    def frame(path, index):
        with av.open(str(path)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i == index:
                    return f.to_image().resize((1080, 1920)).crop((0, 1200, 1080, 1500)).convert("L")

    def differs(index):
        diff = ImageChops.difference(frame(burned.path, index), frame(unburned.path, index))
        return sum(diff.histogram()[61:])

    assert differs(5) > 2000  # at 0.17 s the caption is there
    assert differs(25) < 200  # at 0.83 s it is gone


def test_a_transcode_made_with_other_encoder_settings_is_not_reused(tmp_path, monkeypatch):
    """The encoder's settings are part of the cache key: new settings (fewer look-ahead frames, say)
    make a new transcode instead of publishing the old one."""
    src = write_clip(tmp_path / "old.mov", container="mov", width=64, height=112, rotation=90, seconds=1,
                     codec="mpeg4", options={})
    youtube = platform_class("youtube").video
    first = prepare_video(src, youtube, tmp_path / "c", preset="ultrafast")
    assert prepare_video(src, youtube, tmp_path / "c", preset="ultrafast").cached
    monkeypatch.setitem(H264_OPTIONS, "crf", "30")
    changed = prepare_video(src, youtube, tmp_path / "c", preset="ultrafast")
    assert not changed.cached and changed.path != first.path
    monkeypatch.setitem(H264_OPTIONS, "threads", "1")  # the machine's thread count does not count
    assert prepare_video(src, youtube, tmp_path / "c", preset="ultrafast").cached
