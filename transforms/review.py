"""What the manager is asked to decide (issue #16): the review rows and the proposal for each — the rule that
the review workbook (reports/review.py) only renders.

One row per (holder, customer) of the planned worklist (transforms/plan.py) that is
- `handed_over` 转交: on a manager's list because its advisor left or is not in the roster;
- `stale` 久未跟进: a task overdue longer than its `[plan.stale_after_days]` (it left the advisor's plan);
- `overflow` 超出上限: not in today's plan for want of capacity (waiting for another day).
The proposal: a stale lead → lost (战败, with `review.lost_reason`); other stale work → keep (the manager chases
its advisor) unless the advisor is over capacity; handed-over, overflow and an overloaded advisor's stale work →
reassign to a teammate of the same store and role with spare capacity (spare slots dealt round-robin, the most
urgent rows first), else keep.
Each row goes to the manager its holder reports to (transforms/routing.py); a handed-over row stays with the
manager who holds it."""

from __future__ import annotations

import polars as pl

from policy.model import Policy
from transforms.plan import capacities as plan_capacities
from transforms.plan import waiting_counts
from transforms.routing import MANAGER, active, route
from transforms.views import per_customer

SECTIONS = ("handed_over", "stale", "overflow")
PIPELINE_TASKS = ("first_contact", "followup")


def capacities(worklist: pl.DataFrame, advisors: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Every active advisor of the roster: advisor_id, store, role, capacity (transforms.plan.capacities),
    in_plan, waiting (open, not stale, not in today's plan), stale, escalated (customers, from the plan),
    spare (capacity − in_plan)."""
    counts = waiting_counts(worklist)
    return (
        advisors.filter(active())
        .select("advisor_id", "store", "role")
        .join(plan_capacities(advisors, policy), on="advisor_id", how="left")
        .join(counts, on="advisor_id", how="left")
        .with_columns(pl.col("in_plan", "waiting", "stale", "escalated").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("capacity") - pl.col("in_plan")).clip(lower_bound=0).alias("spare"))
        .sort("advisor_id")
    )


def _customers(worklist: pl.DataFrame) -> pl.DataFrame:
    """per_customer, with the advisor of record (before handover or reassignment) and whether it is a lead's."""
    record = worklist.group_by("advisor_id", "customer_id", maintain_order=True).agg(
        pl.coalesce("reassigned_from", "original_advisor_id").first().alias("from_advisor_id"),
        pl.col("task_type").is_in(PIPELINE_TASKS).any().alias("pipeline"),
        pl.col("in_plan").any(), pl.col("stale").any(), pl.col("carried_nights").max(),
    )
    return per_customer(worklist).join(record, on=["advisor_id", "customer_id"], how="left", maintain_order="left")


def review_rows(worklist: pl.DataFrame, advisors: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The review rows of every manager, each with its proposal (`proposal`: reassign | lost | keep,
    `proposed_advisor_id`, `proposed_reason`), by manager, section, priority, most overdue first."""
    rule = policy.review
    cap = capacities(worklist, advisors, policy)
    rows = (
        _customers(worklist)
        .join(cap.select("advisor_id", pl.col("waiting").alias("over")), on="advisor_id", how="left")
        .with_columns(
            pl.when(pl.col("orphaned")).then(pl.lit("handed_over"))
            .when(pl.col("stale")).then(pl.lit("stale"))
            .when(~pl.col("in_plan")).then(pl.lit("overflow"))
            .alias("section")
        )
        .filter(pl.col("section").is_not_null())
    )
    roles = advisors.select(pl.col("advisor_id").alias("from_advisor_id"), pl.col("role").alias("from_role"))
    rows = (
        route(rows.lazy(), advisors.lazy(), "advisor_id", "store", "__routed")
        .collect()
        .join(roles, on="from_advisor_id", how="left")
        .with_columns(
            pl.when(pl.col("orphaned")).then(pl.col("advisor_id")).otherwise(pl.col("__routed")).alias("manager_id"),
            pl.coalesce(
                pl.when(pl.col("from_role") != MANAGER).then(pl.col("from_role")),
                pl.when(pl.col("pipeline")).then(pl.lit("sales")).otherwise(pl.lit("service")),
            ).alias("role"),
            pl.col("section").replace_strict({s: i for i, s in enumerate(SECTIONS)}).alias("__section"),
            ((pl.col("section") == "stale") & pl.col("pipeline") & pl.col("lead_id").is_not_null()).alias("__lost"),
        )
        .sort(["manager_id", "__section", "priority", "days_overdue", "customer_id"],  # the same order every run
              descending=[False, False, False, True, False])
    )
    chased = (pl.col("section") == "stale") & ~(pl.col("over").fill_null(0) > 0)  # keep: the manager chases
    wanting = rows.filter(~pl.col("__lost") & ~chased).with_columns(
        pl.int_range(1, pl.len() + 1).over("store", "role").alias("__slot")
    )
    slots = (
        cap.filter((pl.col("role") != MANAGER) & (pl.col("spare") > 0))
        .with_columns(pl.int_ranges(0, pl.col("spare")).alias("__n"))
        .explode("__n")
        .sort("__n", "advisor_id")
        .with_columns(pl.int_range(1, pl.len() + 1).over("store", "role").alias("__slot"))
        .select("store", "role", "__slot", pl.col("advisor_id").alias("__to"))
    )
    targets = wanting.join(slots, on=["store", "role", "__slot"], how="left").select(
        "advisor_id", "customer_id", "__to"
    )
    to = pl.col("__to")
    parts = rule.lost_reason.split("{days}")  # the policy's text, `{days}` standing for the days overdue
    reason = pl.concat_str([pl.lit(parts[0]), *(e for p in parts[1:] for e in (pl.col("days_overdue"), pl.lit(p)))])
    return (
        rows.join(targets, on=["advisor_id", "customer_id"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__lost")).then(pl.lit("lost"))
            .when(to.is_not_null() & (to != pl.col("advisor_id"))).then(pl.lit("reassign"))
            .otherwise(pl.lit("keep")).alias("proposal"),
        )
        .with_columns(
            pl.when(pl.col("proposal") == "reassign").then(to).alias("proposed_advisor_id"),
            pl.when(pl.col("proposal") == "lost").then(reason).alias("proposed_reason"),
        )
        .select(
            "manager_id", "section", "store", "advisor_id", "from_advisor_id", "customer_id", "customer_name",
            "phone", "lead_id", "tasks", "reasons", "due_date", "days_overdue", "priority", "grade", "stage",
            "carried_nights", "proposal", "proposed_advisor_id", "proposed_reason",
        )
    )


def teammates(advisors: pl.DataFrame, manager_id: str) -> list[str]:
    """Whom a manager may reassign to: the active sales and service advisors of the manager's store."""
    store = advisors.filter(pl.col("advisor_id") == manager_id)["store"]
    staff = advisors.filter(pl.col("store").is_in(store.implode()) & active() & (pl.col("role") != MANAGER))
    return staff.sort("advisor_id")["advisor_id"].to_list()
