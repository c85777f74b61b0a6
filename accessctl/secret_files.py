"""Key files made on first use, safely when several processes start at once."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_once(path: Path, data: bytes) -> None:
    """Make `path` (mode 0600) holding `data`, unless it exists: then leave it, whoever made it.

    Workers started together each find no key and make one; the file appears whole or not at all (a link of a
    finished temporary file), so the others read the winner's key, never a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
