"""The manager's chase list (issue #16), in the order the digest leads with it: open complaints, new leads
past their first-contact time, hot (S/A by default) leads overdue; the team's other overdue customers and the
customers handed over to the manager; and who returned yesterday's workbook.

The chase list is what can still be saved: every open complaint is named, the oldest first (a complaint never
goes stale); in every other section the most saveable comes first — the most urgent task, then the fewest
days overdue (a lead 3 days late before one 675 days late). Work past its stale limit (`stale`,
`[plan.stale_after_days]`) is the manager's review's: `listed` is false, and the digest counts it without
naming it. No customer is named twice in one digest (`once`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from policy.model import Policy
from schemas.returned_worklist import RETURNED
from transforms.views import per_customer, task_label

CHASE = ("complaint", "first_contact", "hot_overdue")


def _listed(worklist: pl.DataFrame) -> pl.Expr:
    return ~pl.col("stale") if "stale" in worklist.columns else pl.lit(True)


def chase_list(worklist: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The worklist's tasks a manager chases today, one row per (chase, advisor, customer) with `chase` (one of
    CHASE), `listed` (not stale) and `reasons` (each of the customer's tasks of that chase, e.g. two complaints),
    in CHASE order: complaints the oldest first, the others the most recent first. Every task on the worklist is
    due on or before D, so every first contact there is past its time."""
    hot = pl.col("grade").is_in(policy.review.hot_grades) & (pl.col("days_overdue") > 0)
    chase = (
        pl.when(pl.col("task_type") == "complaint").then(pl.lit("complaint"))
        .when(pl.col("task_type") == "first_contact").then(pl.lit("first_contact"))
        .when((pl.col("task_type") == "followup") & hot).then(pl.lit("hot_overdue"))
    )
    order = pl.col("chase").replace_strict({c: i for i, c in enumerate(CHASE)}, return_dtype=pl.Int64)
    oldest_first = pl.when(pl.col("chase") == "complaint").then(-pl.col("days_overdue")).otherwise("days_overdue")
    return (
        worklist.with_columns(chase.alias("chase"), _listed(worklist).alias("listed"))
        .filter(pl.col("chase").is_not_null())
        .sort([order, ~pl.col("listed"), oldest_first, pl.col("priority"), pl.col("customer_id")],
              maintain_order=True)
        .group_by("chase", "advisor_id", "customer_id", maintain_order=True)
        .agg(pl.all().exclude("reason").first(), pl.col("reason").alias("reasons"))
    )


def overdue_customers(work: pl.DataFrame) -> pl.DataFrame:
    """One row per (advisor, customer) with a task overdue and not stale, the most saveable first: the most
    urgent task (priority), then the fewest days overdue."""
    live = work.filter((pl.col("days_overdue") > 0) & _listed(work))
    return per_customer(live).sort(["priority", "days_overdue", "customer_id"], maintain_order=True)


def handed_over(work: pl.DataFrame, manager_id: str) -> pl.DataFrame:
    """The customers handed over to the manager (on their own list: the advisor left or is not in the roster),
    one row each: its tasks (`tasks`), who had it (`originals`), `listed` (a task not stale), and the due date
    and days overdue of its most saveable task; the listed first, the most saveable first."""
    order = [~pl.col("listed"), pl.col("priority"), pl.col("days_overdue"), pl.col("customer_id")]
    return (
        work.filter((pl.col("advisor_id") == manager_id) & pl.col("orphaned"))
        .with_columns(task_label().alias("label"), _listed(work).alias("listed"))
        .sort(order, maintain_order=True)
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("customer_name", "phone", "due_date", "days_overdue", "priority", "listed").first(),
            pl.col("label").unique(maintain_order=True).str.join("、").alias("tasks"),
            pl.col("original_advisor_id").unique(maintain_order=True).alias("originals"),
        )
        .sort(order, maintain_order=True)
    )


def once(sections: Sequence[pl.DataFrame]) -> list[pl.DataFrame]:
    """Each frame (customer_id column) without the customers of the frames before it: a digest names a
    customer once, in the first section that has them."""
    seen = pl.Series("customer_id", [], pl.String)
    out = []
    for frame in sections:
        kept = frame.filter(~pl.col("customer_id").is_in(seen.implode()))
        out.append(kept)
        seen = pl.concat([seen, kept["customer_id"]])
    return out


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
