"""The manager's chase list (issue #16), in the order the digest leads with it: open complaints, new leads
past their first-contact time, hot (S/A by default) leads overdue; and who returned yesterday's workbook."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from policy.model import Policy
from schemas.returned_worklist import RETURNED

CHASE = ("complaint", "first_contact", "hot_overdue")


def chase_list(worklist: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The worklist's tasks a manager chases today, with `chase` (one of CHASE), in CHASE order, the oldest
    first. Every task on the worklist is due on or before D, so every first contact there is past its time."""
    hot = pl.col("grade").is_in(policy.review.hot_grades) & (pl.col("days_overdue") > 0)
    chase = (
        pl.when(pl.col("task_type") == "complaint").then(pl.lit("complaint"))
        .when(pl.col("task_type") == "first_contact").then(pl.lit("first_contact"))
        .when((pl.col("task_type") == "followup") & hot).then(pl.lit("hot_overdue"))
    )
    order = pl.col("chase").replace_strict({c: i for i, c in enumerate(CHASE)}, return_dtype=pl.Int64)
    return (
        worklist.with_columns(chase.alias("chase"))
        .filter(pl.col("chase").is_not_null())
        .sort([order, pl.col("days_overdue"), pl.col("priority")], descending=[False, True, False],
              maintain_order=True)
    )


def returned_workbooks(followups: pl.LazyFrame, planned: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """advisor_id, planned (rows of the workbook they got last night), filled (rows of it they filled in and
    dropped back: follow-ups from a returned workbook dated D−1 or D). `planned`: advisor_id, planned."""
    since = as_of - timedelta(days=1)
    filled = (
        followups.filter(
            (pl.col("entry") == RETURNED) & pl.col("contacted_at").dt.date().is_between(since, as_of)
        )
        .group_by("advisor_id")
        .agg(pl.len().cast(pl.Int64).alias("filled"))
        .collect()
    )
    return (
        planned.join(filled, on="advisor_id", how="full", coalesce=True)
        .with_columns(pl.col("planned", "filled").fill_null(0).cast(pl.Int64))
        .sort("advisor_id")
    )
