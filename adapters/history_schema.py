"""The history's schema version, in `history/schema.json` (`{"history_schema": N}`), so that a genjin can tell a
history it can read from one a newer release wrote.

- 0: a history written before the version was kept. Read as it is: a table a later release added (the nights'
  plans, the managers' decisions) reads as empty, a column it added as empty in the older rows
  (adapters/history.py reads every table by column name).
- 1: the same tables; from here on the version is written with the first write of a genjin that knows it.

A later release that changes what a table holds raises CURRENT and upgrades an older history when it first writes
to it; a history with a higher version than CURRENT is refused with a message in Chinese and English (install the
release that wrote it, or a newer one), before anything is read or written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CURRENT = 1
FILE = "schema.json"


class HistoryTooNew(RuntimeError):
    def __init__(self, root: Path, found: int) -> None:
        super().__init__(
            f"历史库由更新版本的 genjin 写入（结构版本 {found}，本版本只认识到 {CURRENT}），请先升级 genjin / "
            f"the history at {root} was written by a newer genjin (schema {found}; this release knows up to "
            f"{CURRENT}): upgrade genjin first")


def version(root: Path) -> int:
    """The history's schema version: 0 for one written before the version was kept (or none yet)."""
    try:
        found = json.loads((root / FILE).read_text(encoding="utf-8"))["history_schema"]
    except (FileNotFoundError, NotADirectoryError):  # none yet (a folder that is a file: the folder checks say so)
        return 0
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"历史库结构版本文件无法读取 / cannot read {root / FILE}: {err}") from err
    if not isinstance(found, int):
        raise ValueError(f"历史库结构版本文件无法读取 / cannot read {root / FILE}: {found!r}")
    return found


def check(root: Path) -> int:
    """The version, when this release can read it; else HistoryTooNew."""
    found = version(root)
    if found > CURRENT:
        raise HistoryTooNew(root, found)
    return found


def stamp(root: Path) -> None:
    """Before a write: refuse a newer history, and mark an older one (or a new one) as this release's."""
    if check(root) == CURRENT:
        return
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{FILE}.{os.getpid()}"
    partial.write_text(json.dumps({"history_schema": CURRENT}) + "\n", encoding="utf-8")
    os.replace(partial, root / FILE)
