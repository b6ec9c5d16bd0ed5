"""One run at a time (issue #5): an exclusive `fcntl.flock` on `history/.genjin.lock`. The kernel releases it
when the holder exits, however it exits (kill -9 included), so a stale lock never blocks the next night."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".genjin.lock"


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


@contextmanager
def run_lock(history: Path, wait_seconds: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold the run lock for the block; wait up to `wait_seconds` for it (0 = stop at once), else `Busy`."""
    history.mkdir(parents=True, exist_ok=True)
    path = lock_path(history)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                    raise Busy(path, wait_seconds, holder) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # who holds it, for the message of a run that waits
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
