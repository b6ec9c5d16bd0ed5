"""Promises and attempts (SPEC §6b): what an advisor agreed with a customer is kept, and a call nobody answered is
an attempt, not a contact.

- A follow-up promises the day of its next_followup_at (下次跟进时间) when that day is after the follow-up's own,
  held at the follow-up + `[promises] max_promise_days`. Only the latest follow-up (of a lead, of a customer)
  counts: a later follow-up without a date ends the promise.
- Until the promised day a customer's `first_maintenance`, `care_call`, `win_back` and `trade_in` wait: one due
  earlier is due on the promised day, and its why says what was agreed (`keep_promises`).
- A promise to a won or owner customer that no open lead carries is a task of its own, `promised_call`.
- `reached`: a follow-up that reached the customer. An 未接通 counts for first contact and as a touch of a lead's
  cadence, but only a follow-up that reached the customer closes a complaint or a revisit and moves a care call
  or a win-back (transforms/tasks_aftersales.py `last_reached_dates`)."""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import PIPELINE_STAGES, Policy
from transforms.frames import format_text, in_time_order
from transforms.labels import day_label
from transforms.task_frame import task_frame

WAIT_FOR_PROMISE = ("first_maintenance", "care_call", "win_back", "trade_in")  # SPEC §6b: moved to the promised day
WHAT_AT_THE_VISIT = {"first_maintenance": "做首保", "trade_in": "谈置换"}  # 约定 11-28 到店做首保
SUMMARY_CHARS = 40  # a promised call's why quotes this much of the follow-up's summary (沟通内容)


def reached(policy: Policy) -> pl.Expr:
    """A follow-up that reached the customer: any outcome but the unreached one (未接通); a blank one counts."""
    return pl.col("outcome").fill_null("") != policy.grades.unreached_outcome


def promised_on(next_at: pl.Expr, contacted_at: pl.Expr, policy: Policy) -> pl.Expr:
    """The day a follow-up promised: its next follow-up's day when after the follow-up's own day, held at the
    follow-up + `max_promise_days`; null when it promised nothing (no date, or a date on or before its own)."""
    day, said = contacted_at.dt.date(), next_at.dt.date()
    held = day + pl.duration(days=policy.promises.max_promise_days)
    return pl.when(said > day).then(pl.min_horizontal(said, held))


def agreed(next_at: pl.Expr, contacted_at: pl.Expr, outcome: pl.Expr, policy: Policy, as_of: date,
           what: pl.Expr | None = None) -> pl.Expr:
    """What was agreed, as the why says it: `约定 11-28 再联系`, `约定 11-28 到店` after a booked visit (`what` said
    after 到店: `约定 11-28 到店做首保`), `计划 11-28 再联系` after a call nobody answered (nothing was agreed with
    the customer), a date held at `max_promise_days` saying both days. Null without a promise."""
    said = next_at.dt.date()
    kept = promised_on(next_at, contacted_at, policy)
    visit = outcome.is_in(policy.promises.visit_outcomes).fill_null(False)
    action = pl.when(visit).then(pl.lit("到店") + (pl.lit("") if what is None else what.fill_null(""))).otherwise(
        pl.lit("再联系"))
    word = pl.when(outcome == policy.grades.unreached_outcome).then(pl.lit("计划")).otherwise(pl.lit("约定"))
    held = format_text("（超过 {} 天，先在 {} 联系）", pl.lit(policy.promises.max_promise_days), day_label(kept, as_of))
    return pl.when(kept.is_not_null()).then(
        format_text("{} {} {}", word, day_label(said, as_of), action)
        + pl.when(said > kept).then(held).otherwise(pl.lit(""))
    )


