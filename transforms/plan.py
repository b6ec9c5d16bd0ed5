"""The advisor's daily plan (issue #15): of every open task on D, the customers one advisor can reach today.

`plan_worklist` adds PLAN_COLUMNS to the worklist (transforms/worklist.py), one value per task:

- `urgency`: the policy's urgency class of the task (`[[plan.urgency]]`, the first one it matches).
- `stale`: overdue longer than `[plan.stale_after_days]` of its task type: it leaves the advisor's plan for the
  manager's review, and stays in worklist.csv.
- `plan_rank`: the customer's place in the advisor's queue (1 = first call of the day); every task of a customer
  has the customer's rank (a customer with several tasks is one call, counted once against the capacity).
  Customers are ordered by their most urgent task: its class, then the class's `order` keys, then customer_id
  (a hash of the phone: the same night after night). Null for a stale task; a customer whose every task is
  stale has no rank.
- `in_plan`: `plan_rank` ≤ the advisor's capacity — the roster's 每日上限, else `[plan] default_capacity` of the
  advisor's role, else `fallback_capacity` for an advisor the roster does not list.
- `carried_nights`: how many nights the task has been waiting: 0 the first night it is listed; on a later night,
  the previous plan's count plus the nights since that plan (`previous`: the last stored plan before D, see
  adapters/history.py). A task done (gone from the worklist) leaves; if it comes back it starts again at 0. It
  never exceeds the task's days overdue — nothing waits before it is due: a lead followed up yesterday and due
  again today waits 0 nights, not yesterday's count + 1, and a reassigned task, due no earlier than the
  reassignment's effective date (transforms/decisions.py), counts from that date like a fresh task.
- `escalated`: `carried_nights` > `[plan] escalate_after_nights`: the manager is told (the task stays in the
  advisor's queue).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy, UrgencyClass
from transforms.frames import ENGINE
from transforms.night import Night
from transforms.rfm import segment_owners
from transforms.views import per_customer

PLAN_COLUMNS = ("in_plan", "plan_rank", "carried_nights", "escalated", "stale", "urgency")
# what a night's stored plan holds (adapters/history.py `plans`), enough to count the next night's carried nights
PLAN_KEY = ("task_type", "ref")
STORED_COLUMNS = ("advisor_id", "customer_id", *PLAN_KEY, *PLAN_COLUMNS)
PREVIOUS_SCHEMA = {"night": pl.Date, "task_type": pl.String, "ref": pl.String, "carried_nights": pl.Int64}
FAR = 1_000_000  # a sort key for "never": a task without a window never closes


def urgency_of(policy: Policy, as_of: date) -> pl.Expr:
    """The name of the first urgency class each task matches (the last class takes every task)."""
    classes = policy.plan.urgency

    def matches(c: UrgencyClass) -> pl.Expr:
        if c.promised:  # a task due on the day the customer was promised, whatever its type or grade
            return pl.col("promised") | listed(c)
        return listed(c)

    def listed(c: UrgencyClass) -> pl.Expr:
        expr = pl.lit(True)
        if c.task_types:
            expr = expr & pl.col("task_type").is_in(c.task_types)
        if c.grades:
            expr = expr & pl.col("grade").is_in(c.grades)
        if c.closes_within_days is not None:
            expr = expr & ((pl.col("open_until").cast(pl.Date) - pl.lit(as_of)).dt.total_days() <= c.closes_within_days)
        return expr

    expr = pl.lit(classes[-1].name)
    for c in reversed(classes[:-1]):
        expr = pl.when(matches(c).fill_null(False)).then(pl.lit(c.name)).otherwise(expr)
    return expr.alias("urgency")


def value_rank(policy: Policy) -> pl.Expr:
    """The customer's value to the store (1 best): its grade's, else its service segment's (`segment`)."""
    table = policy.plan.value
    unknown = max(table.values(), default=0) + 1
    by_grade = pl.col("grade").replace_strict(table, default=None, return_dtype=pl.Int64)
    by_segment = pl.col("segment").replace_strict(table, default=None, return_dtype=pl.Int64)
    return pl.coalesce(by_grade, by_segment, pl.lit(unknown, dtype=pl.Int64))


