"""`worklist.csv`: one row per task, UTF-8 with BOM so that Excel opens it (SPEC §9): SPEC §9's columns, then
the plan's (transforms/plan.py PLAN_COLUMNS) when the worklist carries them. Phones as people write them
(schemas/phones.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from reports.cells import csv_safe_expr
from schemas.phones import with_shown_phones
from transforms.plan import PLAN_COLUMNS
from transforms.worklist import WORKLIST_COLUMNS


def guard_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Text that Excel would run as a formula gets a leading apostrophe; control characters show
    (reports/cells.py)."""
    return frame.with_columns(csv_safe_expr(c) for c, dtype in frame.schema.items() if dtype == pl.String)


def write_worklist_csv(worklist: pl.DataFrame, path: Path) -> Path:
    columns = [*WORKLIST_COLUMNS, *(c for c in PLAN_COLUMNS if c in worklist.columns)]
    frame = worklist.select(columns).pipe(with_shown_phones).pipe(guard_text)
    path.write_bytes(b"\xef\xbb\xbf" + frame.write_csv(date_format="%Y-%m-%d").encode("utf-8"))
    return path


def planned_rows(path: Path) -> pl.DataFrame:
    """advisor_id, planned: the customers of each advisor's workbook of an earlier night, from that night's
    worklist.csv (only the plan's rows when it has the plan's `in_plan` column); empty when there is none."""
    empty = pl.DataFrame(schema={"advisor_id": pl.String, "planned": pl.Int64})
    if not path.is_file():
        return empty
    rows = pl.read_csv(path, infer_schema_length=0, encoding="utf8")
    if "in_plan" in rows.columns:
        rows = rows.filter(pl.col("in_plan").str.to_lowercase().is_in(["true", "1", "是"]))
    if not {"advisor_id", "customer_id"} <= set(rows.columns):
        return empty
    return rows.group_by("advisor_id").agg(pl.col("customer_id").n_unique().cast(pl.Int64).alias("planned"))
