"""Make any image safe and acceptable to upload: no metadata, right format, within each platform's limits.

Photos of people at meetings can put them at risk, so EXIF (GPS, device, time), XMP, ICC and comments
are always dropped: only pixels are copied into a fresh image. What each platform accepts is an
`ImagePolicy` the caller takes from the platform's connector (its class attributes and live limits).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from outreach.domain import ImagePolicy
from outreach.errors import InputError

Image.MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs well above any camera
# probe_image refuses such images itself, in words; Pillow's warning would only add stderr noise
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
MAX_SOURCE_BYTES = 50_000_000  # a photo or poster a volunteer attaches; larger is a video or a scan


_MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}
_JPEG_QUALITIES = (90, 82, 74, 66, 58)


class ImageTooLargeError(InputError, ValueError):
    """Even a small, low-quality re-encode does not fit the platform's byte limit."""


class MediaError(InputError):
    """An attached file that is not a usable image; the message says why in a volunteer's words."""


@dataclass(frozen=True, slots=True)
class ImageProbe:
    """What a file really is, read from its content (never from its name)."""

    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF, ...
    width: int
    height: int
    bytes: int


def probe_image(path: str | Path) -> ImageProbe:
    """Decode `path` far enough to know its real format, dimensions and bytes; refuse what is not
    an image, is damaged, or would decompress into more pixels than any camera makes."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise MediaError(f"the file is {size / 1e6:.0f} MB; an image may be at most {MAX_SOURCE_BYTES // 1_000_000} MB")
    try:
        with Image.open(path) as image:
            width, height, fmt = image.width, image.height, image.format or "?"
            if width * height > Image.MAX_IMAGE_PIXELS:  # Pillow itself only refuses at twice the limit
                raise Image.DecompressionBombError(f"Image size ({width * height} pixels) exceeds limit")
            image.load()  # decode the pixels: a truncated or corrupt file fails here, not at publish time
    except Image.DecompressionBombError as exc:
        raise MediaError(f"the image is too large to decode safely ({_pixels(str(exc))}; at most "
                         f"{Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels): resize it first") from None
    except UnidentifiedImageError:
        raise MediaError("the file is not an image (its content is not JPEG, PNG or another picture format)") from None
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow reports damaged files these ways
        raise MediaError(f"the image is damaged and cannot be read ({' '.join(str(exc).split())[:80]})") from None
    return ImageProbe(fmt, width, height, size)


def _pixels(message: str) -> str:
    """Pillow says "Image size (400000000 pixels) exceeds limit …"; we say "400 megapixels"."""
    found = re.search(r"\((\d+) pixels\)", message)
    return f"{int(found.group(1)) / 1e6:,.0f} megapixels" if found else message


def upload_format(source_format: str, policy: ImagePolicy) -> str:
    """The format an image of `source_format` is uploaded in under `policy` (kept if accepted, else
    converted to the platform's preferred one): the rule prepare_image_for_platform follows."""
    return source_format if source_format in policy.formats else policy.formats[0]


def upload_mime_type(source_format: str, policy: ImagePolicy) -> str:
    return _MIME[upload_format(source_format, policy)]


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
    fmt = upload_format(original_format, policy)
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
