"""`run.json`: what the night did with each file, and what it produced (SPEC §9)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from adapters.ingest import FileLoad, add_counts
from transforms.plan import PLAN_COLUMNS, plan_counts


class AccountingError(RuntimeError):
    """rows_in ≠ rows_loaded + rows_rejected: a row went missing. Never silent."""


def file_entry(load: FileLoad) -> dict[str, Any]:
    entry = {
        "name": load.name,
        "kind": load.kind or None,
        "sha256": load.sha256,
        "rows_in": load.rows_in,
        "rows_loaded": load.rows_loaded,
        "rows_rejected": load.rows_rejected,
        "status": load.status,
    }
    if load.why:
        entry["why"] = load.why
    if load.duplicate_of:
        entry["duplicate_of"] = load.duplicate_of
    if load.skipped_sheets:
        entry["skipped_sheets"] = load.skipped_sheets
    if load.rows_not_worked:  # a returned worklist's rows left empty: counted, neither loaded nor rejected
        entry["rows_not_worked"] = load.rows_not_worked
        entry["not_worked"] = load.not_worked
    if load.rows_undecided:  # a review workbook's rows with 决定 empty: counted, neither loaded nor rejected
        entry["rows_undecided"] = load.rows_undecided
        entry["undecided"] = load.undecided
    if load.rows_warned:  # loaded rows of which one cell was dropped, listed in the rejects workbook
        entry["rows_warned"] = load.rows_warned
    blank = load.rows_not_worked + load.rows_undecided
    if entry["rows_in"] != entry["rows_loaded"] + entry["rows_rejected"] + blank:
        raise AccountingError(f"{load.name}: rows_in {load.rows_in} ≠ loaded {load.rows_loaded} + "
                              f"rejected {load.rows_rejected} + not worked {load.rows_not_worked} + "
                              f"undecided {load.rows_undecided}")
    return entry


def left_blank(files: list[dict[str, Any]], key: str) -> dict[str, int]:
    """Per person, the night's rows left empty (`key`: "not_worked" per advisor, "undecided" per manager)."""
    return add_counts(f.get(key, {}) for f in files)


def summary(as_of: date, files: list[dict[str, Any]], worklist: pl.DataFrame, emails: dict[str, Any],
            durations: dict[str, float], failures: list[dict[str, Any]] | None = None,
            held: list[dict[str, Any]] | None = None,
            warnings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`failures`: what failed for one file or one advisor while the night went on (adapters/failures.py);
    `held`: files left for the next night; `warnings`: transforms.warnings. `not_worked`: per advisor, the
    rows of the night's returned worklists left empty (schemas/returned_worklist.py); `undecided`: per manager,
    the rows of the night's review workbooks whose 决定 was left empty (schemas/decisions.py)."""
    by_type = dict(worklist.group_by("task_type").len().sort("task_type").iter_rows())
    return {
        "as_of": as_of.isoformat(),
        "files": files,
        "held": held or [],
        "warnings": warnings or [],
        "not_worked": left_blank(files, "not_worked"),
        "undecided": left_blank(files, "undecided"),
        "tasks": {
            "total": worklist.height,
            "overdue": int((worklist["days_overdue"] > 0).sum()),
            "orphaned": int(worklist["orphaned"].sum()),
            "advisors": worklist["advisor_id"].n_unique(),
            "by_type": by_type,
        },
        **({"plan": plan_counts(worklist)} if set(PLAN_COLUMNS) <= set(worklist.columns) else {}),
        "emails": emails,
        "failures": failures or [],
        "durations_s": {k: round(v, 3) for k, v in durations.items()},
    }


def write_run_json(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
