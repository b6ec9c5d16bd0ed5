"""The one shape every task generator returns, so that the worklist can stack them."""

from __future__ import annotations

import polars as pl

TASK_SCHEMA = {
    "task_type": pl.String,
    "customer_id": pl.String,
    "lead_id": pl.String,
    "ref": pl.String,  # the lead, order or repair order the task is about
    "store": pl.String,
    "advisor_id": pl.String,
    "due_date": pl.Date,
    "open_until": pl.Date,  # last day the task can be listed; null = until it is done
    "priority": pl.Int64,
    "grade": pl.String,
    "stage": pl.String,
    "reason": pl.String,
}


def task_frame(
    rows: pl.LazyFrame,
    task_type: str,
    *,
    due: pl.Expr,
    priority: pl.Expr,
    reason: pl.Expr,
    ref: pl.Expr,
    advisor: pl.Expr | None = None,
    open_until: pl.Expr | None = None,
) -> pl.LazyFrame:
    """`rows` must carry customer_id and store; lead rows also lead_id, grade, stage, advisor_id."""
    names = rows.collect_schema().names()

    def col_or_null(name: str) -> pl.Expr:
        return pl.col(name) if name in names else pl.lit(None, dtype=TASK_SCHEMA[name]).alias(name)

    return rows.select(
        pl.lit(task_type).alias("task_type"),
        pl.col("customer_id"),
        col_or_null("lead_id"),
        ref.alias("ref"),
        pl.col("store"),
        (advisor if advisor is not None else pl.col("advisor_id")).alias("advisor_id"),
        due.alias("due_date"),
        (open_until if open_until is not None else pl.lit(None, dtype=pl.Date)).alias("open_until"),
        priority.cast(pl.Int64).alias("priority"),
        col_or_null("grade"),
        col_or_null("stage"),
        reason.alias("reason"),
    ).cast(TASK_SCHEMA)  # type: ignore[arg-type]
