"""Tasks of customers who bought or own a car (SPEC §6, §6a): `delivery_confirm` before a planned delivery,
`first_maintenance`, `care_call` / `win_back` for owners, `trade_in`, `birthday` and `anniversary`.

Service-only customers (no sale in the data) get no `first_maintenance`, `anniversary` or `trade_in`: those
are built from orders. `care_call` and `win_back` move only when someone reaches the customer (an 未接通
is an attempt, SPEC §6b), and wait for a promised day (transforms/promises.py).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy
from transforms.frames import format_text, in_time_order
from transforms.labels import day_label
from transforms.stages import live_order
from transforms.task_frame import task_frame
from transforms.tasks_aftersales import last_reached_dates, service_advisors


def delivery_confirm(sales: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """Per order with a planned delivery date, not delivered and not cancelled: due the day(s) before it."""
    rule = policy.tasks.delivery_confirm
    planned = pl.col("planned_delivery_at").dt.date()
    rows = sales.filter(planned.is_not_null() & pl.col("delivered_at").is_null() & live_order(policy))
    reason = format_text(
        "{} 计划 {} 交车，确认时间和证件", pl.col("model").fill_null("新车"), day_label(planned, as_of)
    )
    return task_frame(
        rows, "delivery_confirm", due=planned - pl.duration(days=rule.days_before),
        priority=pl.lit(rule.priority), reason=reason, ref=pl.col("order_id"),
    )


def _with_service_advisor(rows: pl.LazyFrame, service: pl.LazyFrame, sales: pl.LazyFrame) -> pl.LazyFrame:
    return rows.join(service_advisors(service, sales), on="customer_id", how="left")


def first_maintenance(service: pl.LazyFrame, sales: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """Per delivered order: due delivered_at + 150 days until the customer has a 首保 order on/after delivery."""
    rule = policy.tasks.first_maintenance
    delivered_on = pl.col("delivered_at").dt.date()
    done = (
        sales.filter(pl.col("delivered_at").is_not_null())
        .select("order_id", "customer_id", "delivered_at")
        .join(
            service.filter(pl.col("service_type").is_in(rule.service_types)).select("customer_id", "visited_at"),
            on="customer_id",
        )
        .filter(pl.col("visited_at").dt.date() >= pl.col("delivered_at").dt.date())
        .select("order_id")
        .unique()
    )
    rows = _with_service_advisor(
        sales.filter(pl.col("delivered_at").is_not_null()).join(done, on="order_id", how="anti"), service, sales
    )
    reason = format_text(
        "{} {} 交车，还没做首保", pl.col("model").fill_null("新车"), day_label(delivered_on, as_of)
    )
    return task_frame(
        rows, "first_maintenance", due=delivered_on + pl.duration(days=rule.offset_days),
        advisor=pl.col("customer_service_advisor"),
        priority=pl.lit(rule.priority), reason=reason, ref=pl.col("order_id"),
    )


def owner_care(
    customers: pl.LazyFrame, service: pl.LazyFrame, sales: pl.LazyFrame, followups: pl.LazyFrame,
    policy: Policy, as_of: date,
) -> pl.LazyFrame:
    """Per owner: `care_call` while the later of (last service visit, delivery) is less than `lapsed_days`
    before D, else `win_back` — never both. `customers` carry `stage` (transforms.stages.customer_state)."""
    rule = policy.tasks.owner_care
    visits = service.group_by("customer_id").agg(pl.col("visited_at").max().dt.date().alias("last_service"))
    deliveries = sales.group_by("customer_id").agg(pl.col("delivered_at").max().dt.date().alias("last_delivery"))
    rows = (
        customers.filter(pl.col("stage") == "owner")
        .select("customer_id", "store")
        .join(visits, on="customer_id", how="left")
        .join(deliveries, on="customer_id", how="left")
        .join(last_reached_dates(followups, policy), on="customer_id", how="left")
        .with_columns(pl.max_horizontal("last_service", "last_delivery").alias("anchor"))
        .filter(pl.col("anchor").is_not_null())
        .with_columns(
            ((pl.lit(as_of) - pl.col("anchor")).dt.total_days() >= rule.lapsed_days).alias("lapsed"),
            pl.max_horizontal("anchor", "touched_on").alias("last_touch"),
        )
    )
    rows = _with_service_advisor(rows, service, sales)
    care_due = pl.col("last_touch") + pl.duration(days=rule.care_interval_days)
    win_back_due = pl.max_horizontal(
        pl.col("anchor") + pl.duration(days=rule.lapsed_days),
        pl.col("touched_on") + pl.duration(days=rule.win_back_interval_days),
    )
    last_visit = day_label(pl.col("last_service"), as_of).fill_null("—")
    care = task_frame(
        rows.filter(~pl.col("lapsed")), "care_call", due=care_due, advisor=pl.col("customer_service_advisor"),
        priority=pl.lit(rule.care_priority), ref=pl.col("customer_id"),
        reason=pl.when(pl.col("last_service").is_null())
        .then(format_text("{} 交车，还没进过厂", day_label(pl.col("anchor"), as_of)))
        .when(pl.col("last_touch") == pl.col("last_service"))
        .then(format_text("上次进厂 {}，之后没联系过", last_visit))
        .otherwise(format_text("上次进厂 {}，上次联系 {}", last_visit, day_label(pl.col("last_touch"), as_of))),
    )
    win_back = task_frame(
        rows.filter(pl.col("lapsed")), "win_back", due=win_back_due, advisor=pl.col("customer_service_advisor"),
        priority=pl.lit(rule.win_back_priority), ref=pl.col("customer_id"),
        reason=format_text("{}，已 {} 天未回店",
                         pl.when(pl.col("last_service").is_null())
                         .then(pl.lit("交车 ") + day_label(pl.col("anchor"), as_of) + pl.lit(" 后没进过厂"))
                         .otherwise(pl.lit("上次进厂 ") + last_visit),
                         (pl.lit(as_of) - pl.col("anchor")).dt.total_days()),
    )
    return pl.concat([care, win_back])


def trade_in(sales: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    """Per delivered order: due delivered_at + 3 calendar years − 30 days, open through due + 60."""
    rule = policy.tasks.trade_in
    delivered_on = pl.col("delivered_at").dt.date()
    due = delivered_on.dt.offset_by(f"{rule.years}y") - pl.duration(days=rule.days_before)
    reason = format_text(
        "{} {} 交车，车龄将满 {} 年", pl.col("model").fill_null("爱车"), day_label(delivered_on, as_of),
        pl.lit(rule.years),
    )
    return task_frame(
        sales.filter(pl.col("delivered_at").is_not_null()), "trade_in",
        due=due, open_until=due + pl.duration(days=rule.open_days),
        priority=pl.lit(rule.priority), reason=reason, ref=pl.col("order_id"),
    )


def in_year(day: pl.Expr, year: int) -> pl.Expr:
    """The same month and day in `year`; 29 February → 28 February in a year that has none."""
    return day.dt.offset_by(format_text("{}y", pl.lit(year) - day.dt.year()))


def _greeting_rows(
    customers: pl.LazyFrame, service: pl.LazyFrame, sales: pl.LazyFrame, day: pl.LazyFrame
) -> pl.LazyFrame:
    """Won and owner customers with their `day`; the selling advisor while won, else the service advisor."""
    seller = (in_time_order(sales, "ordered_at", "order_id")
              .group_by("customer_id").agg(pl.col("advisor_id").last().alias("seller")))
    return (
        customers.filter(pl.col("stage").is_in(["won", "owner"]))
        .select("customer_id", "store", "stage")
        .join(day, on="customer_id")
        .join(seller, on="customer_id", how="left")
        .pipe(_with_service_advisor, service, sales)
        .with_columns(
            pl.when(pl.col("stage") == "won").then(pl.coalesce("seller", "customer_service_advisor"))
            .otherwise(pl.coalesce("customer_service_advisor", "seller")).alias("advisor_id")
        )
    )


def birthday(
    customers: pl.LazyFrame, leads: pl.LazyFrame, service: pl.LazyFrame, sales: pl.LazyFrame,
    policy: Policy, as_of: date,
) -> pl.LazyFrame:
    """The birthday from the newest lead or order row that has one, in D's year; that day only."""
    born = (
        pl.concat([
            leads.select("customer_id", "birthday", pl.col("created_at").alias("at")),
            sales.select("customer_id", "birthday", pl.col("ordered_at").alias("at")),
        ])
        .filter(pl.col("birthday").is_not_null())
        .sort("at", "birthday", maintain_order=True)
        .group_by("customer_id")
        .agg(pl.col("birthday").last())
    )
    due = in_year(pl.col("birthday"), as_of.year)
    return task_frame(
        _greeting_rows(customers, service, sales, born), "birthday", due=due, open_until=due,
        priority=pl.lit(policy.tasks.birthday.priority), ref=pl.col("customer_id"),
        reason=format_text("{} 生日，只送祝福", day_label(due, as_of)),
    )


def anniversary(
    customers: pl.LazyFrame, service: pl.LazyFrame, sales: pl.LazyFrame, policy: Policy, as_of: date
) -> pl.LazyFrame:
    """The newest delivery's date in D's year, from the first year after delivery on; that day only."""
    delivered = (
        in_time_order(sales.filter(pl.col("delivered_at").is_not_null()), "delivered_at", "order_id")
        .group_by("customer_id")
        .agg(pl.col("delivered_at").last().dt.date().alias("delivered_on"))
        .filter(pl.col("delivered_on").dt.year() < as_of.year)
    )
    due = in_year(pl.col("delivered_on"), as_of.year)
    return task_frame(
        _greeting_rows(customers, service, sales, delivered), "anniversary", due=due, open_until=due,
        priority=pl.lit(policy.tasks.anniversary.priority), ref=pl.col("customer_id"),
        reason=format_text(
            "购车 {} 周年（{} 交车）",
            pl.lit(as_of.year) - pl.col("delivered_on").dt.year(), day_label(pl.col("delivered_on"), as_of),
        ),
    )
