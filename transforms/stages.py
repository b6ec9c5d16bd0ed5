"""Pipeline stage of each lead and of each customer on the as-of date (SPEC §5, §6a).

Lead stage, first match wins: owner → won → lost → dormant → negotiating → intent → lead.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy
from transforms.frames import in_time_order
from transforms.grades import lead_grades


def _followup_facts(followups: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    s = policy.stages
    days_ago = pl.lit(as_of) - pl.col("contacted_at").dt.date()
    return (
        in_time_order(followups.filter(pl.col("lead_ref").is_not_null()), "contacted_at")
        .group_by("lead_ref")
        .agg(
            pl.len().alias("n_followups"),
            pl.col("contacted_at").last().alias("last_contacted_at"),
            pl.col("outcome").last().alias("last_outcome"),
            pl.col("next_followup_at").last().alias("planned_at"),
            (
                pl.col("outcome").is_in(s.negotiating_outcomes)
                & (days_ago.dt.total_days() <= s.negotiating_window_days)
            )
            .any()
            .alias("negotiating_evidence"),
        )
        .rename({"lead_ref": "lead_id"})
    )


def live_order(policy: Policy) -> pl.Expr:
    """An order that counts: its CRM status is not one of the policy's cancelled statuses (a blank one counts)."""
    return ~pl.col("status").fill_null("").is_in(policy.stages.cancelled_order_statuses)


def _order_facts(sales: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    live = live_order(policy)
    return (
        sales.filter(pl.col("lead_ref").is_not_null() & (live | pl.col("delivered_at").is_not_null()))
        .group_by("lead_ref")
        .agg(pl.len().alias("n_orders"), pl.col("delivered_at").max().alias("delivered_at"))
        .rename({"lead_ref": "lead_id"})
    )


def stage_expr(policy: Policy, as_of: date) -> pl.Expr:
    s = policy.stages
    owner_since = (pl.lit(as_of) - pl.col("delivered_at").dt.date()).dt.total_days()
    status = pl.col("status").fill_null("")
    outcome = pl.col("last_outcome").fill_null("")
    return (
        pl.when(owner_since >= s.owner_after_delivery_days).then(pl.lit("owner"))
        .when(pl.col("n_orders").fill_null(0) > 0).then(pl.lit("won"))
        .when(status.is_in(s.won_statuses)).then(pl.lit("won"))
        .when(status.is_in(s.lost_statuses) | outcome.is_in(s.lost_outcomes)).then(pl.lit("lost"))
        .when(outcome.is_in(s.dormant_outcomes)).then(pl.lit("dormant"))
        .when(status.is_in(s.negotiating_statuses) | pl.col("negotiating_evidence").fill_null(False))
        .then(pl.lit("negotiating"))
        .when(status.is_in(s.intent_statuses)).then(pl.lit("intent"))
        .otherwise(pl.lit("lead"))
        .alias("stage")
    )


def lead_state(
    leads: pl.LazyFrame, followups: pl.LazyFrame, sales: pl.LazyFrame, policy: Policy, as_of: date
) -> pl.LazyFrame:
    """One row per lead with its follow-up facts, grade and stage. `followups` and `sales` carry `lead_ref`."""
    return (
        leads.drop("grade")  # the typed grade is one input of the decided grade joined below
        .join(_followup_facts(followups, policy, as_of), on="lead_id", how="left")
        .join(_order_facts(sales, policy), on="lead_id", how="left")
        .join(lead_grades(leads, followups, policy), on="lead_id", how="left")
        .with_columns(pl.col("n_followups").fill_null(0), stage_expr(policy, as_of))
    )


def customer_state(customers: pl.LazyFrame, leads: pl.LazyFrame, sales: pl.LazyFrame,
                   policy: Policy, as_of: date) -> pl.LazyFrame:
    """Customer stage and grade: owner if any delivery is old enough (or service-only), won if any live order,
    else the stage and grade of the customer's latest lead."""
    live = live_order(policy)
    owner_since = (pl.lit(as_of) - pl.col("delivered_at").dt.date()).dt.total_days()
    orders = sales.group_by("customer_id").agg(
        (owner_since >= policy.stages.owner_after_delivery_days).any().alias("any_owner"),
        (live | pl.col("delivered_at").is_not_null()).any().alias("any_order"),
        pl.col("delivered_at").max().alias("last_delivered_at"),
    )
    latest_lead = (
        in_time_order(leads, "created_at", "lead_id")
        .group_by("customer_id")
        .agg(pl.col("stage").last().alias("lead_stage"), pl.col("grade").last())
    )
    return (
        customers.join(orders, on="customer_id", how="left")
        .join(latest_lead, on="customer_id", how="left")
        .with_columns(
            pl.when(pl.col("any_owner").fill_null(False) | (pl.col("has_service") & ~pl.col("has_sale")))
            .then(pl.lit("owner"))
            .when(pl.col("any_order").fill_null(False)).then(pl.lit("won"))
            .otherwise(pl.coalesce("lead_stage", pl.lit("lead")))
            .alias("stage")
        )
        .drop("any_owner", "any_order", "lead_stage")
    )
