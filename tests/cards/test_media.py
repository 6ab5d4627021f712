"""Images are stripped of EXIF/GPS and fitted to each platform's format and byte limits."""

from __future__ import annotations

import io
import random

import pytest
from PIL import ExifTags, Image

from outreach.cards import PreparedImage, render_card
from outreach.cards import prepare_image_for_platform as prepare_with_policy
from outreach.connectors import connector_classes, platform_class
from outreach.domain import Platform
from tests.cards.examples import example_spec

EVERY_PLATFORM = [cls.platform for cls in connector_classes()] + [Platform.MANUAL]


def prepare_image_for_platform(source: bytes, platform: Platform | str) -> PreparedImage:
    """Fit as the dispatcher does: with the policy the platform's connector class declares."""
    return prepare_with_policy(source, platform_class(platform).image_policy_for())


GPS_AMSTERDAM = {1: "N", 2: (52.0, 22.0, 30.0), 3: "E", 4: (4.0, 53.0, 40.0)}


def _photo_with_metadata(width: int = 640, height: int = 480, *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: camera, time, GPS position, rotation flag, a comment."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    image.paste((240, 200, 20), (0, 0, width // 4, height // 4))  # a yellow corner shows the rotation
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.DateTime] = "2025:06:14 14:03:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS_AMSTERDAM)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at the meeting", quality=92)
    return out.getvalue()


def _noise_png(width: int, height: int) -> bytes:
    rng = random.Random(8)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def test_source_photo_really_carries_gps() -> None:
    with Image.open(io.BytesIO(_photo_with_metadata())) as source:
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)[1] == "N"
        assert source.info.get("comment") == b"taken at the meeting"


@pytest.mark.parametrize("platform", EVERY_PLATFORM)
def test_exif_gps_and_comments_are_removed_for_every_platform(platform: Platform) -> None:
    prepared = prepare_image_for_platform(_photo_with_metadata(), platform)
    for marker in (
        b"Exif",
        b"PhoneMaker",
        b"taken at the meeting",
        b"2025:06:14",
        b"http://ns.adobe.com/xap",
    ):
        assert marker not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as result:
        assert len(result.getexif()) == 0
        assert not {"exif", "comment", "icc_profile", "xmp"} & set(result.info)


def test_rotation_flag_is_applied_before_it_is_dropped() -> None:
    prepared = prepare_image_for_platform(_photo_with_metadata(640, 480, orientation=6), Platform("mastodon"))
    with Image.open(io.BytesIO(prepared.data)) as result:
        assert result.size == (480, 640)  # portrait, as the phone showed it
        r, g, b = result.convert("RGB").getpixel((result.width - 20, 20))[:3]
        assert r > 200 and g > 150 and b < 100  # the yellow corner moved to the top right


def test_instagram_and_tiktok_get_jpeg() -> None:
    card = render_card(example_spec("announce", "nl"), size=platform_class(Platform("instagram")).card_size)
    for platform in (Platform("instagram"), Platform("tiktok")):
        prepared = prepare_image_for_platform(card.data, platform)
        assert prepared.mime_type == "image/jpeg" and prepared.data[:3] == b"\xff\xd8\xff"
    assert prepare_image_for_platform(card.data, Platform("mastodon")).mime_type == "image/png"


def test_instagram_aspect_ratio_is_padded_into_range_not_cropped() -> None:
    tall = io.BytesIO()
    Image.new("RGB", (400, 1200), (200, 30, 30)).save(tall, format="PNG")
    prepared = prepare_image_for_platform(tall.getvalue(), Platform("instagram"))
    assert prepared.width / prepared.height == pytest.approx(0.8, abs=0.01)
    assert prepared.height <= 1800


def test_bluesky_gets_at_most_one_million_bytes_by_re_encoding() -> None:
    big = _noise_png(1600, 1600)
    assert len(big) > 5_000_000
    prepared = prepare_image_for_platform(big, Platform("bluesky"))
    assert len(prepared.data) <= 1_000_000
    assert prepared.mime_type == "image/jpeg"
    with Image.open(io.BytesIO(prepared.data)) as result:
        assert result.size == (prepared.width, prepared.height)


def test_a_small_card_stays_png_on_bluesky() -> None:
    card = render_card(example_spec("recap", "ar"), size=platform_class(Platform("bluesky")).card_size)
    prepared = prepare_image_for_platform(card.data, Platform("bluesky"))
    assert prepared.mime_type == "image/png" and len(prepared.data) <= 1_000_000
    assert (prepared.width, prepared.height) == (1200, 675)


def test_preparing_is_deterministic() -> None:
    source = _photo_with_metadata()
    assert (
        prepare_image_for_platform(source, "instagram").data
        == prepare_image_for_platform(source, "instagram").data
    )
