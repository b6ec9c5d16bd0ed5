"""`genjin backup DEST`: the history, ledgers, archive, quarantine, outputs and the store's settings files in one
file (adapters/backup.py), written under the run lock so that no night or pick-up changes them meanwhile."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

from adapters.backup import FOLDERS, BackupError, write_backup
from adapters.history import History
from adapters.lock import Busy, run_lock
from genjin.settings import Settings
from policy.loading import PolicyError, own_files

BUSY = 3  # exit code: another run holds the lock


def folders_of(settings: Settings) -> dict[str, Path]:
    return {name: getattr(settings, name) for name in FOLDERS}


def settings_files(settings: Settings) -> list[Path]:
    """The store's genjin.toml and its policy file(s) (the policy and any base it extends that is not shipped)."""
    found = [settings.config] if settings.config else []
    if settings.policy is not None:
        try:
            found += own_files(settings.policy)
        except PolicyError:
            found.append(settings.policy)  # backed up as it is; a restore does not read it
    return found


def locked(settings: Settings, wait_seconds: float, work: Callable[[], None]) -> int:
    """`work` under the run lock: 0 when it ran, 3 when a run held the lock, 2 when it refused; why on stderr."""
    try:
        with run_lock(settings.history, wait_seconds):
            work()
    except Busy as err:
        print(err, file=sys.stderr)
        return BUSY
    except BackupError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def main(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(settings.zone)
    dest: Path = args.dest
    if dest.is_dir():
        dest = dest / f"genjin-backup-{now:%Y%m%d-%H%M%S}.tar.gz"

    def backup() -> None:
        nights = History(settings.history).nights()
        written = write_backup(dest, folders_of(settings), settings_files(settings), genjin_version=version("genjin"),
                               created=now, last_night=nights[-1].isoformat() if nights else None)
        print(f"备份完成 / backup written: {written.path}")
        print(f"  {written.files} 个文件 / files · {written.bytes / 1e6:.1f} MB · "
              f"最后一晚 / last night: {written.last_night or '-'}")

    return locked(settings, args.wait_seconds, backup)
