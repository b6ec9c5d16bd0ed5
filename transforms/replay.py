"""What a replay of past nights measures (issue #19, `genjin simulate`): the same nights' worklists, built by the
nightly transforms under two policies, counted per night, store and advisor, and scored against the touches
advisors actually logged. Pure functions of frames: the nights are built by the caller (flows/simulate.py).

`worklists` below is every night's worklist under every policy (WORKLIST_COLUMNS and the working columns of
`transforms.worklist.worklist_from`), with a `night` (date) and a `policy` (name) column.

The worklists carry the daily plan's columns (`transforms.plan.plan_worklist`, each night's plan counting
carried nights from the previous replayed night's plan under the same policy).

Measures (`COUNTS`; per night, then averaged over the nights, rates pooled over them):
- tasks, customers (per advisor: the customers on their list), overdue (days_overdue > 0), orphaned (work handed
  to a manager because its advisor left), and tasks per task type (`type:<task_type>`);
- per advisor's customers, as run.json and the digest count them (`transforms.plan.waiting_counts`): planned (in
  the day's plan, within the capacity), carried (waiting: open, not stale, not in the plan), stale (every task
  overdue past `[plan.stale_after_days]`: sent to the manager's review), escalated (a task carried past
  `[plan] escalate_after_nights`);
- due / on_time: the tasks that fell due that night (listed with 0 days overdue, whose window stays open past the
  night — a birthday, listed one day only, is left out), and of them those gone from the next night's list under
  the same policy (closed or moved by a touch logged that day); due_scored: `due` on the nights that are scored
  (the last night has no next night: on_time and due_scored are null there);
- first_contact / first_contact_met: the leads created that night, scored by the KPI report's first-response
  rule (`first_response_sla`: first follow-up on or before created_at + the policy's hours for the grade).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from transforms.kpis import GROUP, KPIS, Facts, Window

COUNTS = ("tasks", "customers", "planned", "carried", "escalated", "stale", "overdue", "orphaned", "due", "due_scored",
          "on_time", "first_contact", "first_contact_met")
RATES = {"on_time_rate": ("on_time", "due_scored"), "first_contact_rate": ("first_contact_met", "first_contact")}
TASK_KEY = ("task_type", "ref", "due_date")
LONG_SCHEMA = {"night": pl.Date, "policy": pl.String, "dimension": pl.String, "member": pl.String,
               "key": pl.String, "value": pl.Float64}
POLICY_NAMES = ("current", "proposed")


@dataclass(frozen=True)
class Replay:
    first: date
    last: date
    nights: list[date]
    policy_files: dict[str, str]  # current / proposed → the file shown to the reader
    changes: list[tuple[str, object, object]]  # key, current value, proposed value
    measures: pl.DataFrame  # transforms.replay.LONG_SCHEMA, every night
    summary: pl.DataFrame  # transforms.replay.summarise
    advisors: pl.DataFrame  # advisor_id, name, store, role, daily_capacity (the roster as of the last night)
    seconds: float



def task_units(worklists: pl.DataFrame, last: date) -> pl.DataFrame:
    """One row per listed task: night, policy, store, advisor_id, customer_id, task_type and the 0/1 columns
    overdue, orphaned, due, due_scored and on_time (those two null on `last`, the night with no next night)."""
    next_night = (
        worklists.select((pl.col("night") - timedelta(days=1)).alias("night"), "policy", *TASK_KEY)
        .unique()
        .with_columns(pl.lit(True).alias("listed_next"))
    )
    falls_due = (pl.col("days_overdue") == 0) & (
        pl.col("open_until").is_null() | (pl.col("open_until") > pl.col("night"))
    )
    return (
        worklists.join(next_night, on=["night", "policy", *TASK_KEY], how="left")
        .with_columns(
            (pl.col("days_overdue") > 0).cast(pl.Int64).alias("overdue"),
            pl.col("orphaned").fill_null(False).cast(pl.Int64).alias("orphaned"),
            falls_due.cast(pl.Int64).alias("due"),
        )
        .with_columns(
            pl.when(pl.col("night") >= pl.lit(last)).then(None)
            .otherwise((pl.col("due") == 1) & pl.col("listed_next").is_null())
            .cast(pl.Int64).alias("on_time"),
            pl.when(pl.col("night") >= pl.lit(last)).then(None).otherwise("due").alias("due_scored"),
        )
        .select("night", "policy", "store", "advisor_id", "customer_id", "task_type",
                "overdue", "orphaned", "due", "due_scored", "on_time")
    )


def first_contact_units(facts: Facts, policy: str, nights: Sequence[date]) -> pl.DataFrame:
    """The leads created on each of `nights` that the KPI report's first-response rule judges under the policy
    `facts` were built with (`transforms.kpis.build_facts` on the last night: every touch logged by then):
    night, policy, store, advisor_id, first_contact (1), first_contact_met (0/1)."""
    rule = KPIS["first_response_sla"].rows
    frames = [rule(facts, Window("night", night, night)).with_columns(pl.lit(night).alias("night"))
              for night in nights]
    return pl.concat(
        [pl.DataFrame(schema={"store": pl.String, "advisor_id": pl.String, "x": pl.Float64, "night": pl.Date}),
         *(f.select("store", "advisor_id", pl.col("x").cast(pl.Float64), "night") for f in frames)],
    ).select("night", pl.lit(policy).alias("policy"), "store", "advisor_id", pl.lit(1, pl.Int64).alias("first_contact"),
             pl.col("x").cast(pl.Int64).alias("first_contact_met"))


def _per_dimension(frame: pl.DataFrame, aggs: list[pl.Expr]) -> pl.DataFrame:
    """`aggs` per night and policy for the group, each store and each advisor, in the long shape."""
    names = [a.meta.output_name() for a in aggs]
    parts = [
        frame.group_by("night", "policy").agg(aggs)
        .with_columns(pl.lit("group").alias("dimension"), pl.lit(GROUP).alias("member")),
        frame.filter(pl.col("store").is_not_null()).group_by("night", "policy", "store").agg(aggs)
        .rename({"store": "member"}).with_columns(pl.lit("store").alias("dimension")),
        frame.filter(pl.col("advisor_id").is_not_null()).group_by("night", "policy", "advisor_id").agg(aggs)
        .rename({"advisor_id": "member"}).with_columns(pl.lit("advisor").alias("dimension")),
    ]
    return pl.concat([p.select("night", "policy", "dimension", "member", *names) for p in parts]).unpivot(
        index=["night", "policy", "dimension", "member"], variable_name="key", value_name="value"
    ).with_columns(pl.col("value").cast(pl.Float64))


def night_measures(worklists: pl.DataFrame, waiting: pl.DataFrame, first_contacts: pl.DataFrame,
                   last: date) -> pl.DataFrame:
    """Every measure per night, policy, dimension (group, store, advisor) and member, in the long shape
    (`LONG_SCHEMA`): the counts of `COUNTS` and `type:<task_type>`. `waiting`: `transforms.plan.waiting_counts`
    of each night's plan with its night and policy."""
    units = task_units(worklists, last)
    counts = _per_dimension(units, [
        pl.len().alias("tasks"),
        pl.struct("advisor_id", "customer_id").n_unique().alias("customers"),
        *(pl.col(c).sum().alias(c) for c in ("overdue", "orphaned", "due")),
        *(pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c)
          for c in ("on_time", "due_scored")),
    ])
    types = sorted(set(worklists["task_type"]))
    by_type = _per_dimension(units, [(pl.col("task_type") == t).sum().alias(f"type:{t}") for t in types])
    contacts = _per_dimension(first_contacts, [pl.col("first_contact").sum(), pl.col("first_contact_met").sum()])
    stores = worklists.select("advisor_id", "store").unique("advisor_id", keep="first")
    plans = _per_dimension(waiting.join(stores, on="advisor_id", how="left"), [
        pl.col("in_plan").sum().alias("planned"), pl.col("waiting").sum().alias("carried"),
        pl.col("stale").sum(), pl.col("escalated").sum(),
    ])
    return pl.concat([pl.DataFrame(schema=LONG_SCHEMA), counts, by_type, contacts, plans], how="vertical_relaxed")