def order_keys(policy: Policy, as_of: date) -> list[pl.Expr]:
    """Sort keys, ascending, most urgent first: the class's position, then per class its `order` keys."""
    classes = policy.plan.urgency
    key_value = {
        "priority": pl.col("priority").cast(pl.Int64),
        "closes": (pl.col("open_until").cast(pl.Date) - pl.lit(as_of)).dt.total_days().fill_null(FAR),
        "value": value_rank(policy),
        "overdue": -pl.col("days_overdue").cast(pl.Int64),
    }
    position = pl.col("urgency").replace_strict({c.name: i for i, c in enumerate(classes)}, return_dtype=pl.Int64)
    keys = [position.alias("__k0")]
    for i in range(max(len(c.order) for c in classes)):
        expr = pl.lit(None, dtype=pl.Int64)
        for c in classes:
            if i < len(c.order):
                expr = pl.when(pl.col("urgency") == c.name).then(key_value[c.order[i]]).otherwise(expr)
        keys.append(expr.fill_null(0).alias(f"__k{i + 1}"))
    return keys


def is_stale(policy: Policy) -> pl.Expr:
    limits = policy.plan.stale_after_days
    limit = pl.col("task_type").replace_strict(limits, default=None, return_dtype=pl.Int64)
    return (pl.col("days_overdue") > limit).fill_null(False).alias("stale")


def capacities(advisors: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """advisor_id → capacity: the roster's daily_capacity (unless `[plan] roster_capacity = false`), else the
    role's default."""
    plan = policy.plan
    by_role = pl.col("role").replace_strict(plan.default_capacity, default=plan.fallback_capacity,
                                            return_dtype=pl.Int64)
    has_own = plan.roster_capacity and "daily_capacity" in advisors.columns
    own = pl.col("daily_capacity").cast(pl.Int64, strict=False) if has_own else None
    capacity = by_role if own is None else pl.coalesce(own, by_role)
    return advisors.select("advisor_id", capacity.alias("capacity")).unique("advisor_id", keep="last")


def plan_worklist(worklist: pl.DataFrame, advisors: pl.DataFrame, policy: Policy, as_of: date,
                  previous: pl.DataFrame | None = None, segments: pl.DataFrame | None = None) -> pl.DataFrame:
    """The worklist (`transforms.worklist.worklist_from`) with PLAN_COLUMNS at the end, in the worklist's order.

    `advisors`: the roster as known on D (advisor_id, role, daily_capacity). `previous`: the last plan stored
    before D (PREVIOUS_SCHEMA: its night and each task's carried_nights), none on a first night.
    `segments`: the owners' service segments (customer_id, segment; transforms/rfm.py), for `[plan.value]`."""
    previous = pl.DataFrame(schema=PREVIOUS_SCHEMA) if previous is None else previous
    segments = pl.DataFrame(schema={"customer_id": pl.String, "segment": pl.String}) if segments is None else segments
    before = previous.select(
        *PLAN_KEY,
        ((pl.lit(as_of) - pl.col("night")).dt.total_days() + pl.col("carried_nights")).alias("__carried"),
    ).unique(list(PLAN_KEY), keep="first")
    carried = pl.min_horizontal(pl.col("__carried").fill_null(0), pl.col("days_overdue")).cast(pl.Int64)
    promised = [] if "promised" in worklist.columns else [pl.lit(False).alias("promised")]  # one built without
    tasks = (
        worklist.with_row_index("__row").with_columns(promised)
        .join(segments.select("customer_id", "segment").unique("customer_id"), on="customer_id", how="left")
        .join(before, on=list(PLAN_KEY), how="left")
        .with_columns(urgency_of(policy, as_of), is_stale(policy), carried.alias("carried_nights"))
        .with_columns(order_keys(policy, as_of))
    )
    keys = [c for c in tasks.columns if c.startswith("__k")]
    queue = (
        tasks.filter(~pl.col("stale"))
        .sort([*keys, "customer_id", "task_type", "ref"])
        .group_by("advisor_id", "customer_id", maintain_order=True)
        .agg(pl.col(keys).first())
        .sort(["advisor_id", *keys, "customer_id"])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("advisor_id").alias("__rank"))
        .select("advisor_id", "customer_id", "__rank")
    )
    capacity = capacities(advisors, policy)
    return (
        tasks.join(queue, on=["advisor_id", "customer_id"], how="left")
        .join(capacity, on="advisor_id", how="left")
        .with_columns(
            pl.when(~pl.col("stale")).then(pl.col("__rank")).alias("plan_rank"),
            (pl.col("carried_nights") > policy.plan.escalate_after_nights).alias("escalated"),
        )
        .with_columns(
            (pl.col("plan_rank") <= pl.col("capacity").fill_null(policy.plan.fallback_capacity))
            .fill_null(False).alias("in_plan")
        )
        .sort("__row")
        .select(*worklist.columns, *PLAN_COLUMNS)
    )


