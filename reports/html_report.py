"""`report.html`: the manager's view of the night (a first version: counts per store, advisor and task)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from reports.templating import render
from transforms.views import advisor_counts, task_label


def report_context(worklist: pl.DataFrame, advisors: pl.DataFrame, files: list[dict[str, Any]],
                   as_of: date) -> dict[str, Any]:
    per_advisor = advisor_counts(worklist).join(
        advisors.select("advisor_id", "name"), on="advisor_id", how="left"
    )
    per_store = per_advisor.group_by("store").agg(pl.col("tasks", "overdue", "orphaned").sum()).join(
        worklist.group_by("store").agg(pl.col("customer_id").n_unique().alias("customers")), on="store"
    ).sort("store")
    per_type = (
        worklist.group_by("task_type")
        .agg(pl.len().alias("tasks"), (pl.col("days_overdue") > 0).sum().alias("overdue"), pl.col("priority").min())
        .sort("priority", "task_type")
        .with_columns(task_label().alias("label"))
    )
    return {
        "as_of": as_of.isoformat(),
        "totals": {
            "tasks": worklist.height,
            "customers": worklist["customer_id"].n_unique(),
            "overdue": int((worklist["days_overdue"] > 0).sum()),
            "orphaned": int(worklist["orphaned"].sum()),
        },
        "stores": per_store.to_dicts(),
        "advisors": per_advisor.to_dicts(),
        "task_types": per_type.to_dicts(),
        "files": files,
    }


def write_report(context: dict[str, Any], path: Path) -> Path:
    path.write_text(render("report.html.j2", **context), encoding="utf-8")
    return path
