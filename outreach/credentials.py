"""Rotating credentials (sessions, refresh tokens) kept outside the database, one file per channel.

Files live under `<state_dir>/credentials/`, are created with mode 0600 and replaced atomically,
so a crash mid-write never leaves half a token and a rotated refresh token is never lost.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class FileCredentialStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, channel: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in channel)
        return self.directory / f"{safe}.json"

    def load(self, channel: str) -> dict[str, Any]:
        try:
            return json.loads(self._path(channel).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}

    def save(self, channel: str, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self._path(channel))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


SECRET_KEY_PARTS = ("token", "jwt", "password", "secret", "key")


def credential_secrets(data: dict[str, Any]) -> list[str]:
    """The secret values among stored credentials (tokens, JWTs, passwords), not identifiers such as
    a handle, a DID or a URL: what logs, errors, captures and exports must never contain."""
    return [v for k, v in data.items()
            if isinstance(v, str) and len(v) >= 6 and any(part in k.lower() for part in SECRET_KEY_PARTS)]
