"""Moving processed originals out of the drop folder: to archive/<as-of>/, or to quarantine/ with the reason.
Nothing is deleted and nothing is overwritten: a second file of the same name gets a numbered name."""

from __future__ import annotations

import hashlib
import json
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


def journal_path(history: Path, as_of: date) -> Path:
    """The night's move journal, kept with the history (not among the originals): each move begun and ended."""
    return history / "moves" / f"{as_of.isoformat()}.jsonl"


def _journal(journal: Path | None, record: dict[str, str]) -> None:
    if journal is None:
        return
    journal.parent.mkdir(parents=True, exist_ok=True)
    with journal.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _unfinished_moves(journal: Path) -> dict[str, str]:
    """source path → target path of the moves the journal says began and never ended."""
    if not journal.is_file():
        return {}
    open_moves: dict[str, str] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut by the kill
            continue
        if record.get("done"):
            open_moves.pop(record["from"], None)
        else:
            open_moves[record["from"]] = record["to"]
    return open_moves


def finish_interrupted_move(path: Path, journal: Path) -> bool:
    """A file left in the drop folder by a run killed inside its move — the journal says the move began and
    never ended, and its target holds the same bytes — is removed from the drop folder: the move is finished.
    Anything else (a re-drop of a file moved earlier, a changed file) is left alone."""
    source = str(path.resolve())
    target_name = _unfinished_moves(journal).get(source)
    if target_name is None:
        return False
    target = Path(target_name)
    if not target.is_file() or not _same_bytes(path, target):
        return False
    path.unlink()
    _journal(journal, {"from": source, "to": target_name, "done": "1"})
    return True


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return False
            if not ca:
                return True


def _move(path: Path, folder: Path, journal: Path | None = None) -> Path:
    """The original stays in place until it is complete under its new name: a run killed half-way leaves
    either the original alone, or the original and an identical archived copy with the move journalled as
    begun (`finish_interrupted_move` then finishes it), or a hidden `.*.part-<pid>` copy that nothing reads."""
    folder.mkdir(parents=True, exist_ok=True)
    if path.parent.resolve() == folder.resolve():
        return path  # already there: a re-run of the night re-reads it from here
    target = free_name(folder, path.name)
    move = {"from": str(path.resolve()), "to": str(target.resolve())}  # absolute: a later run may start elsewhere
    _journal(journal, move)
    try:
        os.link(path, target)
    except OSError:  # another file system, or no hard links: copy under a hidden name, then give it its name
        partial = folder / f".{target.name}.part-{os.getpid()}"
        shutil.copy2(path, partial)
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        os.link(partial, target)  # fails rather than overwrite
        partial.unlink()
    try:
        path.unlink()
    except OSError:  # a file open in Excel on a Windows share cannot be removed: it stays whole where it was,
        target.unlink(missing_ok=True)  # and no second copy of it waits in the archive for its re-drop
        raise
    _journal(journal, move | {"done": "1"})
    return target


def archive(path: Path, archive_root: Path, as_of: date, journal: Path | None = None) -> Path:
    """`journal`: the night's move journal (`journal_path`), which tells a killed move from a re-drop."""
    return _move(path, archive_root / as_of.isoformat(), journal)


def quarantine(path: Path, quarantine_root: Path, why: str, journal: Path | None = None) -> Path:
    target = _move(path, quarantine_root, journal)
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
