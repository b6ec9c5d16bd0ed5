"""The typed input frames one night works on, as known on the as-of date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import polars as pl


@dataclass(frozen=True)
class Inputs:
    leads: pl.LazyFrame
    followups: pl.LazyFrame
    sales: pl.LazyFrame
    service: pl.LazyFrame
    advisors: pl.LazyFrame
    # the managers' decisions (schemas.columns.DECISIONS), with the file, sheet and night that brought each
    # (`__file`, `__sheet`, `__night`); None: a night without any
    decisions: pl.LazyFrame | None = None


KEYS = {"leads": "lead_id", "sales": "order_id", "service": "ro_id", "advisors": "advisor_id"}


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time()) - timedelta(microseconds=1)


def known_on(inputs: Inputs, as_of: date) -> Inputs:
    """Only what had happened by the end of the as-of day: no later row leaks into a night (SPEC §6a)."""
    cutoff = end_of(as_of)
    return replace(
        inputs,
        leads=inputs.leads.filter(pl.col("created_at") <= cutoff),
        followups=inputs.followups.filter(pl.col("contacted_at") <= cutoff),
        sales=inputs.sales.filter(pl.col("ordered_at") <= cutoff).with_columns(
            pl.when(pl.col("delivered_at") <= cutoff).then(pl.col("delivered_at")).alias("delivered_at")
        ),
        service=inputs.service.filter(pl.col("visited_at") <= cutoff),
    )


def latest_per_key(inputs: Inputs) -> Inputs:
    """A later row for the same key updates the earlier one (SPEC §3); identical follow-ups count once."""
    def last(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
        return frame.unique(subset=[key], keep="last", maintain_order=True)

    content = ["lead_id", "phone", "advisor_id", "contacted_at", "outcome", "summary", "next_followup_at"]
    return replace(
        inputs,
        leads=last(inputs.leads, KEYS["leads"]),
        sales=last(inputs.sales, KEYS["sales"]),
        service=last(inputs.service, KEYS["service"]),
        advisors=last(inputs.advisors, KEYS["advisors"]),
        followups=inputs.followups.unique(subset=content, keep="first", maintain_order=True),
    )


# Polars' in-memory engine for every collect of the transforms: at group scale (issue #8, 5M rows) it ran these
# joins, sorts and group-bys faster than the streaming engine, at a lower peak; and Polars 2.1's streaming engine
# panicked on one worklist plan (`assertion failed: i < self.len()`, a store's part in tests/test_dask_fanout.py)
ENGINE = "in-memory"
