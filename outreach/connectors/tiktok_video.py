"""TikTok video (video.md §7): the inbox flow by default (`/v2/post/publish/inbox/video/init/`, only
`source_info`; the creator finishes the post in the app), Direct Post for an audited channel
(`/v2/post/publish/video/init/` with `post_info`, privacy from creator_info); the file goes up in chunks
(`PUT upload_url`, `Content-Range`) by TikTok's chunk rules.

Exactly-once: `publish_id` and `upload_url` are saved before the first byte (the `upload_url`, which
carries the upload token, only in the worker's resume file). A broken chunk is not a reason to init
again: the status's `uploaded_bytes` says where to go on, and the upload continues from there on the
next attempt. Without the `upload_url` (another machine) an unfinished upload created nothing: a new init.
"""

from __future__ import annotations

import os
from typing import Any

from outreach.connectors.base import SaveHandle
from outreach.connectors.capability import Capability
from outreach.connectors.errors import ContentRejected
from outreach.domain import MediaItem, PublishRequest

MB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK, MAX_CHUNKS = 5 * MB, 64 * MB, 1000
PREFERRED_CHUNK = 10 * MB
MAX_VIDEO_TITLE = 2200  # Direct Post's `title` (the caption), in UTF-16 code units


def chunk_plan(size: int, preferred: int = PREFERRED_CHUNK) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) by TikTok's rules: under 5 MB one chunk of the whole file; else
    chunks of 5-64 MB, count = floor(size / chunk) (the last chunk takes the rest), at most 1000."""
    if size < MIN_CHUNK:
        return size, 1
    chunk = min(size, MAX_CHUNK, max(MIN_CHUNK, preferred, -(-size // MAX_CHUNKS)))
    count = size // chunk
    if size > MAX_CHUNK and count < 2:  # a file over 64 MB must be chunked
        chunk = -(-size // 2)
        count = size // chunk
    return chunk, count


def chunk_ranges(size: int, chunk: int, count: int) -> list[tuple[int, int]]:
    """[first, end) of each chunk; the last one runs to the end of the file."""
    return [(i * chunk, size if i == count - 1 else (i + 1) * chunk) for i in range(count)]


class TikTokVideo:
    """Mixed into TikTokConnector (which gives call, channel, direct, _privacy_option, _pace_init, ...)."""

    @staticmethod
    def video_item(req: PublishRequest) -> MediaItem | None:
        return next((m for m in req.media if m.mime_type.startswith("video/")), None)

    def _init_video(self, req: PublishRequest, save_handle: SaveHandle,
                    item: MediaItem) -> tuple[str, Any, int, dict[str, Any]]:
        """Init (inbox or Direct Post); returns publish_id, username, uploads and the saved handle."""
        size = os.path.getsize(item.path)
        chunk, count = chunk_plan(size)
        source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}
        body: dict[str, Any] = {"source_info": source}
        username = None
        if self.direct:
            info, privacy = self.creator_privacy()
            username = info.get("creator_username")
            longest = info.get("max_video_post_duration_sec")
            if longest and item.duration_s and item.duration_s > float(longest):
                raise ContentRejected(self.channel.name, f"the video is {item.duration_s:.0f} s long; this "
                                      f"TikTok account may post up to {longest} s")
            title = self._description(req)
            units = len(title.encode("utf-16-le")) // 2
            if units > MAX_VIDEO_TITLE:
                raise ContentRejected(self.channel.name, f"the text is {units} UTF-16 units long; a TikTok video's "
                                      f"caption allows {MAX_VIDEO_TITLE}")
            options = self.channel.options
            body["post_info"] = {"title": title, "privacy_level": privacy,
                                 "disable_comment": bool(options.get("disable_comment", False)),
                                 "disable_duet": bool(options.get("disable_duet", False)),
                                 "disable_stitch": bool(options.get("disable_stitch", False))}
            if item.cover_s is not None:
                body["post_info"]["video_cover_timestamp_ms"] = round(item.cover_s * 1000)
        self._pace_init()
        path = "/v2/post/publish/video/init/" if self.direct else "/v2/post/publish/inbox/video/init/"
        data = self.call(path, write=True, json=body)
        handle = {"publish_id": str(data["publish_id"]), "creator_username": username,
                  "upload_url": Capability(str(data["upload_url"])), "video_size": size, "chunk_size": chunk,
                  "chunk_count": count}
        save_handle(handle)
        # One upload, whatever came before (unlike photos, which TikTok pulls at init): an init whose
        # answer was lost never got the bytes, so it never became a second draft in the inbox.
        return handle["publish_id"], username, 1, handle

    def upload_unfinished(self, handle: dict[str, Any], status: dict[str, Any]) -> bool:
        """Bytes still to send: the init was saved, TikTok waits for the upload and has fewer bytes (the
        upload_url to send them to is in this machine's resume file, or gone: then a new init)."""
        return status.get("status") == "PROCESSING_UPLOAD" \
            and int(status.get("uploaded_bytes") or 0) < int(handle.get("video_size") or 0)

    def upload_rest(self, handle: dict[str, Any], item: MediaItem, status: dict[str, Any]) -> None:
        """PUT the chunks TikTok has not got yet, in order (sequential, as TikTok requires)."""
        size, chunk, count = (int(handle[k]) for k in ("video_size", "chunk_size", "chunk_count"))
        done = int(status.get("uploaded_bytes") or 0)
        with open(item.path, "rb") as fh:
            for first, end in chunk_ranges(size, chunk, count):
                if end <= done:
                    continue
                fh.seek(first)
                self.request("PUT", str(handle["upload_url"]), data=fh.read(end - first),
                             ok=(200, 201, 206), headers={"Content-Type": item.mime_type,
                                                          "Content-Range": f"bytes {first}-{end - 1}/{size}"})
