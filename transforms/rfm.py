"""Service segments of owners (SPEC §7): recency, frequency and monetary value over the trailing window to D.

R = days from the owner's latest service visit to D; F = visits in the window (D − visit date ≤ window_days,
the inclusive reading of SPEC §6a); M = mean amount per visit in the window (visits with no amount left out).
The store's average ticket is the mean amount per visit over the window visits of every owner of that store.
Segments come from the policy (`[rfm]`), first match wins; an owner matching none is `fallback` (`lost`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from policy.model import Policy
from transforms.customers import identify
from transforms.frames import ENGINE, Inputs, known_on, latest_per_key
from transforms.links import followups_to_leads, orders_to_leads
from transforms.stages import customer_state, lead_state

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

RFM_COLUMNS = ("customer_id", "store", "recency_days", "visits", "mean_ticket", "store_avg_ticket", "segment")


def segment_expr(policy: Policy) -> pl.Expr:
    """The policy's segment rules as one when/then chain, first match wins."""
    expr: Then | ChainedThen = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for rule in policy.rfm.segments:
        cond = (pl.col("recency_days") <= rule.max_recency_days) & (pl.col("visits") >= rule.min_visits)
        if rule.max_visits is not None:
            cond = cond & (pl.col("visits") <= rule.max_visits)
        if rule.min_ticket_ratio > 0:
            cond = cond & (pl.col("mean_ticket") >= rule.min_ticket_ratio * pl.col("store_avg_ticket"))
        expr = expr.when(cond.fill_null(False)).then(pl.lit(rule.name))
    return expr.otherwise(pl.lit(policy.rfm.fallback)).alias("segment")


def segment_owners(owners: pl.LazyFrame, service: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """`owners`: customer_id, store (one row per owner). `service`: customer_id, visited_at, amount (visits
    known on D). One row per owner with RFM_COLUMNS."""
    days_ago = (pl.lit(as_of) - pl.col("visited_at").dt.date()).dt.total_days()
    visits = (
        service.select("customer_id", "visited_at", "amount")
        .filter(days_ago >= 0)
        .join(owners.select("customer_id", "store"), on="customer_id", how="inner")
    )
    last_visit = visits.group_by("customer_id").agg(days_ago.min().alias("recency_days"))
    in_window = visits.filter(days_ago <= policy.rfm.window_days)
    per_owner = in_window.group_by("customer_id").agg(
        pl.len().alias("visits"), pl.col("amount").mean().alias("mean_ticket")
    )
    per_store = in_window.group_by("store").agg(pl.col("amount").mean().alias("store_avg_ticket"))
    return (
        owners.select("customer_id", "store")
        .join(last_visit, on="customer_id", how="left")
        .join(per_owner, on="customer_id", how="left")
        .join(per_store, on="store", how="left")
        .with_columns(pl.col("visits").fill_null(0).cast(pl.Int64))
        .with_columns(segment_expr(policy))
        .select(RFM_COLUMNS)
    )


def owners_on(inputs: Inputs, policy: Policy, as_of: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Owners on D (customer_id, store) and service orders with customer_id, from inputs as known on D."""
    ident = identify(inputs.leads, inputs.followups, inputs.sales, inputs.service).collected()
    followups = followups_to_leads(ident.followups, ident.leads)
    sales = orders_to_leads(ident.sales, ident.leads)
    leads = lead_state(ident.leads, followups, sales, policy, as_of)
    customers = customer_state(ident.customers, leads, sales, policy, as_of)
    return customers.filter(pl.col("stage") == "owner").select("customer_id", "store"), ident.service


def rfm_segments(inputs: Inputs, policy: Policy, as_of: date) -> pl.DataFrame:
    """Every owner on D with its segment; `inputs` as loaded (this applies known_on and latest_per_key)."""
    inputs = latest_per_key(known_on(inputs, as_of))
    owners, service = owners_on(inputs, policy, as_of)
    return segment_owners(owners, service, policy, as_of).sort("customer_id").collect(engine=ENGINE)
