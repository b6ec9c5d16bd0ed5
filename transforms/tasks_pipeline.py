"""Pipeline tasks, per lead (SPEC §6): `first_contact` until a lead's first follow-up, `followup` after it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from policy.model import PIPELINE_STAGES, Policy
from transforms.frames import format_text
from transforms.labels import STAGE_LABELS, day_label, moment_label
from transforms.promises import agreed, promised_on
from transforms.task_frame import task_frame

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then


def measured_from(created_at: pl.Expr, policy: Policy) -> pl.Expr:
    """When the first-response clock starts: `created_at`, or with store hours set, the next opening for a
    lead arriving after closing (or before opening)."""
    if policy.hours is None:
        return created_at
    opens, closes = policy.hours.open, policy.hours.close
    day = created_at.dt.date()
    clock = created_at.dt.time()
    return (
        pl.when(clock < opens).then(day.dt.combine(opens))
        .when(clock > closes).then((day + pl.duration(days=1)).dt.combine(opens))
        .otherwise(created_at)
    )


def call_by(created_at: pl.Expr, grade: pl.Expr, policy: Policy) -> pl.Expr:
    """The first-contact deadline as a moment: the clock's start (`measured_from`) + the grade's `due_hours`.
    The worklist's `first_contact` is due on its date; an intraday alert names the time itself."""
    hours = grade.replace_strict(policy.tasks.first_contact.due_hours, return_dtype=pl.Int64)
    return measured_from(created_at, policy) + pl.duration(hours=hours)


def first_contact(lead_state: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    rule = policy.tasks.first_contact
    due = call_by(pl.col("created_at"), pl.col("grade"), policy).dt.date()
    reason = format_text(
        "{} {} 留资，{}级{}，还没联系", pl.col("source").fill_null("新线索"),
        moment_label(pl.col("created_at"), as_of), "grade",
        pl.when(pl.col("model_interest").is_not_null()).then(pl.lit("，想看 ") + pl.col("model_interest"))
        .otherwise(pl.lit("")),
    )
    return task_frame(
        lead_state.filter(pl.col("stage").is_in(PIPELINE_STAGES) & (pl.col("n_followups") == 0)),
        "first_contact", due=due, priority=pl.lit(rule.priority), reason=reason, ref=pl.col("lead_id"),
    )


def _priority(policy: Policy) -> pl.Expr:
    rules = policy.tasks.followup.priority
    expr: Then | ChainedThen = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Int64))
    for rule in rules:
        cond = pl.lit(True)
        if rule.stages:
            cond = cond & pl.col("stage").is_in(rule.stages)
        if rule.grades:
            cond = cond & pl.col("grade").is_in(rule.grades)
        expr = expr.when(cond).then(pl.lit(rule.priority))
    return expr.otherwise(pl.lit(rules[-1].priority))


def by_sequence(policy: Policy) -> pl.Expr:
    """The interval after the n-th follow-up (`n_followups`): `sequence_days[n − 1]`; past its end
    `sequence_repeat_days` over and over (else the last of `sequence_days`)."""
    rule = policy.tasks.followup
    seq, repeat = rule.sequence_days, rule.sequence_repeat_days
    n = pl.col("n_followups").cast(pl.Int64)
    in_sequence = n.replace_strict({i + 1: d for i, d in enumerate(seq)}, default=None, return_dtype=pl.Int64)
    after = (
        ((n - len(seq) - 1) % len(repeat)).replace_strict(dict(enumerate(repeat)), default=None, return_dtype=pl.Int64)
        if repeat
        else pl.lit(seq[-1], dtype=pl.Int64)
    )
    return pl.when(n <= len(seq)).then(in_sequence).otherwise(after)


def interval_days(policy: Policy) -> pl.Expr:
    """The shorter of the grade's and the stage's interval; a stage with no interval uses the grade's alone,
    and `dormant` uses its own (SPEC §6)."""
    rule = policy.tasks.followup
    by_grade = pl.col("grade").replace_strict(rule.grade_interval_days, return_dtype=pl.Int64)
    by_stage = pl.col("stage").replace_strict(rule.stage_interval_days, default=None, return_dtype=pl.Int64)
    if rule.sequence_days:
        return pl.when(pl.col("stage") == "dormant").then(pl.coalesce(by_stage, by_sequence(policy))).otherwise(
            by_sequence(policy)
        )
    return (
        pl.when(pl.col("stage") == "dormant")
        .then(pl.coalesce(by_stage, by_grade))
        .otherwise(pl.min_horizontal(by_grade, by_stage))
    )


def followup(lead_state: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """Due last touch + the interval, or on the day the latest follow-up promised, earlier or later (SPEC §6b)."""
    last_touch = pl.max_horizontal("created_at", "last_contacted_at").dt.date()
    by_interval = last_touch + pl.duration(days=interval_days(policy))
    promised = promised_on(pl.col("planned_at"), pl.col("last_contacted_at"), policy)
    said = agreed(pl.col("planned_at"), pl.col("last_contacted_at"), pl.col("last_outcome"), policy, as_of)
    stage_label = pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage"))
    reason = format_text(
        "{}·{}级，上次 {} {}{}", stage_label, "grade", day_label(last_touch, as_of),
        pl.col("last_outcome").fill_null("联系"),
        pl.when(said.is_not_null()).then(pl.lit("，") + said).otherwise(pl.lit("")),
    )
    return task_frame(
        lead_state.filter(pl.col("stage").is_in(PIPELINE_STAGES) & (pl.col("n_followups") > 0)),
        "followup", due=pl.coalesce(promised, by_interval), priority=_priority(policy), reason=reason,
        ref=pl.col("lead_id"),
    )
