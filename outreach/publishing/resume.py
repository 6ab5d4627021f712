"""Where the capabilities of an interrupted upload wait for the next attempt: one owner-only file per post
in `<state_dir>/resume/`, never in the database, never exported or archived.

A handle's `Capability` values (connectors/capability.py) are written here before the handle without
them is committed; the committed handle names the file (`resume`, a random id: a file written for an
earlier upload is never mixed with a later one). The next attempt on this machine reads it back and the
upload continues where it stood, also after a crash. Another machine has no file: the connector gets None
where the capability was and takes the safe path (asks the platform, then uploads anew). The file is
deleted when the publish ends (published, failed, handed to a person); files older than a week (every
platform's upload URLs have expired by then) are removed when a worker first sends.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from outreach.connectors.capability import restore, split

log = logging.getLogger("outreach.publishing")

KEY = "resume"  # the handle's key naming the file
MAX_AGE_S = 8 * 86400  # YouTube's sessions last a week; LinkedIn's and TikTok's URLs hours to a day


class ResumeFiles:
    """The worker's resume files (directory 0700, files 0600)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._swept = False

    def attempt(self, post_id: int, lease_token: str, handle: dict[str, Any] | None) -> Resume:
        """The resume state of one attempt; the handle's capabilities are restored (in place) if this
        machine has them."""
        self._sweep()
        return Resume(self, post_id, lease_token, handle if handle is not None else {})

    def discard(self, post_id: int) -> None:
        """The publish ended: its capabilities are of no more use to anyone."""
        for path in self.directory.glob(f"{post_id}-*.json"):
            with contextlib.suppress(OSError):
                path.unlink()

    def path(self, post_id: int, name: str) -> Path:
        return self.directory / f"{post_id}-{name}.json"

    def write(self, path: Path, content: dict[str, Any]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        temp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)

    def read(self, path: Path) -> dict[str, str]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        found = data.get("capabilities") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def _sweep(self) -> None:
        if self._swept:
            return
        self._swept = True
        cutoff = time.time() - MAX_AGE_S
        for path in self.directory.glob("*.json"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


class Resume:
    """One attempt's view: the handle as the connector gets it, and `public` for the database."""

    def __init__(self, files: ResumeFiles, post_id: int, lease_token: str, handle: dict[str, Any]) -> None:
        self.files, self.post_id, self.lease_token = files, post_id, lease_token
        self.name: str | None = None  # the file this attempt reads and writes
        self.created = False  # by this attempt (else restored from an earlier one)
        name = handle.get(KEY)
        if isinstance(name, str) and name.isalnum():
            found = files.read(files.path(post_id, name))
            if found:
                self.name = name
                restore(handle, found)
        self.handle = handle

    def public(self, handle: dict[str, Any]) -> dict[str, Any]:
        """`handle` as the database keeps it; its capabilities go to this machine's file first."""
        public, found = split(handle)
        if not found:
            if self.name is not None:
                self.files.path(self.post_id, self.name).unlink(missing_ok=True)
                self.name = None
            public.pop(KEY, None)
            return public
        if self.name is None:
            self.name, self.created = secrets.token_hex(8), True
        self.files.write(self.files.path(self.post_id, self.name),
                         {"post_id": self.post_id, "lease": self.lease_token, "capabilities": found})
        public[KEY] = self.name
        return public

    def abandon(self) -> None:
        """The handle was not committed (the lease is gone): a file first written for it is nobody's."""
        if self.name is not None and self.created:
            self.files.path(self.post_id, self.name).unlink(missing_ok=True)
