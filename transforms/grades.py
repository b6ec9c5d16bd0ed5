"""Sales grades (SPEC §5, §6a): the newest row carrying a typed grade or a purchase timeframe decides —
follow-ups newest first, then the lead row; the typed grade beats a timeframe on the same row; three
latest follow-ups all unreached lower the grade one step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from policy.model import Policy
from transforms.frames import in_time_order

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

_CN_NUMBERS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
               "八": "8", "九": "9", "十": "10", "半": "0.5"}
_UNIT_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "个月": 30, "月": 30, "年": 365,
              "day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}
_AMOUNT_UNIT = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十半])\s*(个月|星期|天|日|周|月|年|days?|weeks?|months?|years?)"
_DATE = r"^\d{4}\D\d{1,2}\D\d{1,2}"


def timeframe_days(text: pl.Expr, row_date: pl.Expr, policy: Policy) -> pl.Expr:
    """A timeframe phrase (`2周内`, `半年内`, `within 3 months`) or a plain date, in days from the row's date."""
    t = text.str.strip_chars().str.to_lowercase()
    phrases = {k.lower(): v for k, v in policy.grades.phrases.items()}
    from_phrase = t.replace_strict(phrases, default=None, return_dtype=pl.Float64)
    parts = t.str.extract_groups(_AMOUNT_UNIT)
    amount = parts.struct.field("1").replace(_CN_NUMBERS).cast(pl.Float64, strict=False)
    unit = parts.struct.field("2").replace_strict(_UNIT_DAYS, default=None, return_dtype=pl.Float64)
    on_date = (
        t.str.extract(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})", 0)
        .str.replace_all(r"\D", "-")
        .str.strptime(pl.Date, "%Y-%-m-%-d", strict=False)
    )
    until_date = (on_date - row_date).dt.total_days().cast(pl.Float64).clip(lower_bound=0)
    # a date before `<number><unit>`: `2026年3月5日` is a date, not 2026 years
    return pl.coalesce(from_phrase, until_date, amount * unit)


def grade_from_days(days: pl.Expr, policy: Policy) -> pl.Expr:
    g = policy.grades
    bands = g.timeframe
    expr: Then | ChainedThen = pl.when(days.is_null()).then(pl.lit(g.default))
    for band in bands:
        expr = expr.when(days <= band.max_days).then(pl.lit(band.grade))
    return expr.otherwise(pl.lit(bands[-1].grade))


def lower_one(grade: pl.Expr, policy: Policy) -> pl.Expr:
    order = policy.grades.order
    return grade.replace_strict({g: policy.grades.lower(g) for g in order}, default=grade)


def lead_grades(leads: pl.LazyFrame, followups: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """lead_id → grade. `followups` carry `lead_ref` (see transforms.links)."""
    rows = pl.concat(
        [
            followups.select(
                pl.col("lead_ref").alias("lead_id"), pl.col("contacted_at").alias("at"),
                "grade", "purchase_timeframe", pl.lit(0).alias("rank"),
            ),
            leads.select(
                "lead_id", pl.col("created_at").alias("at"), "grade", "purchase_timeframe", pl.lit(1).alias("rank"),
            ),
        ]
    ).filter(pl.col("lead_id").is_not_null())
    tf = pl.col("purchase_timeframe")
    typed = pl.when(pl.col("grade").is_in(policy.grades.order)).then(pl.col("grade"))  # one the policy knows
    stating = rows.filter(typed.is_not_null() | tf.is_not_null()).with_columns(pl.col("at").dt.date().alias("day"))
    # a timeframe's grade depends only on its text and the row's day: read each distinct pair once
    by_timeframe = (
        stating.filter(typed.is_null())
        .select("purchase_timeframe", "day")
        .unique()
        .with_columns(grade_from_days(timeframe_days(tf, pl.col("day"), policy), policy).alias("timeframe_grade"))
    )
    deciding = (
        stating.join(by_timeframe, on=["purchase_timeframe", "day"], how="left", nulls_equal=True)
        .with_columns(pl.coalesce(typed, "timeframe_grade").alias("stated_grade"))
        .group_by("lead_id")
        .agg(pl.col("stated_grade")  # the same time twice: the grade first in the alphabet, on every run
             .sort_by(["rank", "at", "stated_grade"], descending=[False, True, False]).first())
    )
    streak = policy.grades.unreached_streak
    unreached = (
        in_time_order(followups.filter(pl.col("lead_ref").is_not_null()), "contacted_at", descending=True)
        .group_by("lead_ref")
        .agg(
            (
                (pl.len() >= streak)
                & (pl.col("outcome").head(streak) == policy.grades.unreached_outcome).fill_null(False).all()
            ).alias("unreached")
        )
        .rename({"lead_ref": "lead_id"})
    )
    stated = pl.coalesce(pl.col("stated_grade"), pl.lit(policy.grades.default))
    return (
        leads.select("lead_id")
        .join(deciding, on="lead_id", how="left")
        .join(unreached, on="lead_id", how="left")
        .select(
            "lead_id",
            pl.when(pl.col("unreached").fill_null(False))
            .then(lower_one(stated, policy))
            .otherwise(stated)
            .alias("grade"),
        )
    )
