"""The drop folder: which files tonight's run takes, and which it leaves for the next night (SPEC §2)."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from adapters import archive
from adapters.folders import Folders
from adapters.ingest import FileLoad
from adapters.localzone import local_zone

TEMPORARY = ("~$*", ".~lock*", "*.part", "*.tmp", "*.crdownload")  # Office/LibreOffice locks, copies in progress
LOCK_PREFIXES = ("~$", ".~lock.")

STILL_WRITING = ("文件在检查期间仍在变化（大小或修改时间改变），可能仍在复制或保存中 / "
                 "the file changed while genjin looked at it (size or modification time): still being copied or saved")
TEMPORARY_FILE = ("临时文件（正在复制/下载，或 Office 锁文件），不是数据 / "
                  "a temporary file (a copy or download in progress, or an Office lock file), not data")
LOCK_FILE = ("Excel/WPS 打开工作簿时放在旁边的锁文件：工作簿已照常读取，关闭后锁文件自动消失，不需要处理 / "
             "the lock file Excel/WPS keeps beside an open workbook: the workbook is read as usual, and the lock file "
             "goes when it is closed; nothing to do")
TAKE_NOW = ("复制或保存完成后，再运行一次 genjin run 即可当晚载入；否则明晚自动处理 / "
            "to take it tonight, let the copy or save finish, then run `genjin run` again; "
            "otherwise the next night takes it")


@dataclass(frozen=True)
class Held:
    """A file left in the drop folder for the next night, and why (run.json `held`)."""

    name: str
    why: str
    modified_at: str  # local wall-clock time, ISO
    how: str = TAKE_NOW

    def entry(self) -> dict[str, str]:
        return {"name": self.name, "why": self.why, "modified_at": self.modified_at, "how": self.how}


@dataclass(frozen=True)
class NightFiles:
    paths: list[Path]  # what the night reads, in the night's order
    held: list[Held] = field(default_factory=list)
    opened: dict[str, str] = field(default_factory=dict)  # a file read while open in Excel/WPS → its lock file


def is_temporary(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in TEMPORARY)


def _lock_owner(lock: str) -> tuple[str, ...]:
    """The names a lock file may stand for: `~$leads.xlsx` (Excel), `~$ads.xlsx` (Word/Excel drop two
    letters of a long name), `.~lock.leads.xlsx#` (LibreOffice/WPS)."""
    if lock.startswith(".~lock.") and lock.endswith("#"):
        return (lock[len(".~lock."):-1],)
    if lock.startswith("~$"):
        return (lock[2:],)
    return ()


def _stats(drop: Path) -> dict[str, tuple[int, int]]:
    """Regular files directly in `drop` (no symlinks): name → (size, mtime in ns)."""
    found = {}
    for p in drop.iterdir():
        try:
            if p.is_file() and not p.is_symlink():
                st = p.stat()
                found[p.name] = (st.st_size, st.st_mtime_ns)
        except OSError:  # gone between listing and looking
            continue
    return found


def _local(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, local_zone()).replace(tzinfo=None).isoformat(" ", "seconds")


def look(drop: Path, settle_seconds: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> NightFiles:
    """The drop folder as robust file pickers see it: a file is taken when its size and modification time
    did not change across a look of `settle_seconds` (0: one look, nothing watched) and it is no temporary or
    lock file. Every other file is held and named; hidden files other than lock files (`.DS_Store`) are passed
    over. A workbook an Office lock file says is open is taken too, and named in `opened`: Excel and WPS save
    whole files, so what is on disk is its last save, complete."""
    before = _stats(drop)
    after = before
    if settle_seconds > 0:
        sleep(settle_seconds)
        after = _stats(drop)
    owners = {owner: lock for lock in after for owner in _lock_owner(lock)}
    taken, held, opened = [], [], {}
    for name in sorted(after):
        path = drop / name
        modified = _local(after[name][1])
        if any(name.startswith(prefix) for prefix in LOCK_PREFIXES):
            held.append(Held(name, TEMPORARY_FILE, modified, LOCK_FILE))
        elif is_temporary(path):
            held.append(Held(name, TEMPORARY_FILE, modified))
        elif name.startswith("."):
            continue
        elif before.get(name) != after[name]:
            held.append(Held(name, STILL_WRITING, modified))
        else:
            taken.append(path)
            if name in owners or name[2:] in owners:
                opened[name] = owners.get(name) or owners[name[2:]]
    return NightFiles(taken, held, opened)


def files_to_process(drop: Path, settle_seconds: float = 5.0) -> list[Path]:
    """The files `look` takes (the intraday pick-up's view of the drop folder), sorted by name."""
    return look(drop, settle_seconds).paths


def night_files(folders: Folders, as_of: date, settle_seconds: float = 5.0) -> NightFiles:
    """The night's files: those in the drop folder, and those a run of this night already moved to
    archive/<as-of>/ or quarantine/<as-of>/ (a re-run, or a run after one that was killed part-way) — they
    are read again for run.json and the rejects; the ledger keeps them from being recorded twice. A file
    left in the drop folder by a run killed inside its move is the same file (the night's move journal says so,
    `archive.finish_interrupted_move`): the move is finished. A re-drop of a file already moved is read: it is
    a duplicate (adapters/duplicates.py). Sorted by name, as a clean run takes them."""
    night_folders = [folders.archive / as_of.isoformat(), folders.quarantine / as_of.isoformat()]
    moved = [p for folder in night_folders for p in archive.originals_in(folder)]
    files = list(moved)
    found = look(folders.drop, settle_seconds)
    for path in found.paths:
        if archive.finish_interrupted_move(path, archive.journal_path(folders.history, as_of)):
            continue
        files.append(path)
    return NightFiles(sorted(files, key=lambda p: (p.name, str(p))), found.held, found.opened)


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
