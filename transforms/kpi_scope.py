"""One store's view of the night's KPIs (issue #16): a store manager's report holds their store's figures in
place of the group's, only their store's advisors, and nothing of other stores. The charts fed by group-wide
facts only (deal cycles, lost reasons) and the per-source figures (not computed per store) are left out."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from transforms.kpis import GROUP, KpiResult


def for_store(result: KpiResult, store: str, advisor_ids: list[str]) -> KpiResult:
    """`result` as `store`'s manager reads it; `advisor_ids`: the store's advisors."""

    def scoped(frame: pl.DataFrame) -> pl.DataFrame:
        dim, member = pl.col("dimension"), pl.col("member")
        mine = ((dim == "store") & (member == store)) | ((dim == "advisor") & member.is_in(advisor_ids))
        as_group = frame.filter((dim == "store") & (member == store)).with_columns(
            pl.lit("group").alias("dimension"), pl.lit(GROUP).alias("member")
        )
        return pl.concat([as_group, frame.filter(mine)])

    members = {
        "group": [GROUP],
        "store": [m for m in result.members.get("store", []) if m == store],
        "advisor": [m for m in result.members.get("advisor", []) if m in set(advisor_ids)],
        "source": [],
    }
    return replace(
        result,
        table=scoped(result.table),
        segments=scoped(result.segments),
        deal_cycles=result.deal_cycles.clear(),
        lost_reasons=result.lost_reasons.clear(),
        store_tickets=result.store_tickets.filter(pl.col("store") == store),
        members=members,
    )
