"""One run at a time: an exclusive OS lock on `history/.genjin.lock`, through filelock — `flock` on POSIX,
`LockFileEx` on Windows. The OS releases it when the holder exits, however it exits (kill -9 included), so a
stale lock never blocks the next night. The file stays in place (two processes must lock the same file, PITFALLS
"File locks"); the holder writes its pid into it for the message of a run that finds it busy. No soft (marker
file) fallback on a file system without `flock`: a crashed run's marker would block every later night. Only where
the OS has no native lock at all (neither `fcntl` nor Windows) does filelock's marker lock stand in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, SoftFileLock, Timeout

LOCK_NAME = ".genjin.lock"
NATIVE = not issubclass(FileLock, SoftFileLock)  # filelock's pick: Windows, or POSIX with flock


class Busy(RuntimeError):
    """Another run holds the lock and did not let go within the wait."""

    def __init__(self, path: Path, waited: float, holder: str) -> None:
        self.path, self.waited, self.holder = path, waited, holder
        who = f"（进程 pid {holder}）" if holder else ""
        super().__init__(
            f"另一个 genjin 正在运行{who}，等待 {waited:g} 秒后退出；请稍后再运行。/ "
            f"another genjin run is in progress{f' (pid {holder})' if holder else ''}; "
            f"gave up after waiting {waited:g} s — run again later (or pass --wait-seconds). Lock: {path}"
        )


def lock_path(history: Path) -> Path:
    return history / LOCK_NAME


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode())


def _holder(path: Path) -> str:
    """The pid the holder wrote, when the OS lets a reader see it (Windows locks the bytes: then none)."""
    try:
        return path.read_text(encoding="ascii", errors="replace").strip().split("\n")[0][:32]
    except OSError:
        return ""


@contextmanager
def run_lock(history: Path, wait_seconds: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold the run lock for the block; wait up to `wait_seconds` for it (0 = stop at once), else `Busy`."""
    history.mkdir(parents=True, exist_ok=True)
    path = lock_path(history)
    lock = (FileLock(path, timeout=max(wait_seconds, 0.0), poll_interval=poll, fallback_to_soft=False,
                     preserve_lock_file=True, on_acquired=_write_pid) if NATIVE
            else FileLock(path, timeout=max(wait_seconds, 0.0), poll_interval=poll))
    try:
        lock.acquire()
    except Timeout:
        raise Busy(path, wait_seconds, _holder(path)) from None
    try:
        yield path
    finally:
        lock.release()
