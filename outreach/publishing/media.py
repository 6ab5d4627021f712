"""Turn a post's media entries into files fit for its platform, just before publishing.

Cards are rendered from the post and its meeting (cached by content hash, so a retry does not
redraw); photos and cards alike go through `prepare_image_for_platform`, which strips EXIF/GPS and
every other metadata and fits format and bytes to the platform. Files are named by their content
hash in `[media] directory`; platforms that pull images by URL get `[media] public_base_url/<name>`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from outreach.cards import CardSpec, cover_policy, cover_size, prepare_image_for_platform, render_card
from outreach.config import Settings
from outreach.connectors import Connector, platform_class
from outreach.db.models import Post
from outreach.domain import ImagePolicy, MediaItem, Platform, VideoCapabilities
from outreach.media import file_sha256, prepare_video
from outreach.media.captions import read_captions

_URL_OR_TAG = re.compile(r"https?://\S+|#\w+", re.UNICODE)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
TITLE_MAX = 90


def card_title(text: str) -> str:
    """A card headline from the post text: its first sentence or line, without links and hashtags."""
    plain = _URL_OR_TAG.sub("", text)
    first = re.split(r"(?<=[.!?؟።])\s+|\n", plain.strip(), maxsplit=1)[0].strip(" -–—:·")
    if len(first) <= TITLE_MAX:
        return first
    cut = first[:TITLE_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def card_spec(entry: dict[str, Any], *, language: str, text: str, timezone: str, organisation: str = "Peer",
              starts_at: datetime | None = None, venue: str = "", city: str = "") -> CardSpec:
    """The card a media entry `{"card": template, ...}` asks for, filled from its post and meeting."""
    template = entry["card"]
    return CardSpec(
        template=template,
        language=language,
        title=entry.get("title") or card_title(text),
        body=entry.get("body", ""),
        organisation=organisation,
        when=starts_at if template in ("announce", "reminder") else None,
        timezone=timezone,
        venue=venue,
        city=city,
        attendance=entry.get("attendance"),
        alt_text=entry.get("alt_text") or None,
    )


def card_cache_dir(settings: Settings) -> Path:
    """Where rendered cards are kept by content (the media step and `validate` share it)."""
    return Path(settings.media.directory) / "cards"


def card_spec_for(post: Post, entry: dict[str, Any], *, timezone: str) -> CardSpec:
    """The card of a stored post: its time in the campaign's time zone, as its text was written
    (`timezone`, the installation's, only for a post without a campaign)."""
    timezone = post.campaign.timezone if post.campaign is not None else timezone
    meeting = post.meeting
    if meeting is None:
        return card_spec(entry, language=post.language, text=post.text, timezone=timezone)
    return card_spec(entry, language=post.language, text=post.text, timezone=timezone,
                     organisation=meeting.organisation.code, starts_at=meeting.starts_at,
                     venue=meeting.venue, city=meeting.city)


class MediaPreparer:
    """The dispatcher's media resolver: `preparer(post, platform) -> tuple[MediaItem, ...]`.

    Sizes and image limits come from the channel's connector (`connectors(channel)`, so a Mastodon
    instance's own limits apply) or, without one, from the platform's connector class.
    """

    def __init__(self, settings: Settings, *, connectors: Callable[[str], Connector] | None = None) -> None:
        self.connectors = connectors
        self.directory = Path(settings.media.directory)
        self.public_base_url = (settings.media.public_base_url or "").rstrip("/") or None
        self.timezone = settings.timezone
        self.cache_dir = card_cache_dir(settings)

    def _shape(self, post: Post, platform: Platform) -> tuple[str, ImagePolicy]:
        cls = platform_class(platform)
        if self.connectors is not None and platform != Platform.MANUAL:
            return cls.card_size, self.connectors(post.channel).image_policy()
        return cls.card_size, cls.image_policy_for()

    def _video_limits(self, post: Post, platform: Platform) -> VideoCapabilities:
        """What the channel takes as video (the instance's own limits where the platform publishes them);
        refused, with the reason, when its connector cannot upload video."""
        cls = platform_class(platform)
        if not cls.uploads_video or cls.video is None:
            raise ValueError(f"video cannot be published on {platform} yet (its connector has no "
                             "video upload); nothing was sent")
        if self.connectors is not None:
            return self.connectors(post.channel).known_limits().video or cls.video
        return cls.video

    def __call__(self, post: Post, platform: Platform) -> tuple[MediaItem, ...]:
        items = []
        card_size, policy = self._shape(post, platform)
        for entry in post.media or []:
            alt = entry.get("alt_text", "")
            if entry.get("video"):
                items.append(self.video(entry, self._video_limits(post, platform), post.language,
                                        image_policy=policy, cover_card=lambda e: card_spec_for(post, e, timezone=self.timezone)))
                continue
            if entry.get("card"):
                spec = card_spec_for(post, entry, timezone=self.timezone)
                card = render_card(spec, size=card_size, cache_dir=self.cache_dir)
                source: bytes | Path = card.data
                alt = alt or card.alt_text
            elif entry.get("path"):
                source = Path(entry["path"])
            else:
                continue
            items.append(self.image(source, policy, alt))
        return tuple(items)

    def image(self, source: bytes | Path, policy: ImagePolicy, alt: str) -> MediaItem:
        prepared = prepare_image_for_platform(source, policy)
        digest = hashlib.sha256(prepared.data).hexdigest()[:32]
        name = f"{digest}.{_EXTENSIONS.get(prepared.mime_type, 'bin')}"
        path = self.directory / name
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(prepared.data)
            tmp.replace(path)
        return MediaItem(path=str(path), alt_text=alt, mime_type=prepared.mime_type,
                         width=prepared.width, height=prepared.height,
                         public_url=f"{self.public_base_url}/{name}" if self.public_base_url else None)

    def video(self, entry: dict[str, Any], limits: VideoCapabilities, language: str, *,
              image_policy: ImagePolicy, cover_card: Callable[[dict[str, Any]], CardSpec] | None = None) -> MediaItem:
        """A video entry, stripped (and transcoded if the platform's `limits` need it, or captions are to
        be burned in) into `[media] directory`/video; its cover image (a file, or a card drawn by
        `cover_card(cover entry)` at the video's shape) stripped and fitted like any image."""
        captions = entry.get("captions", {})
        burn = read_captions(Path(captions[language])) if entry.get("options", {}).get("burn_captions") else []
        prepared = prepare_video(Path(entry["video"]), limits, self.directory / "video",
                                 burn=burn, language=language)
        cover = entry.get("cover")
        frame = cover.get("frame") if isinstance(cover, dict) else cover if isinstance(cover, int | float) else None
        width, height = prepared.info.width, prepared.info.height
        picture: bytes | Path | None = Path(cover) if isinstance(cover, str) else None
        if isinstance(cover, dict) and cover.get("image"):
            picture = Path(cover["image"])
        elif isinstance(cover, dict) and cover.get("card") and cover_card is not None and limits.cover == "image":
            size = cover_size(image_policy, width, height)
            picture = render_card(cover_card(cover), size=size, cache_dir=self.cache_dir).data
        cover_item = self.image(picture, cover_policy(image_policy, width, height), "") if picture is not None else None
        name = prepared.path.name
        return MediaItem(path=str(prepared.path), alt_text=entry.get("alt_text", ""), mime_type="video/mp4",
                         width=prepared.info.width, height=prepared.info.height,
                         public_url=f"{self.public_base_url}/video/{name}" if self.public_base_url else None,
                         duration_s=prepared.info.duration_s, captions=() if burn else tuple(sorted(captions.items())),
                         cover_path=cover_item.path if cover_item else None,
                         cover_s=float(frame) if frame is not None else None,
                         options=tuple(sorted(entry.get("options", {}).items())))


def uploaded_files(media: Sequence[MediaItem]) -> list[dict[str, Any]]:
    """The files a post uploaded, as kept with it when it is published: the prepared (stripped) files,
    never an original, each with its content hash, size, type and name; a video's cover image too.
    Hashes are streamed (a video is never read into memory whole)."""
    files: list[dict[str, Any]] = []
    for index, item in enumerate(media):
        parts = [("media", item.path, item.mime_type)]
        if item.cover_path:
            parts.append(("cover", item.cover_path, mimetypes.guess_type(item.cover_path)[0] or "image/jpeg"))
        for role, name, mime in parts:
            path = Path(name)
            files.append({"item": index, "role": role, "file": path.name, "path": str(path),
                          "sha256": file_sha256(path), "bytes": path.stat().st_size, "mime_type": mime})
    return files
