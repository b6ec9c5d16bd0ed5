"""Which lead a follow-up or an order belongs to (SPEC §6, §6a).

A follow-up names its lead by lead_id, or by phone (then it is the customer's latest lead by created_at, as
known at the time of the call).
An order names its lead by lead_id, or else belongs to the customer's latest lead created on or before it.
"""

from __future__ import annotations

import polars as pl

from transforms.frames import in_time_order


def _latest_lead_per_customer(leads: pl.LazyFrame) -> pl.LazyFrame:
    return (
        in_time_order(leads, "created_at", "lead_id")
        .group_by("customer_id")
        .agg(pl.col("lead_id").last().alias("latest_lead_id"))
    )


def _lead_by_then(rows: pl.LazyFrame, leads: pl.LazyFrame, key: str, at: str) -> pl.LazyFrame:
    """key → the customer's latest lead created on or before the row's `at`, for the rows that do not name a
    known lead (only those need it: the rest would pair every row with each of its customer's leads)."""
    unnamed = rows.join(leads.select("lead_id"), on="lead_id", how="anti")
    return (
        unnamed.select(key, "customer_id", at)
        .join(leads.select("customer_id", "lead_id", "created_at"), on="customer_id")
        .filter(pl.col("created_at") <= pl.col(at))
        .sort("created_at", "lead_id")
        .group_by(key)
        .agg(pl.col("lead_id").last().alias("lead_by_then"))
    )


def _with_lead_ref(rows: pl.LazyFrame, leads: pl.LazyFrame, by_then: pl.LazyFrame, key: str,
                   fallback: pl.LazyFrame | None = None) -> pl.LazyFrame:
    known = leads.select(pl.col("lead_id").alias("known_lead_id"))
    rows = rows.join(known, left_on="lead_id", right_on="known_lead_id", how="left", coalesce=False).join(
        by_then, on=key, how="left"
    )
    refs = ["known_lead_id", "lead_by_then"]
    if fallback is not None:
        rows = rows.join(fallback, on="customer_id", how="left")
        refs.append("latest_lead_id")
    return rows.with_columns(pl.coalesce(*refs).alias("lead_ref")).drop(*refs)


def followups_to_leads(followups: pl.LazyFrame, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `lead_ref`: the lead this follow-up counts for (null when the customer has no lead). A follow-up
    named by phone counts for the customer's latest lead created by the time of the call; a call logged before
    any of the customer's leads was entered counts for the customer's latest lead."""
    followups = followups.with_row_index("_followup")
    by_then = _lead_by_then(followups, leads, "_followup", "contacted_at")
    return _with_lead_ref(followups, leads, by_then, "_followup", _latest_lead_per_customer(leads)).drop(
        "_followup"
    )


def orders_to_leads(sales: pl.LazyFrame, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `lead_ref` to each order."""
    return _with_lead_ref(sales, leads, _lead_by_then(sales, leads, "order_id", "ordered_at"), "order_id")
