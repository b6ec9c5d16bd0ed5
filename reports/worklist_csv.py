"""`worklist.csv`: one row per task, UTF-8 with BOM so that Excel opens it (SPEC §9): SPEC §9's columns, then
the plan's (transforms/plan.py PLAN_COLUMNS) when the worklist carries them. Phones as people write them
(reports/phones.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from reports.cells import csv_safe_expr
from reports.phones import with_display_phones
from transforms.plan import PLAN_COLUMNS
from transforms.worklist import WORKLIST_COLUMNS


def guard_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Text that Excel would run as a formula gets a leading apostrophe; control characters show
    (reports/cells.py)."""
    return frame.with_columns(csv_safe_expr(c) for c, dtype in frame.schema.items() if dtype == pl.String)


def write_worklist_csv(worklist: pl.DataFrame, path: Path) -> Path:
    columns = [*WORKLIST_COLUMNS, *(c for c in PLAN_COLUMNS if c in worklist.columns)]
    frame = worklist.select(columns).pipe(with_display_phones).pipe(guard_text)
    path.write_bytes(b"\xef\xbb\xbf" + frame.write_csv(date_format="%Y-%m-%d").encode("utf-8"))
    return path
