"""The typed input frames one night works on, as known on the as-of date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Final, TypeVar

import polars as pl

from schemas.columns import ORDER, ROW, SHEET_N


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


Rows = TypeVar("Rows", pl.DataFrame, pl.LazyFrame)


ROW_ORDER = (ORDER, SHEET_N, ROW)  # a history row's place: the file's, the sheet's in it, the row's in the sheet


def in_time_order(frame: Rows, at: str, *ties: str, descending: bool = False) -> Rows:
    """`frame` sorted by `at`, rows of the same time in a fixed order — by `ties`, then by their place in the
    history (the row loaded later comes later) — so that "the latest" is the same row on every run."""
    present: set[str] = set(frame.collect_schema().names())
    keys = [at, *ties, *(c for c in ROW_ORDER if c in present)]
    return frame.sort(keys, descending=descending, maintain_order=True)


def latest_rows(frame: Rows, key: str) -> Rows:
    """One row per `key`: the latest (the history keeps every night's rows, oldest first), in the frame's order."""
    return frame.unique(subset=[key], keep="last", maintain_order=True)


# The columns of each kind that some rule reads. The others of SPEC §2 (预算, 竞品, 性别, 微信, 邮箱, 决策人, 顾虑,
# 标签; 跟进方式; 颜色, 成交价; 车牌, 里程) stay in the history, but no night computes with them: `prepare` reads only
# these, so that a night's scan of the history skips the rest (a rule that reads another one fails loudly until it
# is listed here).
RULE_COLUMNS: Final = {
    "leads": ("lead_id", "created_at", "customer_name", "phone", "store", "advisor_id", "source", "model_interest",
              "purchase_timeframe", "grade", "status", "lost_reason", "referrer_phone", "birthday", "do_not_contact"),
    "followups": ("lead_id", "phone", "advisor_id", "contacted_at", "outcome", "summary", "next_followup_at",
                  "purchase_timeframe", "grade", "entry"),
    "sales": ("order_id", "phone", "customer_name", "advisor_id", "ordered_at", "store", "lead_id", "vin", "model",
              "planned_delivery_at", "delivered_at", "status", "referrer_phone", "birthday"),
    "service": ("ro_id", "visited_at", "store", "vin", "phone", "customer_name", "service_type", "amount",
                "service_advisor_id", "csat", "complaint", "complaint_text"),
}


def _read_by_rules(frame: pl.LazyFrame, kind: str) -> pl.LazyFrame:
    wanted = set(RULE_COLUMNS[kind])
    return frame.select(c for c in frame.collect_schema().names() if c in wanted or c.startswith("__"))


def rule_columns(inputs: Inputs) -> Inputs:
    """`inputs` with only the columns some rule reads (`RULE_COLUMNS`), beside each row's bookkeeping (`__row`,
    `__order`, …: the columns named `__*`), in their order; the roster and the decisions whole."""
    return replace(inputs, **{kind: _read_by_rules(getattr(inputs, kind), kind) for kind in RULE_COLUMNS})


def latest_per_key(inputs: Inputs) -> Inputs:
    """A later row for the same key updates the earlier one (SPEC §3); identical follow-ups count once."""
    content = ["lead_id", "phone", "advisor_id", "contacted_at", "outcome", "summary", "next_followup_at"]
    return replace(
        inputs,
        leads=latest_rows(inputs.leads, KEYS["leads"]),
        sales=latest_rows(inputs.sales, KEYS["sales"]),
        service=latest_rows(inputs.service, KEYS["service"]),
        advisors=latest_rows(inputs.advisors, KEYS["advisors"]),
        followups=inputs.followups.unique(subset=content, keep="first", maintain_order=True),
    )


# Polars' in-memory engine for every collect of the transforms: at group scale (issue #8, 5M rows) it ran these
# joins, sorts and group-bys faster than the streaming engine, at a lower peak; and Polars 2.1's streaming engine
# panicked on one worklist plan (`assertion failed: i < self.len()`, a store's part in tests/flows/test_dask_fanout.py)
ENGINE: Final = "in-memory"   # Final: typed as the literal collect(engine=...) takes


def format_text(template: str, *args: str | pl.Expr) -> pl.Expr:
    """`pl.format(template, *args)` written as `pl.concat_str` of its literal pieces and arguments (same text,
    null where an argument is null; a str argument is a column name). Polars 2.1.0's `pl.format` panics
    (`assertion failed: i < self.len()`, polars-arrow binview/mod.rs) when one argument column has an empty
    chunk beside a non-empty one — a two-chunk column filtered so that one chunk keeps no row — and another
    argument has a different chunk layout (see tests/transforms/test_polars_panic.py); `concat_str` of the same pieces
    does not."""
    pieces = template.split("{}")
    if len(pieces) != len(args) + 1:
        raise ValueError(f"format_text: {len(pieces) - 1} placeholders for {len(args)} arguments: {template!r}")
    exprs: list[pl.Expr] = []
    for i, arg in enumerate(args):
        if pieces[i]:
            exprs.append(pl.lit(pieces[i]))
        exprs.append(pl.col(arg) if isinstance(arg, str) else arg)
    if pieces[-1]:
        exprs.append(pl.lit(pieces[-1]))
    if not args:
        return pl.lit(template)
    first = pl.col(args[0]) if isinstance(args[0], str) else args[0]
    return pl.concat_str(exprs).alias(first.meta.output_name())  # named as pl.format names it
