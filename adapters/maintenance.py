"""Keep the history lean (`genjin maintain`, and weekly under `genjin serve`).

Every night appends one small file per kind, the intraday pick-up a few more every 15 minutes, and a re-run of a
night replaces that night's plan: the Delta tables grow in many small files and log entries. For each table under
history/: `optimize.compact()` rewrites the small files into few large ones (idempotent: a second run adds none);
`vacuum` deletes the files no version within `keep` needs; the table's log retention is set to `keep` as well
(time travel needs both the log and the files), then a checkpoint, and `cleanup_metadata()` drops older log entries.

What `keep` is for: genjin's own re-runs and backfills never read an older Delta version — a night reads the rows
of files loaded on or before it by the ledger's night, whatever the table's version — so they work after any
maintenance. `keep` is how long older versions stay readable for a person recovering by hand (time travel) and for
a reader that started before the maintenance (`genjin simulate` takes no lock): 7 days unless told otherwise,
never below 1 day. The caller holds the run lock, so no night or pick-up writes meanwhile (compact fails beside a
concurrent non-append write; PITFALLS "Delta Lake maintenance").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from deltalake import DeltaTable

from adapters import history_schema

DEFAULT_KEEP = timedelta(days=7)
MIN_KEEP = timedelta(days=1)
DELTA_DEFAULT_HOURS = 168  # below this, delta-rs wants enforce_retention_duration=False


@dataclass(frozen=True)
class Footprint:
    files: int  # every file of the table on disk: data files and log entries
    bytes: int
    live: int  # the data files the current version reads


@dataclass(frozen=True)
class Maintained:
    table: str
    before: Footprint
    after: Footprint
    compacted: int  # small files rewritten
    vacuumed: int  # files deleted
    note: str = ""


def footprint(table: Path) -> Footprint:
    files = [p for p in table.rglob("*") if p.is_file()]
    return Footprint(len(files), sum(p.stat().st_size for p in files), len(DeltaTable(str(table)).file_uris()))


def tables(history: Path) -> list[Path]:
    """The Delta tables under `history` (each a folder with a `_delta_log`), by name."""
    if not history.is_dir():
        return []
    return sorted(p for p in history.iterdir() if (p / "_delta_log").is_dir())


def maintain_table(path: Path, keep: timedelta = DEFAULT_KEEP) -> Maintained:
    """Compact, vacuum what no version within `keep` reads (the command never asks for less than MIN_KEEP; the
    benchmark asks for 0 to show the table once `keep` has passed), checkpoint, drop old log entries. A table with
    nothing to do gets no new commit (vacuum and checkpoint write to the log even then)."""
    before = footprint(path)
    table = DeltaTable(str(path))
    start = table.version()
    compacted = int(table.optimize.compact().get("numFilesRemoved", 0)) if before.live > 1 else 0
    note, vacuumed, hours = "", 0, int(keep.total_seconds() // 3600)
    if os.name == "nt" and table.metadata().partition_columns:
        note = "vacuum skipped: delta-rs does not vacuum partitioned tables on Windows"
    else:
        enforce = hours >= DELTA_DEFAULT_HOURS
        if table.vacuum(retention_hours=hours, enforce_retention_duration=enforce, dry_run=True):
            vacuumed = len(table.vacuum(retention_hours=hours, enforce_retention_duration=enforce, dry_run=False))
    retention = f"interval {hours} hours"  # the log kept as long as the files: time travel needs both
    if table.metadata().configuration.get("delta.logRetentionDuration") != retention:
        table.alter.set_table_properties({"delta.logRetentionDuration": retention})
    if table.version() != start:
        table.create_checkpoint()
    table.cleanup_metadata()
    return Maintained(path.name, before, footprint(path), compacted, vacuumed, note)


def maintain(history: Path, keep: timedelta = DEFAULT_KEEP) -> list[Maintained]:
    """Compact, vacuum and checkpoint every Delta table under `history`; the caller holds the run lock. A history a
    newer genjin wrote is left alone (HistoryTooNew)."""
    history_schema.check(history)
    return [maintain_table(path, keep) for path in tables(history)]
