"""整批 decisions: one row of the manager's review workbook (its 整批决定 sheet) that decides for many customers,
replaced by one decision per customer or lead before anything applies it (transforms/night.py), so that the
rules of transforms/decisions.py see only decisions about one customer.

- 改派 整批 (`bulk` reassign): every customer in 原顾问's book — a lead, an order or a repair order with 原顾问 as
  its advisor, dated on or before the effective date, in the store of 接手顾问 — is reassigned from 原顾问 to
  接手顾问 (only the tasks 原顾问 holds move: transforms/decisions.py).
- 战败 整批 (`bulk` lost): every open lead of 原顾问 (not lost, not closed as won, no order counted for it by the
  effective date) whose last touch — created, or a follow-up up to the effective date — is more than 未跟进天数
  days before that date, and whose latest follow-up promised no day after it, is marked lost with the row's
  reason. The promised day is the worklist's (transforms/promises.py `promised_on`): a date more than
  `[promises] max_promise_days` after the follow-up is held there, so a promise whose held day has passed
  keeps nobody out.

The set is the one on the effective date: a lead created or called after it is not swept in on a later night.
Each expanded decision keeps the row's date, manager, reason and note, and `bulk_row` (the row's place among
the decisions). The 整批 row itself stays, with `bulk_size` (how many customers or leads it decided), for the
digest (`applied`); `transforms.decisions.in_effect` passes over it."""

from __future__ import annotations

import polars as pl

from policy.model import Policy
from transforms.customers import Identity
from transforms.frames import in_time_order
from transforms.promises import promised_on
from transforms.stages import live_order

POSITION = "__position"


def books(ident: Identity) -> pl.LazyFrame:
    """from_advisor_id, customer_id, store, day: each record that puts a customer in an advisor's book."""

    def part(frame: pl.LazyFrame, advisor: str, at: str) -> pl.LazyFrame:
        return frame.select(pl.col(advisor).alias("from_advisor_id"), "customer_id", "store",
                            pl.col(at).dt.date().alias("day"))

    return pl.concat([
        part(ident.leads, "advisor_id", "created_at"),
        part(ident.sales, "advisor_id", "ordered_at"),
        part(ident.service, "service_advisor_id", "visited_at"),
    ]).filter(pl.col("from_advisor_id").is_not_null() & pl.col("customer_id").is_not_null())


def _book_members(rows: pl.LazyFrame, ident: Identity, advisors: pl.LazyFrame) -> pl.LazyFrame:
    """bulk_row, customer_id of each 改派 整批 row."""
    stores = advisors.select(pl.col("advisor_id").alias("new_advisor_id"), pl.col("store").alias("__to_store"))
    return (
        rows.filter(pl.col("decision") == "reassign")
        .select("bulk_row", "from_advisor_id", "new_advisor_id", "decided_at")
        .join(stores.unique("new_advisor_id", keep="last"), on="new_advisor_id", how="left")
        .join(books(ident), on="from_advisor_id")
        .filter((pl.col("day") <= pl.col("decided_at")) & (pl.col("store") == pl.col("__to_store")))
        .select("bulk_row", "customer_id", pl.lit(None, pl.String).alias("lead_id"))
        .unique(["bulk_row", "customer_id"])
    )


