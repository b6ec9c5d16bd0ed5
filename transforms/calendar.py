"""Closed days (SPEC §6, §6a): a due date on a closed weekday or a listed closed date (public holidays, expanded
by the policy loader) moves to the next open day — every task, birthdays included."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from policy.model import Calendar

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then


def _longest_closed_run(calendar: Calendar) -> int:
    """How many days in a row the store can be closed: the most steps a due date may need to move."""
    closed = set(calendar.closed_dates)

    def is_closed(day: date) -> bool:
        return day.isoweekday() in calendar.closed_weekdays or day in closed

    longest = len(set(calendar.closed_weekdays))
    starts = {day - timedelta(days=k) for day in closed for k in range(8)}
    for start in starts:
        run, day = 0, start
        while is_closed(day):
            run, day = run + 1, day + timedelta(days=1)
        longest = max(longest, run)
    return longest


def next_open_day(day: pl.Expr, calendar: Calendar) -> pl.Expr:
    """`day` itself when the store is open, else the first open day after it."""
    steps = _longest_closed_run(calendar)
    if steps == 0:
        return day

    def is_open(d: pl.Expr) -> pl.Expr:
        return ~d.dt.weekday().is_in(calendar.closed_weekdays) & ~d.is_in(calendar.closed_dates)

    candidates = [day + pl.duration(days=k) for k in range(steps + 1)]
    expr: Then | ChainedThen = pl.when(is_open(candidates[0])).then(candidates[0])
    for candidate in candidates[1:]:
        expr = expr.when(is_open(candidate)).then(candidate)
    return expr.otherwise(candidates[-1])


def on_open_days(tasks: pl.LazyFrame, calendar: Calendar) -> pl.LazyFrame:
    """Moves each due date to an open day; a window that would close before the moved due date (a birthday,
    listed that day only) ends on it instead."""
    moved = next_open_day(pl.col("due_date"), calendar)
    return tasks.with_columns(
        moved.alias("due_date"),
        pl.when(pl.col("open_until").is_not_null())
        .then(pl.max_horizontal("open_until", moved))
        .alias("open_until"),
    )
