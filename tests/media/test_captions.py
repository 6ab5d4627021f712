"""Caption files: SRT and WebVTT are read, checked with file:line errors, and converted both ways."""

from __future__ import annotations

import pytest

from outreach.media.captions import CaptionError, Cue, read_captions, to_srt, to_webvtt

SRT = "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\nHallo\r\nallemaal\r\n\r\n2\r\n01:00:00,000 --> 01:00:01,000\r\nEinde\r\n"


def test_srt_with_bom_and_crlf_reads_and_converts_to_webvtt_and_back(tmp_path):
    path = tmp_path / "a.srt"
    path.write_text(SRT, encoding="utf-8", newline="")
    cues = read_captions(path)
    assert cues == [Cue(1.0, 2.5, "Hallo\nallemaal"), Cue(3600.0, 3601.0, "Einde")]
    vtt = tmp_path / "a.vtt"
    vtt.write_text(to_webvtt(cues))
    assert vtt.read_text().startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHallo")
    assert read_captions(vtt) == cues
    back = tmp_path / "b.srt"
    back.write_text(to_srt(read_captions(vtt)))
    assert read_captions(back) == cues


@pytest.mark.parametrize(("name", "text", "message"), [
    ("a.vtt", "00:01.000 --> 00:02.000\nx\n", "a.vtt:1: a WebVTT file starts with the line WEBVTT"),
    ("a.vtt", "WEBVTT\n\n00:03.000 --> 00:02.000\nx\n", "a.vtt:3: caption 1 ends before it starts"),
    ("a.vtt", "WEBVTT\n\nid-1\n00:01.000 --> 00:02.000\n", "a.vtt:4: this caption has no text"),
    ("a.srt", "1\n00:00:05,000 --> 00:00:06,000\nb\n\n2\n00:00:01,000 --> 00:00:02,000\na\n",
     "a.srt:6: caption 2 starts before the one above it"),
    ("a.srt", "one\n00:00:05,000 --> 00:00:06,000\nb\n", "a.srt:1: expected a caption number, found 'one'"),
    ("a.srt", "", "a.srt:1: no captions in this file"),
])
def test_mistakes_name_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CaptionError) as caught:
        read_captions(path)
    assert str(caught.value) == f"{tmp_path}/{message}"


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "a.srt"
    path.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n")
    with pytest.raises(CaptionError, match=r"a\.srt:3: not UTF-8 text"):
        read_captions(path)


def test_caption_text_keeps_a_format_the_platform_takes_and_converts_the_rest(tmp_path):
    from outreach.media.captions import caption_text

    vtt = tmp_path / "a.vtt"
    vtt.write_text("\ufeffWEBVTT\n\n00:01.000 --> 00:02.500 align:center\nHallo\n", encoding="utf-8")
    assert caption_text(vtt, ("srt", "vtt")) == ("vtt", "WEBVTT\n\n00:01.000 --> 00:02.500 align:center\nHallo\n")
    assert caption_text(vtt, ("srt",)) == ("srt", "1\n00:00:01,000 --> 00:00:02,500\nHallo\n")
    with pytest.raises(CaptionError, match="a.vtt:1: this platform takes no caption files"):
        caption_text(vtt, ())
    bad = tmp_path / "b.srt"
    bad.write_text("1\n00:00:02,000 --> 00:00:01,000\nx\n", encoding="utf-8")
    with pytest.raises(CaptionError, match="b.srt:2: caption 1 ends before it starts"):
        caption_text(bad, ("srt",))  # checked even when it goes up as it is
