"""The drop folder: which files tonight's run takes, and which it leaves for the next night (SPEC §2)."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from genjin import archive
from genjin.folders import Folders
from genjin.ingest import FileLoad, sha256_of

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


def night_files(folders: Folders, as_of: date, settle_seconds: float = 60.0) -> list[Path]:
    """The night's files: those in the drop folder, and those a run of this night already moved to
    archive/<as-of>/ or quarantine/<as-of>/ (a re-run, or a run after one that was killed part-way) — they
    are read again for run.json and the rejects; the ledger keeps them from being recorded twice. A file
    left in the drop folder beside an identical archived copy (a run killed inside the move) is the same
    file: the move is finished. Sorted by name, as a clean run takes them."""
    moved = [*archive.originals_in(folders.archive / as_of.isoformat()),
             *archive.originals_in(folders.quarantine / as_of.isoformat())]
    by_name = {p.name: p for p in moved}
    files = list(moved)
    for path in files_to_process(folders.drop, settle_seconds):
        twin = by_name.get(archive.fit_name(path.name))  # a long name is archived cut to fit
        if twin is not None and twin.stat().st_size == path.stat().st_size and sha256_of(twin) == sha256_of(path):
            path.unlink()
            continue
        files.append(path)
    return sorted(files, key=lambda p: (p.name, str(p)))


def in_night_order(loads: Iterable[FileLoad], paths: list[Path]) -> list[FileLoad]:
    """The loads of every batch back in the order of `paths` (the night's order: later rows win)."""
    place = {path: n for n, path in enumerate(paths)}
    return sorted(loads, key=lambda load: place[load.path])


def batches(paths: list[Path], n: int) -> list[list[Path]]:
    """`paths` in at most `n` batches of about equal bytes (each file, largest first, into the lightest
    batch), so that batches read in parallel finish together. Each batch keeps the night's order."""
    sizes = [0] * max(1, n)
    members: list[list[Path]] = [[] for _ in sizes]
    for path in sorted(paths, key=lambda p: p.stat().st_size, reverse=True):
        lightest = sizes.index(min(sizes))
        sizes[lightest] += path.stat().st_size
        members[lightest].append(path)
    place = {p: i for i, p in enumerate(paths)}
    return [sorted(batch, key=place.__getitem__) for batch in members if batch]
