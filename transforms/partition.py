"""One night's inputs cut into per-store parts, so that each store's worklist can be built on its own machine
(issue #8), and the parts' worklists put back together.

`combine([build_worklist(p.inputs, policy, as_of) for p in split_by_store(inputs, as_of)])` equals
`build_worklist(inputs, policy, as_of)` row for row. Why:

- Every rule of SPEC §6 reads one customer's rows: the task builders join and group by customer_id, lead_id,
  order_id or ro_id, never by store. So a part must hold *all* rows of each of its customers, and a customer's
  rows must not be spread over parts. A customer goes to the part of its home store (`customers.store`: the
  newest sale's store, else the newest lead's, else the newest service order's), whatever stores its rows name.
- Who a row belongs to is decided by identity (SPEC §4), which looks across customers: a service order joins the
  customer who bought its VIN, a follow-up named by phone only joins whoever the phone directory says. So the cut
  is made on the customer_id that `identify` gives for the whole group, not on each row's own phone.
- Two links still cross customers, and customers so linked are kept in one part (connected components, the part
  of the smallest home store among them): an order whose lead_id names another customer's lead (the lead's stage
  counts the order), and a phone that only service orders of several customers carry (a follow-up by that phone
  goes to one of them).
- Rows of no customer with a home store (follow-ups of a phone found nowhere else) change no task; they go to the
  first part, where no other row has their customer_id.
- Assignment (SPEC §6a) reads the roster by store (the store's first active manager): every part gets the whole
  roster, which is small.
- RFM's per-store average ticket (SPEC §7) and the KPIs (§8) are not part of the worklist: they stay single.
- `known_on` and `latest_per_key` run here, before the cut (a later version of an order may carry another phone,
  so another customer); `build_worklist` applies them again to each part, which changes nothing.
- Row order inside each frame is kept, and the parts' worklists are sorted again with the worklist's own sort,
  which is total (it ends on task_type and ref, one task each), so there are no ties to come out differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from transforms.customers import Identity, identify
from transforms.frames import ENGINE, Inputs, known_on, latest_per_key
from transforms.worklist import DESCENDING, SORT_BY

ROW = "_part_row"
UNIT = "_part_store"


@dataclass(frozen=True)
class StorePart:
    """One store's share of the night: its customers' rows of every kind, and the whole roster. `store` is None
    only when the night has no customer at all (then one part holds everything)."""

    store: str | None
    inputs: Inputs


def _cross_links(ident: Identity) -> pl.LazyFrame:
    """Pairs of customers (a, b) whose tasks read each other's rows."""
    order_names_lead = (
        ident.sales.select(pl.col("customer_id").alias("a"), "lead_id")
        .join(ident.leads.select("lead_id", pl.col("customer_id").alias("b")), on="lead_id", how="inner")
        .select("a", "b")
    )
    own_phones = pl.concat([ident.leads.select("phone"), ident.sales.select("phone")])
    shared_service_phone = (
        ident.service.filter(pl.col("phone").is_not_null())
        .join(own_phones, on="phone", how="anti")
        .select("phone", "customer_id")
        .unique()
        .with_columns(pl.col("customer_id").min().over("phone").alias("b"))
        .select(pl.col("customer_id").alias("a"), "b")
    )
    return pl.concat([order_names_lead, shared_service_phone]).filter(pl.col("a") != pl.col("b")).unique()


def _components(customers: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """customer_id → label: the smallest customer_id it is linked to, directly or through others."""
    both = pl.concat([links, links.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    labels = customers.select("customer_id", pl.col("customer_id").alias("label"))
    while True:
        via = (
            both.join(labels, left_on="b", right_on="customer_id", how="inner")
            .group_by("a")
            .agg(pl.col("label").min().alias("via"))
        )
        moved = (
            labels.join(via, left_on="customer_id", right_on="a", how="left")
            .with_columns(pl.min_horizontal("label", "via").alias("new_label"))
        )
        if moved.filter(pl.col("new_label") != pl.col("label")).is_empty():
            return labels
        labels = moved.select("customer_id", pl.col("new_label").alias("label"))


def store_of_customers(ident: Identity) -> pl.DataFrame:
    """customer_id → the store whose part holds the customer (`UNIT`)."""
    home = ident.customers.select("customer_id", "store").collect(engine=ENGINE)
    labels = _components(home.select("customer_id"), _cross_links(ident).collect(engine=ENGINE))
    unit = labels.join(home, on="customer_id").group_by("label").agg(pl.col("store").min().alias(UNIT))
    return labels.join(unit, on="label").select("customer_id", UNIT)


def split_by_store(inputs: Inputs, as_of: date) -> list[StorePart]:
    """The night's inputs (as loaded: this applies known_on and latest_per_key) in one part per store that is some
    customer's home, sorted by store; every row of a customer in exactly one part."""
    night = latest_per_key(known_on(inputs, as_of))
    kinds = ("leads", "followups", "sales", "service")
    frames = dict(zip(kinds, pl.collect_all([getattr(night, k) for k in kinds], engine=ENGINE), strict=True))
    advisors = night.advisors.collect(engine=ENGINE)
    numbered = {k: f.with_row_index(ROW).lazy() for k, f in frames.items()}
    ident = identify(numbered["leads"], numbered["followups"], numbered["sales"], numbered["service"]).collected()
    units = store_of_customers(ident)
    stores = sorted(units[UNIT].drop_nulls().unique().to_list())
    if not stores:
        return [StorePart(None, Inputs(**{k: f.lazy() for k, f in frames.items()}, advisors=advisors.lazy(),
                                         decisions=inputs.decisions))]
    identified = dict(zip(kinds, (ident.leads, ident.followups, ident.sales, ident.service), strict=True))
    rows_of = {
        kind: identified[kind]
        .select(ROW, "customer_id")
        .join(units.lazy(), on="customer_id", how="left")
        .select(ROW, pl.col(UNIT).fill_null(stores[0]))
        .collect(engine=ENGINE)
        for kind in kinds
    }
    parts: dict[str, dict[str, pl.DataFrame]] = {store: {} for store in stores}
    for kind, frame in frames.items():
        cut = (
            frame.with_row_index(ROW)
            .join(rows_of[kind], on=ROW, how="left", maintain_order="left")
            .drop(ROW)
            .partition_by(UNIT, as_dict=True, include_key=False, maintain_order=True)
        )
        for store in stores:
            parts[store][kind] = cut.get((store,), frame.clear())
    return [
        StorePart(store, Inputs(**{k: f.lazy() for k, f in part.items()}, advisors=advisors.lazy(),
                                decisions=inputs.decisions))
        for store, part in parts.items()
    ]


def combine(worklists: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The parts' worklists as one, sorted as `build_worklist` sorts (SPEC §6)."""
    return pl.concat(worklists).sort(list(SORT_BY), descending=list(DESCENDING))