def complete(measures: pl.DataFrame, nights: Sequence[date], policies: Sequence[str]) -> pl.DataFrame:
    """Every (night, policy) for every member seen on any night (an advisor, a store) and every key: a night
    where an advisor had nothing listed counts 0 (the on-time counts stay null on the unscored last night)."""
    frame = pl.DataFrame({"night": list(nights)}, schema={"night": pl.Date}).join(
        pl.DataFrame({"policy": list(policies)}), how="cross")
    members = measures.select("dimension", "member").unique().join(measures.select("key").unique(), how="cross")
    full = frame.join(members, how="cross").join(measures, on=["night", "policy", "dimension", "member", "key"],
                                                 how="left")
    unscored = pl.col("key").is_in(["on_time", "due_scored"]) & (pl.col("night") == pl.lit(max(nights)))
    return full.with_columns(
        pl.when(unscored).then(None).otherwise(pl.col("value").fill_null(0.0)).alias("value")
    ).sort("dimension", "member", "key", "night", "policy")


def summarise(measures: pl.DataFrame) -> pl.DataFrame:
    """Per policy, dimension, member and key over all nights: `per_night` (the mean of the nights' counts),
    `peak` (the largest night) and `total`; plus the pooled rates of `RATES` (total ÷ total, null with nothing
    to score) as keys of their own."""
    counts = measures.group_by("policy", "dimension", "member", "key").agg(
        pl.col("value").mean().alias("per_night"), pl.col("value").max().alias("peak"),
        pl.col("value").sum().alias("total"),
    )
    rates = []
    for rate, (num, den) in RATES.items():
        pair = counts.filter(pl.col("key").is_in([num, den])).pivot(
            on="key", index=["policy", "dimension", "member"], values="total"
        )
        for missing in {num, den} - set(pair.columns):
            pair = pair.with_columns(pl.lit(None, pl.Float64).alias(missing))
        rates.append(pair.select(
            "policy", "dimension", "member", pl.lit(rate).alias("key"),
            pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias("per_night"),
            pl.lit(None, pl.Float64).alias("peak"), pl.col(den).alias("total"),
        ))
    return pl.concat([counts, *rates], how="vertical_relaxed").sort("dimension", "member", "key", "policy")

