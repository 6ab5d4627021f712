"""Make any image safe and acceptable to upload: no metadata, right format, within each platform's limits.

Photos of people at meetings can put them at risk, so EXIF (GPS, device, time), XMP, ICC and comments
are always dropped: only pixels are copied into a fresh image. What each platform accepts is an
`ImagePolicy` the caller takes from the platform's connector (its class attributes and live limits).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from outreach.domain import ImagePolicy

Image.MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs well above any camera


_MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}
_JPEG_QUALITIES = (90, 82, 74, 66, 58)


class ImageTooLargeError(ValueError):
    """Even a small, low-quality re-encode does not fit the platform's byte limit."""


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    mime_type: str
    width: int
    height: int


def strip_metadata(image: Image.Image) -> Image.Image:
    """A new image with the same (upright) pixels and nothing else: no EXIF, GPS, XMP, ICC or comments."""
    upright = ImageOps.exif_transpose(image)
    converted = _to_srgb(upright)
    mode = "RGBA" if converted.mode in ("RGBA", "LA", "PA") or "transparency" in converted.info else "RGB"
    pixels = converted.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels from an embedded colour profile to sRGB, so dropping the profile keeps colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except Exception:  # a broken profile must not stop an upload; the pixels are still usable
        return image


def _fit_geometry(image: Image.Image, policy: ImagePolicy) -> Image.Image:
    """Pad to the allowed aspect range (never crop people out), then scale down to the maximum size."""
    width, height = image.size
    aspect = width / height
    if policy.min_aspect and aspect < policy.min_aspect:
        image = _pad(image, (round(height * policy.min_aspect), height))
    elif policy.max_aspect and aspect > policy.max_aspect:
        image = _pad(image, (width, round(width / policy.max_aspect)))
    scale = min(1.0, policy.max_width / image.width, policy.max_height / image.height)
    if scale < 1.0:
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.LANCZOS,
        )
    return image


def _pad(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    colour = tuple(
        round(c) for c in image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    )
    canvas = Image.new(image.mode, size, colour if image.mode == "RGB" else (*colour, 255))
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def _encode(image: Image.Image, fmt: str, quality: int = 90) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode != "RGB":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
            image = background
        image.save(out, format="JPEG", quality=quality, optimize=True)
    else:
        image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def prepare_image_for_platform(source: bytes | Path | str, policy: ImagePolicy) -> PreparedImage:
    """Strip all metadata and fit format, dimensions and bytes to a platform's `policy`.

    Keeps PNG where the platform takes it and it fits (crisp cards), otherwise JPEG, lowering quality
    and then size until the bytes fit (Bluesky: <= 1,000,000 bytes), rather than failing the post.
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    with Image.open(io.BytesIO(raw)) as opened:
        original_format = opened.format or ""
        image = _fit_geometry(strip_metadata(opened), policy)
    fmt = original_format if original_format in policy.formats else policy.formats[0]
    if fmt == "PNG":
        data = _encode(image, "PNG")
        if len(data) <= policy.max_bytes or "JPEG" not in policy.formats:
            return _result(data, "PNG", image, policy)
        fmt = "JPEG"
    while True:
        for quality in _JPEG_QUALITIES:
            data = _encode(image, fmt, quality)
            if len(data) <= policy.max_bytes:
                return _result(data, fmt, image, policy)
        if min(image.size) <= 200:
            raise ImageTooLargeError(f"image does not fit {policy.max_bytes} bytes even at {image.size}")
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)), Image.Resampling.LANCZOS)


def _result(data: bytes, fmt: str, image: Image.Image, policy: ImagePolicy) -> PreparedImage:
    if len(data) > policy.max_bytes:
        raise ImageTooLargeError(f"PNG of {len(data)} bytes exceeds the platform's {policy.max_bytes}")
    return PreparedImage(data, _MIME[fmt], image.width, image.height)
