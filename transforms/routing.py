"""Who manages whom (SPEC §6a), decided once and used by the worklist (orphaned work), the digest (each
manager's team) and the review workbook (whose decisions a manager is asked for).

An advisor reports to their roster `manager_id` when that manager is an active manager; otherwise to their
store's first active manager by advisor_id. Work of an advisor who left or is not in the roster goes to the
manager that advisor reported to (by the same rule, from the roster row they left behind), else to the
manager of the task's store."""

from __future__ import annotations

import polars as pl

MANAGER = "manager"


def active() -> pl.Expr:
    """An advisor whose 在职 is blank counts as active."""
    return pl.col("active").fill_null(True)


def active_managers(advisors: pl.LazyFrame) -> pl.LazyFrame:
    """advisor_id, name, store, email of every active manager, by advisor_id."""
    return (
        advisors.filter(active() & (pl.col("role") == MANAGER))
        .select("advisor_id", "name", "store", "email")
        .sort("advisor_id")
    )


def store_managers(advisors: pl.LazyFrame) -> pl.LazyFrame:
    """store → store_manager: the store's first active manager by advisor_id."""
    return (
        active_managers(advisors)
        .group_by("store")
        .agg(pl.col("advisor_id").first().alias("store_manager"))
    )


def route(frame: pl.LazyFrame, advisors: pl.LazyFrame, advisor: str, store: str, into: str) -> pl.LazyFrame:
    """Adds column `into`: the manager that the advisor in column `advisor` (at the store in column `store`)
    reports to — their own active manager of record, else the store's manager; null when the store has none."""
    own = advisors.select(pl.col("advisor_id").alias(advisor), pl.col("manager_id").alias("__own"))
    heads = active_managers(advisors).select(pl.col("advisor_id").alias("__own"), pl.lit(True).alias("__ok"))
    stores = store_managers(advisors).rename({"store": store, "store_manager": "__store_mgr"})
    return (
        frame.join(own, on=advisor, how="left")
        .join(heads, on="__own", how="left")
        .join(stores, on=store, how="left")
        .with_columns(
            pl.coalesce(pl.when(pl.col("__ok").fill_null(False)).then(pl.col("__own")), "__store_mgr").alias(into)
        )
        .drop("__own", "__ok", "__store_mgr")
    )


def teams(advisors: pl.LazyFrame) -> pl.LazyFrame:
    """manager_id, advisor_id: each active sales or service advisor under the manager they report to
    (`route`), by advisor_id."""
    staff = advisors.filter(active() & (pl.col("role") != MANAGER)).select("advisor_id", "store")
    return (
        route(staff, advisors, "advisor_id", "store", "manager_id")
        .filter(pl.col("manager_id").is_not_null())
        .select("manager_id", "advisor_id")
        .sort("manager_id", "advisor_id")
    )


def manager_teams(advisors: pl.LazyFrame) -> pl.LazyFrame:
    """`active_managers` with `team`: the advisor_ids of their `teams` row, by advisor_id (empty when none)."""
    team = teams(advisors).group_by("manager_id", maintain_order=True).agg(pl.col("advisor_id").alias("team"))
    return (
        active_managers(advisors)
        .join(team, left_on="advisor_id", right_on="manager_id", how="left", maintain_order="left")
        .with_columns(pl.col("team").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
