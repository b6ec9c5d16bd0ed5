"""After-sales tasks, per order or repair order (SPEC §6): post-delivery calls, the revisit after a service
visit, and complaints."""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy
from transforms.frames import format_text, in_time_order
from transforms.labels import day_label
from transforms.promises import reached
from transforms.task_frame import task_frame


def last_reached_dates(followups: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """customer_id → touched_on: the date of the customer's latest follow-up that reached them (an 未接通 is an
    attempt: it closes no complaint or revisit and moves no care call or win-back, SPEC §6b)."""
    return followups.filter(reached(policy)).group_by("customer_id").agg(
        pl.col("contacted_at").max().dt.date().alias("touched_on"))


def service_advisors(service: pl.LazyFrame, sales: pl.LazyFrame) -> pl.LazyFrame:
    """customer_id → service advisor: the latest service order that names one, else the latest seller."""
    by_service = (
        in_time_order(service.filter(pl.col("service_advisor_id").is_not_null()), "visited_at", "ro_id")
        .group_by("customer_id")
        .agg(pl.col("service_advisor_id").last().alias("svc_advisor"))
    )
    by_sale = (in_time_order(sales, "ordered_at", "order_id")
              .group_by("customer_id").agg(pl.col("advisor_id").last().alias("seller")))
    return (
        by_service.join(by_sale, on="customer_id", how="full", coalesce=True)
        .select("customer_id", pl.coalesce("svc_advisor", "seller").alias("customer_service_advisor"))
    )


def _not_touched_since(due: pl.Expr) -> pl.Expr:
    return pl.col("touched_on").is_null() | (pl.col("touched_on") < due)


def post_delivery(sales: pl.LazyFrame, followups: pl.LazyFrame, policy: Policy, as_of: date) -> pl.LazyFrame:
    rule = policy.tasks.post_delivery
    delivered = sales.filter(pl.col("delivered_at").is_not_null()).join(
        last_reached_dates(followups, policy), on="customer_id", how="left"
    )
    frames = []
    for task_type, offset in rule.offsets.items():
        due = pl.col("delivered_at").dt.date() + pl.duration(days=offset)
        reason = format_text(
            "{} {} 交车，{} 前回访", pl.col("model").fill_null("新车"),
            day_label(pl.col("delivered_at"), as_of), day_label(due + pl.duration(days=rule.open_days), as_of),
        )
        frames.append(
            task_frame(
                delivered.filter(_not_touched_since(due)), task_type,
                due=due, open_until=due + pl.duration(days=rule.open_days),
                priority=pl.lit(rule.priority), reason=reason, ref=pl.col("order_id"),
            )
        )
    return pl.concat(frames)


def _order_advisor(service: pl.LazyFrame, sales: pl.LazyFrame) -> pl.LazyFrame:
    return service.join(service_advisors(service, sales), on="customer_id", how="left").with_columns(
        pl.coalesce("service_advisor_id", "customer_service_advisor").alias("advisor_id")
    )


def post_service_revisit(
    service: pl.LazyFrame, sales: pl.LazyFrame, followups: pl.LazyFrame, policy: Policy, as_of: date
) -> pl.LazyFrame:
    rule = policy.tasks.post_service_revisit
    due = pl.col("visited_at").dt.date() + pl.duration(days=rule.offset_days)
    reason = format_text(
        "{} 进厂{}，{} 前回访", day_label(pl.col("visited_at"), as_of), pl.col("service_type").fill_null(""),
        day_label(due + pl.duration(days=rule.open_days), as_of),
    )
    rows = _order_advisor(service, sales).join(last_reached_dates(followups, policy), on="customer_id", how="left")
    return task_frame(
        rows.filter(_not_touched_since(due)), "post_service_revisit",
        due=due, open_until=due + pl.duration(days=rule.open_days),
        priority=pl.lit(rule.priority), reason=reason, ref=pl.col("ro_id"),
    )


def is_complaint(policy: Policy) -> pl.Expr:
    """complaint = yes, a complaint text, or a low CSAT read per value: ≤ 5 is the 1–5 scale (SPEC §6a)."""
    rule = policy.tasks.complaint
    csat = pl.col("csat")
    low = pl.when(csat <= 5).then(csat < rule.csat_below_5).otherwise(csat < rule.csat_below_100)
    text = pl.col("complaint_text").fill_null("").str.strip_chars() != ""
    return pl.col("complaint").fill_null(False) | text | low.fill_null(False)


def complaint(
    service: pl.LazyFrame, sales: pl.LazyFrame, followups: pl.LazyFrame, policy: Policy, as_of: date
) -> pl.LazyFrame:
    due = pl.col("visited_at").dt.date()
    score = pl.col("csat").cast(pl.Int64, strict=False).cast(pl.String)
    text = pl.col("complaint_text").fill_null("").str.strip_chars()
    reason = format_text(
        "{} 进厂（工单 {}）{}{}", day_label(pl.col("visited_at"), as_of), "ro_id",
        pl.when(pl.col("csat") <= 5).then(format_text("满意度 {}/5", score))
        .when(score.is_not_null()).then(format_text("满意度 {} 分", score)).otherwise(pl.lit("客户投诉")),
        pl.when(text != "").then(pl.lit("：") + text).otherwise(pl.lit("")),
    )
    rows = (
        _order_advisor(service, sales)
        .filter(is_complaint(policy))
        .join(last_reached_dates(followups, policy), on="customer_id", how="left")
    )
    return task_frame(
        rows.filter(_not_touched_since(due)), "complaint",
        due=due, priority=pl.lit(policy.tasks.complaint.priority), reason=reason, ref=pl.col("ro_id"),
    )