def _idle_members(rows: pl.LazyFrame, ident: Identity, followups: pl.LazyFrame, sales: pl.LazyFrame,
                  policy: Policy) -> pl.LazyFrame:
    """bulk_row, customer_id, lead_id of each 战败 整批 row. `followups`, `sales`: with `lead_ref`."""
    s = policy.stages
    on = pl.col("decided_at")
    leads = (
        rows.filter(pl.col("decision") == "lost")
        .select("bulk_row", "from_advisor_id", "decided_at", "idle_days")
        .join(ident.leads.select("lead_id", "customer_id", pl.col("advisor_id").alias("from_advisor_id"),
                                 "created_at", "status"), on="from_advisor_id")
        .filter((pl.col("created_at").dt.date() <= on)
                & ~pl.col("status").fill_null("").is_in([*s.lost_statuses, *s.won_statuses]))
    )
    keys = leads.select("bulk_row", "lead_id", "decided_at")
    touched = (
        keys.join(in_time_order(followups, "contacted_at").select(
            pl.col("lead_ref").alias("lead_id"), "contacted_at", "next_followup_at", "outcome"),
            on="lead_id", maintain_order="right")  # the latest follow-up as the worklist finds it
        .filter(pl.col("contacted_at").dt.date() <= on)
        .group_by("bulk_row", "lead_id")
        .agg(pl.col("contacted_at").last().alias("__contact"),
             promised_on(pl.col("next_followup_at"), pl.col("contacted_at"), policy).last().alias("__promise"),
             pl.col("outcome").last().alias("__outcome"))
    )
    ordered = (
        keys.join(sales.filter(live_order(policy) | pl.col("delivered_at").is_not_null())
                  .select(pl.col("lead_ref").alias("lead_id"), "ordered_at"), on="lead_id")
        .filter(pl.col("ordered_at").dt.date() <= on)
        .select("bulk_row", "lead_id", pl.lit(True).alias("__ordered"))
        .unique(["bulk_row", "lead_id"])
    )
    last_touch = pl.max_horizontal(pl.col("created_at"), pl.col("__contact")).dt.date()
    return (
        leads.join(touched, on=["bulk_row", "lead_id"], how="left")
        .join(ordered, on=["bulk_row", "lead_id"], how="left")
        .filter(
            ((on - last_touch).dt.total_days() > pl.col("idle_days"))
            & (pl.col("__promise").is_null() | (pl.col("__promise") <= on))  # no promise past the date
            & ~pl.col("__outcome").fill_null("").is_in(s.lost_outcomes)
            & pl.col("__ordered").is_null()
        )
        .select("bulk_row", "customer_id", "lead_id")
    )


def members(rows: pl.LazyFrame, ident: Identity, followups: pl.LazyFrame, sales: pl.LazyFrame,
            advisors: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """bulk_row, customer_id, lead_id (战败 only) of what each 整批 row decides. `rows`: bulk_row, decision,
    from_advisor_id, new_advisor_id, decided_at, idle_days."""
    return pl.concat([
        _book_members(rows, ident, advisors),
        _idle_members(rows, ident, followups, sales, policy),
    ])


def expand(checked: pl.LazyFrame, ident: Identity, followups: pl.LazyFrame, sales: pl.LazyFrame,
           advisors: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """`checked` (transforms.decisions.check) with each 整批 row that holds followed by one decision per
    customer (改派) or lead (战败) it names, in the decisions' order; adds `bulk_row`, `bulk_size`."""
    numbered = checked.with_row_index(POSITION)
    is_bulk = pl.col("bulk").fill_null(False) & pl.col("refused_column").is_null()
    heads = numbered.filter(is_bulk).with_columns(pl.col(POSITION).cast(pl.Int64).alias("bulk_row"))
    singles = numbered.filter(~is_bulk).with_columns(pl.lit(None, pl.Int64).alias("bulk_row"),
                                                     pl.lit(None, pl.Int64).alias("bulk_size"))
    # the manager's own row about a customer wins over a 整批 row of the same or an earlier date
    own = (singles.filter(pl.col("refused_column").is_null() & pl.col("customer_id").is_not_null())
           .group_by("customer_id").agg(pl.col("decided_at").max().alias("__own_at")))
    expanded = (
        heads.drop("customer_id", "lead_id").join(members(heads, ident, followups, sales, advisors, policy),
                                                  on="bulk_row")
        .join(own, on="customer_id", how="left")
        .filter(pl.col("__own_at").is_null() | (pl.col("__own_at") < pl.col("decided_at")))
        .drop("__own_at")
        .with_columns(pl.lit(False).alias("bulk"), pl.lit(None, pl.Int64).alias("bulk_size"))
    )
    sizes = expanded.group_by("bulk_row").agg(pl.len().cast(pl.Int64).alias("bulk_size"))
    heads = heads.join(sizes, on="bulk_row", how="left").with_columns(pl.col("bulk_size").fill_null(0))
    columns = [*checked.collect_schema().names(), "bulk_row", "bulk_size"]
    return (
        pl.concat([singles, heads.with_columns(pl.lit(0).alias("__member")),
                   expanded.with_columns(pl.lit(1).alias("__member"))], how="diagonal_relaxed")
        .sort(POSITION, pl.col("__member").fill_null(0), "customer_id", "lead_id", nulls_last=False)
        .select(columns)
    )


def applied(checked: pl.LazyFrame) -> pl.LazyFrame:
    """The 整批 rows that hold, each with `bulk_size`: how many customers (改派) or leads (战败) it decided."""
    return checked.filter(pl.col("bulk_size").is_not_null())