def customer_promises(followups: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """customer_id → the promise of the customer's latest follow-up (none when it promised nothing):
    promised_on, and the follow-up's advisor_id, contacted_at, outcome, summary, next_followup_at, lead_ref."""
    latest = (
        in_time_order(followups, "contacted_at")
        .group_by("customer_id")
        .agg(pl.col("advisor_id", "contacted_at", "outcome", "summary", "next_followup_at", "lead_ref").last())
    )
    kept = promised_on(pl.col("next_followup_at"), pl.col("contacted_at"), policy)
    return latest.with_columns(kept.alias("promised_on")).filter(pl.col("promised_on").is_not_null())


def keep_promises(tasks: pl.LazyFrame, promises: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """Tasks of WAIT_FOR_PROMISE due before their customer's promised day are due on it, the why first saying what
    was agreed; one whose window closes before that day is dropped (it is not listed before the promise, and
    then it is too late). Before `transforms.calendar.on_open_days`, which would stretch the window.
    Adds `promised`: the task is due on the day the customer was promised (a lead's follow-up on its agreed day,
    a task moved to it, a `promised_call`), for `[[plan.urgency]] promised`."""
    said = agreed(pl.col("__next_at"), pl.col("__contacted_at"), pl.col("__outcome"), policy, as_of,
                  pl.col("task_type").replace_strict(WHAT_AT_THE_VISIT, default=""))
    waits = pl.col("task_type").is_in(WAIT_FOR_PROMISE) & (pl.col("due_date") < pl.col("promised_on"))
    moved = waits.fill_null(False)
    return (
        tasks.join(
            promises.select("customer_id", "promised_on", pl.col("next_followup_at").alias("__next_at"),
                            pl.col("contacted_at").alias("__contacted_at"), pl.col("outcome").alias("__outcome")),
            on="customer_id", how="left", maintain_order="left",
        )
        .with_columns(
            pl.when(moved).then(pl.col("promised_on")).otherwise(pl.col("due_date")).alias("due_date"),
            pl.when(moved).then(format_text("{}；{}", said, "reason")).otherwise(pl.col("reason")).alias("reason"),
        )
        .with_columns((pl.col("due_date") == pl.col("promised_on")).fill_null(False).alias("promised"))
        .filter(pl.col("open_until").is_null() | (pl.col("due_date") <= pl.col("open_until")))
        .drop("promised_on", "__next_at", "__contacted_at", "__outcome")
    )


def promised_call(customers: pl.LazyFrame, leads: pl.LazyFrame, promises: pl.LazyFrame, policy: Policy,
                  as_of: date) -> pl.LazyFrame:
    """Per won or owner customer whose promise no open lead carries (its follow-up names no lead, or a closed
    one): `promised_call` of the advisor who logged the follow-up, due on the promised day, open until a later
    follow-up (which replaces or ends the promise); the why quotes the follow-up's summary."""
    open_leads = leads.filter(pl.col("stage").is_in(PIPELINE_STAGES)).select(
        pl.col("lead_id").alias("lead_ref"), pl.lit(True).alias("__open"))
    rows = (
        promises.join(customers.filter(pl.col("stage").is_in(["won", "owner"])).select("customer_id", "store"),
                      on="customer_id")
        .join(open_leads, on="lead_ref", how="left")
        .filter(~pl.col("__open").fill_null(False))
    )
    summary = pl.col("summary").str.strip_chars().fill_null("")
    quoted = pl.when(summary.str.len_chars() > SUMMARY_CHARS).then(
        summary.str.slice(0, SUMMARY_CHARS) + pl.lit("…")).otherwise(summary)
    reason = format_text(
        "{} {}", day_label(pl.col("contacted_at").dt.date(), as_of),
        agreed(pl.col("next_followup_at"), pl.col("contacted_at"), pl.col("outcome"), policy, as_of),
    ) + pl.when(summary != "").then(format_text(" “{}”", quoted)).otherwise(pl.lit(""))
    return task_frame(
        rows, "promised_call", due=pl.col("promised_on"), priority=pl.lit(policy.tasks.promised_call.priority),
        reason=reason, ref=pl.col("customer_id"),
    )
