"""Reading a file a person named: regular files only, and never more than a limit.

`/dev/zero`, a FIFO or a 10 GB log named by mistake must not hang a command or fill the memory;
the size on disk cannot be trusted for such files, so the read itself is bounded.
"""

from __future__ import annotations

from pathlib import Path


class TooLarge(Exception):
    """The file holds more than the limit (or is not a regular file whose end can be reached)."""


def read_limited(path: str | Path, limit: int) -> bytes:
    """The file's bytes; TooLarge past `limit`; OSError (e.g. missing) as usual."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise IsADirectoryError(21, "not a regular file", str(path)) if path.is_dir() else \
            OSError(22, "not a regular file (a device or pipe)", str(path))
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path} is larger than {limit:,} bytes")
    return data
