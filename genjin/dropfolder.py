"""The drop folder: which files tonight's run takes, and which it leaves for the next night (SPEC §2)."""

from __future__ import annotations

import fnmatch
import time
from pathlib import Path

TEMPORARY = ("~$*", ".~lock*", "*.part", "*.tmp", ".*")


def is_temporary(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in TEMPORARY)


def is_settled(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """A file modified within the last `settle_seconds` may still be being written."""
    now = time.time() if now is None else now
    return now - path.stat().st_mtime >= settle_seconds


def files_to_process(drop: Path, settle_seconds: float = 60.0) -> list[Path]:
    """Regular files directly in `drop`, temporary and in-progress ones left where they are; sorted by name."""
    return sorted(
        p for p in drop.iterdir()
        if p.is_file() and not p.is_symlink() and not is_temporary(p) and is_settled(p, settle_seconds)
    )