def plan_night(worklist: pl.DataFrame, night: Night, policy: Policy, as_of: date,
               previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """`plan_worklist` with the night's roster and its owners' service segments."""
    owners = night.customers.filter(pl.col("stage") == "owner").select("customer_id", "store")
    segments = segment_owners(owners, night.ident.service, policy, as_of).select("customer_id", "segment")
    roster = night.inputs.advisors.collect(engine=ENGINE)
    return plan_worklist(worklist, roster, policy, as_of, previous, segments.collect(engine=ENGINE))


def plan_counts(planned: pl.DataFrame) -> dict[str, int]:
    """run.json's `plan` block: customers in today's plans, waiting, gone to the manager's review (every task
    stale), escalated; tasks in the plans, stale, escalated."""
    per = waiting_counts(planned)
    return {
        "customers_in_plan": int(per["in_plan"].sum()),
        "customers_waiting": int(per["waiting"].sum()),
        "customers_stale": int(per["stale"].sum()),
        "customers_escalated": int(per["escalated"].sum()),
        "tasks_in_plan": int(planned["in_plan"].sum()),
        "tasks_stale": int(planned["stale"].sum()),
        "tasks_escalated": int(planned["escalated"].sum()),
    }


def with_urgency_labels(customers: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """`urgency_label` and `urgency_colour` of each row's `urgency` class, for the advisor's eyes."""
    classes = policy.plan.urgency
    return customers.with_columns(
        pl.col("urgency").replace_strict({c.name: c.label for c in classes}, default=pl.col("urgency"),
                                         return_dtype=pl.String).alias("urgency_label"),
        pl.col("urgency").replace_strict({c.name: c.colour for c in classes}, default=None,
                                         return_dtype=pl.String).alias("urgency_colour"),
    )


def todays_plan(planned: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The tasks in today's plans, each advisor's in plan order and each customer's most urgent task first (the
    rows of the email and the workbook, through `transforms.views.per_customer`)."""
    position = pl.col("urgency").replace_strict({c.name: i for i, c in enumerate(policy.plan.urgency)},
                                                default=len(policy.plan.urgency), return_dtype=pl.Int64)
    return planned.filter(pl.col("in_plan")).sort(pl.col("advisor_id"), pl.col("plan_rank"), position,
                                                  pl.col("priority"), maintain_order=True)


def waiting_counts(planned: pl.DataFrame) -> pl.DataFrame:
    """Per advisor: customers in today's plan, customers waiting (open, not stale, not in the plan), customers
    gone to the manager's review (every task stale), escalated customers."""
    customers = planned.group_by("advisor_id", "customer_id").agg(
        pl.col("in_plan").any(), pl.col("stale").all(), pl.col("escalated").any()
    )
    return customers.group_by("advisor_id").agg(
        pl.col("in_plan").sum().alias("in_plan"),
        (~pl.col("in_plan") & ~pl.col("stale")).sum().alias("waiting"),
        pl.col("stale").sum().alias("stale"),
        pl.col("escalated").sum().alias("escalated"),
    ).sort("advisor_id")


def advisor_plans(planned: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Today's plan of every advisor, one row per customer in plan order (`transforms.views.per_customer`), with
    its urgency label and colour, and the advisor's `waiting` and `stale` customer counts on every row: what
    the workbook and the email show."""
    counts = waiting_counts(planned).select("advisor_id", "waiting", "stale")
    return (
        per_customer(todays_plan(planned, policy))
        .pipe(with_urgency_labels, policy)
        .join(counts, on="advisor_id", how="left", maintain_order="left")
    )
