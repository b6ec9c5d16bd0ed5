"""Who works each task (SPEC §6, §6a). A task whose advisor is missing from the roster or inactive is
orphaned: it goes to that advisor's manager when the manager is active, else to the store's first active
manager by advisor_id."""

from __future__ import annotations

import polars as pl

UNASSIGNED = "UNASSIGNED"


def _roster(advisors: pl.LazyFrame) -> pl.LazyFrame:
    return advisors.select(
        "advisor_id", "store", "role", "manager_id", pl.col("active").fill_null(True).alias("active")
    )


def _route(tasks: pl.LazyFrame, advisors: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Adds `advisor_active` and `column`: who `advisor_id`'s work goes up to — their own manager when active,
    else the store's first active manager by advisor_id, else UNASSIGNED."""
    roster = _roster(advisors)
    active_managers = roster.filter(pl.col("active") & (pl.col("role") == "manager"))
    store_manager = (
        active_managers.sort("advisor_id")
        .group_by("store")
        .agg(pl.col("advisor_id").first().alias("store_manager"))
    )
    own = roster.select(
        "advisor_id", pl.col("active").alias("advisor_active"), pl.col("manager_id").alias("own_manager")
    )
    managers = active_managers.select(pl.col("advisor_id").alias("own_manager"), pl.lit(True).alias("mgr_ok"))
    routed = pl.coalesce(
        pl.when(pl.col("mgr_ok").fill_null(False)).then(pl.col("own_manager")),
        pl.col("store_manager"),
        pl.lit(UNASSIGNED),
    )
    return (
        tasks.join(own, on="advisor_id", how="left")
        .join(managers, on="own_manager", how="left")
        .join(store_manager, on="store", how="left")
        .with_columns(routed.alias(column))
        .drop("own_manager", "mgr_ok", "store_manager")
    )


def with_manager(frame: pl.LazyFrame, advisors: pl.LazyFrame, column: str = "manager_id") -> pl.LazyFrame:
    """Adds `column`: the manager `advisor_id`'s work goes up to (the routing of an orphaned task)."""
    return _route(frame, advisors, column).drop("advisor_active")


def assign(tasks: pl.LazyFrame, advisors: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `orphaned` and `original_advisor_id`; `advisor_id` becomes who works the task."""
    orphaned = ~pl.col("advisor_active").fill_null(False)
    return (
        _route(tasks, advisors, "__routed")
        .with_columns(
            pl.col("advisor_id").alias("original_advisor_id"),
            orphaned.alias("orphaned"),
            pl.when(orphaned).then(pl.col("__routed")).otherwise(pl.col("advisor_id")).alias("advisor_id"),
        )
        .drop("advisor_active", "__routed")
    )
