"""Moving processed originals out of the drop folder: to archive/<as-of>/, or to quarantine/ with the reason.
Nothing is deleted and nothing is overwritten: a second file of the same name gets a numbered name."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

MAX_NAME_BYTES = 255  # a file name's limit on ext4, XFS, NTFS, APFS (in UTF-8 bytes on Linux)
BESIDE = 32  # room kept for what genjin puts around a name: " (12)", ".why.txt", ".<name>.part-<pid>"
MAX_SUFFIX_BYTES = 16


def _bytes(text: str) -> int:
    return len(os.fsencode(text))  # as the file system stores it (undecodable bytes included)


def fit_name(name: str, room: int = MAX_NAME_BYTES - BESIDE) -> str:
    """`name` when it fits `room` bytes; else its stem cut on a character boundary, `~`, 8 hex digits of the
    whole name's SHA-256 (two long names with the same start stay apart), and its suffix — readable, unique,
    and the same every night for the same name."""
    if _bytes(name) <= room:
        return name
    suffix = Path(name).suffix if _bytes(Path(name).suffix) <= MAX_SUFFIX_BYTES else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    keep = room - _bytes(tag + suffix)
    while _bytes(stem) > keep:
        stem = stem[: max(len(stem) - max((_bytes(stem) - keep) // 4, 1), 0)]  # ≤ 4 bytes a character
    return stem + tag + suffix


def safe_name(text: str) -> str:
    """A file name that stays inside its folder, and fits the file system, whatever an advisor id holds."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".")
    return fit_name(cleaned or "_")


def free_name(folder: Path, name: str, tail: str = "") -> Path:
    """`folder/name+tail`, or `folder/stem (2).ext`, `(3)`, … — the first that does not exist; `name` cut to
    fit (`fit_name`) so that the whole name, `tail` and what genjin may add beside it fit 255 bytes."""
    fitted = fit_name(Path(name).name, MAX_NAME_BYTES - BESIDE - _bytes(tail)) + tail  # never a path from a name
    candidate = folder / fitted
    stem, suffix = candidate.stem, candidate.suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def _move(path: Path, folder: Path) -> Path:
    """The original stays in place until it is complete under its new name: a run killed half-way leaves
    either the original alone, or the original and an identical archived copy (`files_of_night` then
    finishes the move), or a hidden `.*.part-<pid>` copy that nothing reads."""
    folder.mkdir(parents=True, exist_ok=True)
    if path.parent.resolve() == folder.resolve():
        return path  # already there: a re-run of the night re-reads it from here
    target = free_name(folder, path.name)
    try:
        os.link(path, target)
    except OSError:  # another file system, or no hard links: copy under a hidden name, then give it its name
        partial = folder / f".{target.name}.part-{os.getpid()}"
        shutil.copy2(path, partial)
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        os.link(partial, target)  # fails rather than overwrite
        partial.unlink()
    path.unlink()
    return target


def archive(path: Path, archive_root: Path, as_of: date) -> Path:
    return _move(path, archive_root / as_of.isoformat())


def quarantine(path: Path, quarantine_root: Path, why: str) -> Path:
    target = _move(path, quarantine_root)
    target.with_name(target.name + WHY).write_text(why + "\n", encoding="utf-8", errors="replace")
    return target


WHY = ".why.txt"


def originals_in(folder: Path) -> list[Path]:
    """The originals a run of this night already moved into `folder` (archive/<as-of>/ or quarantine/<as-of>/):
    regular files, not hidden, not a `.why.txt`."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".") and not p.name.endswith(WHY)
    )
