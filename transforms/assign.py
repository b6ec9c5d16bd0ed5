"""Who works each task (SPEC §6, §6a). A task whose advisor is missing from the roster or inactive is
orphaned: it goes to the manager that advisor reported to (transforms/routing.py, the one rule)."""

from __future__ import annotations

import polars as pl

from transforms.routing import active, route

UNASSIGNED = "UNASSIGNED"


def with_manager(frame: pl.LazyFrame, advisors: pl.LazyFrame, column: str = "manager_id") -> pl.LazyFrame:
    """Adds `column`: the manager `advisor_id`'s work goes up to (the routing of an orphaned task,
    transforms/routing.py), UNASSIGNED when the store has none."""
    return frame.pipe(route, advisors, "advisor_id", "store", column).with_columns(
        pl.col(column).fill_null(UNASSIGNED)
    )


def assign(tasks: pl.LazyFrame, advisors: pl.LazyFrame) -> pl.LazyFrame:
    """Adds `orphaned` and `original_advisor_id`; `advisor_id` becomes who works the task."""
    own = advisors.select("advisor_id", active().alias("advisor_active"))
    orphaned = ~pl.col("advisor_active").fill_null(False)
    return (
        tasks.join(own, on="advisor_id", how="left")
        .pipe(route, advisors, "advisor_id", "store", "routed_to")
        .with_columns(
            pl.col("advisor_id").alias("original_advisor_id"),
            orphaned.alias("orphaned"),
            pl.when(orphaned)
            .then(pl.col("routed_to").fill_null(UNASSIGNED))
            .otherwise(pl.col("advisor_id"))
            .alias("advisor_id"),
        )
        .drop("advisor_active", "routed_to")
    )
