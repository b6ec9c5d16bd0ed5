"""Which lead a follow-up or an order belongs to (SPEC §6, §6a).

A follow-up names its lead by lead_id, or by phone (then it is the customer's latest lead by created_at, as
known at the time of the call).
An order names its lead by lead_id, or else belongs to the customer's latest lead created on or before it.
"""

from __future__ import annotations

import polars as pl


def _latest_lead_per_customer(leads: pl.LazyFrame) -> pl.LazyFrame:
    return (
        leads.sort("created_at")
        .group_by("customer_id")
        .agg(pl.col("lead_id").last().alias("latest_lead_id"))
    )


def followups_to_leads(followups: pl.LazyFrame, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `lead_ref`: the lead this follow-up counts for (null when the customer has no lead). A follow-up
    named by phone counts for the customer's latest lead created by the time of the call; a call logged before
    any of the customer's leads was entered counts for the customer's latest lead."""
    known = leads.select(pl.col("lead_id").alias("known_lead_id"))
    followups = followups.with_row_index("_followup")
    latest_by_then = (
        followups.select("_followup", "customer_id", "contacted_at")
        .join(leads.select("customer_id", "lead_id", "created_at"), on="customer_id")
        .filter(pl.col("created_at") <= pl.col("contacted_at"))
        .sort("created_at")
        .group_by("_followup")
        .agg(pl.col("lead_id").last().alias("lead_by_then"))
    )
    return (
        followups.join(known, left_on="lead_id", right_on="known_lead_id", how="left", coalesce=False)
        .join(latest_by_then, on="_followup", how="left")
        .join(_latest_lead_per_customer(leads), on="customer_id", how="left")
        .with_columns(pl.coalesce("known_lead_id", "lead_by_then", "latest_lead_id").alias("lead_ref"))
        .drop("_followup", "known_lead_id", "lead_by_then", "latest_lead_id")
    )


def orders_to_leads(sales: pl.LazyFrame, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `lead_ref` to each order."""
    known = leads.select(pl.col("lead_id").alias("known_lead_id"))
    candidates = (
        sales.select("order_id", "customer_id", "ordered_at")
        .join(leads.select("customer_id", "lead_id", "created_at"), on="customer_id")
        .filter(pl.col("created_at") <= pl.col("ordered_at"))
        .sort("created_at")
        .group_by("order_id")
        .agg(pl.col("lead_id").last().alias("latest_lead_id"))
    )
    return (
        sales.join(known, left_on="lead_id", right_on="known_lead_id", how="left", coalesce=False)
        .join(candidates, on="order_id", how="left")
        .with_columns(pl.coalesce("known_lead_id", "latest_lead_id").alias("lead_ref"))
        .drop("known_lead_id", "latest_lead_id")
    )
