"""media/ of the archive: the files each post uploaded, exactly as published (the prepared, stripped
bytes recorded in `posts.published_media`, never an original), once per content hash.

Copies are streamed in 1 MiB chunks and hashed on the way, so a video never sits in memory whole and a
file changed on disk since publishing is caught; it is listed as missing rather than archived.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def variant_media(post: Any, media_dir: Path, archived: dict[str, str], counts: dict[str, int],
                  warnings: list[str]) -> list[dict[str, Any]]:
    """The post's media entries, each with the files it uploaded (the prepared bytes, by content hash in
    media/). An entry is linked to its files in the order the media step makes them: one per entry
    that has a video, card or path."""
    files: dict[int, list[dict[str, Any]]] = {}
    for uploaded in post.published_media or []:
        files.setdefault(uploaded.get("item", 0), []).append(uploaded)
    out, item = [], 0
    for entry in post.media or []:
        kept = {k: entry[k] for k in ("alt_text", "card", "mime_type", "width", "height", "public_url") if k in entry}
        made: list[dict[str, Any]] = []
        if entry.get("video") or entry.get("card") or entry.get("path"):
            made = [_archive_file(f, post.id, media_dir, archived, counts, warnings) for f in files.get(item, [])]
            item += 1
        main = next((f for f in made if f["role"] == "media"), None)
        out.append({**kept, "file": main["file"] if main else None,
                    "archived_as": main["archived_as"] if main else None, "uploaded": made})
    return out


def _archive_file(uploaded: dict[str, Any], post_id: int, media_dir: Path, archived: dict[str, str],
                  counts: dict[str, int], warnings: list[str]) -> dict[str, Any]:
    """Copy one uploaded file into media/ once, named by its content hash, streaming and checking the
    hash on the way; a file gone from disk, or changed since it was published, is listed, not copied."""
    digest = str(uploaded["sha256"])
    described = {k: uploaded.get(k) for k in ("role", "file", "sha256", "bytes", "mime_type")}
    if digest not in archived:
        source = Path(uploaded["path"])
        name = f"{digest}{Path(uploaded['file']).suffix.lower()}"
        problem = _copy_checked(source, media_dir / name, digest)
        if problem:
            counts["media_missing"] = counts.get("media_missing", 0) + 1
            warnings.append(f"post {post_id}: media file {source.name} {problem}; not archived")
            return {**described, "archived_as": None, "missing": problem}
        archived[digest] = f"media/{name}"
    return {**described, "archived_as": archived[digest]}


def _copy_checked(source: Path, target: Path, digest: str) -> str | None:
    """Copy `source` to `target` in 1 MiB chunks if its SHA-256 is `digest`; else say what is wrong."""
    if not source.is_file():
        return "is no longer on disk"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    hashed = hashlib.sha256()
    with source.open("rb") as src, partial.open("wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            hashed.update(chunk)
            dst.write(chunk)
    if hashed.hexdigest() != digest:
        partial.unlink()
        return "has changed since it was published"
    partial.replace(target)
    return None
