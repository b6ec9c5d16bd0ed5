"""Moving processed originals out of the drop folder: to archive/<as-of>/, or to quarantine/ with the reason.
Nothing is deleted and nothing is overwritten: a second file of the same name gets a numbered name."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem (2).ext`, `(3)`, … — the first that does not exist."""
    candidate = folder / Path(name).name  # never a path from the file name
    stem, suffix = candidate.stem, candidate.suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, path.name)
    try:
        os.link(path, target)  # the original stays until the copy is complete under its new name
    except OSError:
        shutil.copy2(path, target)
    path.unlink()
    return target


def archive(path: Path, archive_root: Path, as_of: date) -> Path:
    return _move(path, archive_root / as_of.isoformat())


def quarantine(path: Path, quarantine_root: Path, why: str) -> Path:
    target = _move(path, quarantine_root)
    target.with_name(target.name + ".why.txt").write_text(why + "\n", encoding="utf-8")
    return target
