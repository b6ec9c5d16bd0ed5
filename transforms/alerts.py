"""Intraday alerts (issue #18): which new leads must be called within the hour, who hears about them, and the
store group's morning summary. Pure functions of the night's state, the policy and the moment `now`; the
first-contact deadline is the worklist's own (`tasks_pipeline.call_by`).

- `hot_leads`: leads in the pipeline, not yet followed up, whose first-contact time (`due_hours` of their
  grade) is shorter than `alerts.within_hours` — S/A by default (1 h) — and whose call-by time is less than
  `STALE` before `now` (older ones are the worklist's: the day genjin is turned on does not alert for a
  year of backlog). Do-not-contact customers are left out.
- `advisor_alerts`: one per hot lead, to whoever works it (the lead's advisor, or their manager when the
  advisor left the roster — the worklist's routing, `assign`).
- `manager_alerts`: the hot leads still not followed up at `now` past their call-by time, to the advisor's
  manager (their own manager when active, else the store's first active manager).
- `is_quiet`: whether `now` falls in the policy's quiet hours (they may run past midnight).
- `group_summary`: per store and advisor, tonight's tasks, overdue tasks, complaints, overdue first contacts.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import polars as pl

from policy.model import PIPELINE_STAGES, Policy
from transforms.assign import UNASSIGNED, assign, with_manager
from transforms.night import Night
from transforms.tasks_pipeline import call_by

ALERT_COLUMNS = ("kind", "recipient_id", "lead_id", "store", "advisor_id", "customer_name", "phone", "source",
                 "model_interest", "grade", "created_at", "call_by")
STALE = timedelta(days=1)


def hot_leads(night: Night, policy: Policy, now: datetime) -> pl.LazyFrame:
    """lead_id, store, advisor_id, customer_name, phone, source, model_interest, grade, created_at, call_by."""
    hours = pl.col("grade").replace_strict(policy.tasks.first_contact.due_hours, return_dtype=pl.Int64)
    customers = night.customers.select("customer_id", "customer_name", "phone", "do_not_contact")
    return (
        night.leads.filter(
            pl.col("stage").is_in(PIPELINE_STAGES) & (pl.col("n_followups") == 0)
            & (hours < policy.alerts.within_hours)
        )
        .join(customers, on="customer_id", how="left")
        .filter(~pl.col("do_not_contact").fill_null(False))
        .select(
            "lead_id", "store", "advisor_id", "customer_name", "phone", "source", "model_interest", "grade",
            "created_at", call_by(pl.col("created_at"), pl.col("grade"), policy).alias("call_by"),
        )
        .filter(pl.col("call_by") > pl.lit(now - STALE))
        .sort("call_by", "lead_id")
    )


def advisor_alerts(hot: pl.LazyFrame, advisors: pl.LazyFrame) -> pl.LazyFrame:
    """Each hot lead to whoever works it: its advisor, or (advisor gone) their manager."""
    routed = assign(hot, advisors).drop("orphaned", "original_advisor_id")
    return (
        routed.with_columns(pl.lit("advisor").alias("kind"), pl.col("advisor_id").alias("recipient_id"))
        .select(ALERT_COLUMNS)
        .sort("call_by", "lead_id")  # joins do not keep the hot leads' order
    )


def manager_alerts(hot: pl.LazyFrame, advisors: pl.LazyFrame, now: datetime) -> pl.LazyFrame:
    """The hot leads whose call-by time has passed at `now` with no follow-up, to the advisor's manager."""
    late = hot.filter(pl.col("call_by") <= pl.lit(now))
    return (
        with_manager(late, advisors, "recipient_id")
        .filter(pl.col("recipient_id") != UNASSIGNED)
        .with_columns(pl.lit("manager").alias("kind"))
        .select(ALERT_COLUMNS)
        .sort("call_by", "lead_id")  # joins do not keep the hot leads' order
    )


def is_quiet(moment: time, policy: Policy) -> bool:
    """Within the quiet hours `[quiet_from, quiet_until)`; a span past midnight (21:30–08:00) wraps."""
    start, end = policy.alerts.quiet_from, policy.alerts.quiet_until
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def group_summary(worklist: pl.DataFrame) -> pl.DataFrame:
    """store, advisor_id, tasks, overdue, complaints, first_contact_overdue — one row per advisor with tasks,
    most overdue first."""
    overdue = pl.col("days_overdue") > 0
    return (
        worklist.group_by("store", "advisor_id")
        .agg(
            pl.len().alias("tasks"),
            overdue.sum().alias("overdue"),
            (pl.col("task_type") == "complaint").sum().alias("complaints"),
            ((pl.col("task_type") == "first_contact") & overdue).sum().alias("first_contact_overdue"),
        )
        .with_columns(pl.col(c).cast(pl.Int64) for c in ("tasks", "overdue", "complaints", "first_contact_overdue"))
        .sort("store", "overdue", "tasks", "advisor_id", descending=[False, True, True, False])
    )
