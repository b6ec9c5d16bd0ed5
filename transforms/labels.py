"""The dealership's words for stages and task types, as advisors read them (worklist reasons, workbooks, mail)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

STAGE_LABELS = {"lead": "线索", "intent": "意向", "negotiating": "谈判", "dormant": "暂不考虑",
                "won": "成交", "owner": "保有", "lost": "战败"}

NO_ADVISOR = "未指定"  # the advisor of record of work that has none (a repair order without a service advisor)
SEGMENT_LABELS = {"high_value": "高价值", "potential": "潜力", "regular": "一般", "lost": "流失"}  # [rfm] segments

TASK_LABELS = {
    "complaint": "投诉处理",
    "first_contact": "首次联系",
    "followup": "意向跟进",
    "delivery_confirm": "交车确认",
    "post_delivery_d1": "交车1天回访",
    "post_delivery_d3": "交车3天回访",
    "post_delivery_d7": "交车7天回访",
    "post_delivery_d30": "交车30天回访",
    "post_service_revisit": "维修后回访",
    "first_maintenance": "首保提醒",
    "win_back": "流失召回",
    "care_call": "关怀回访",
    "trade_in": "置换邀约",
    "birthday": "生日关怀",
    "anniversary": "购车周年",
    "promised_call": "约定回访",
}


def day_label(day: pl.Expr, as_of: date) -> pl.Expr:
    """A date as an advisor reads it in a why: `10-30` in the as-of's year, `2025-10-30` in any other — never a
    month and day that could be last year's or next year's without saying so."""
    return (
        pl.when(day.dt.year() == as_of.year).then(day.dt.strftime("%m-%d")).otherwise(day.dt.strftime("%Y-%m-%d"))
    )


def moment_label(at: pl.Expr, as_of: date) -> pl.Expr:
    """A date and time as read in a why: `07-13 19:12` in the as-of's year, `2025-07-13 19:12` in any other."""
    return (
        pl.when(at.dt.year() == as_of.year)
        .then(at.dt.strftime("%m-%d %H:%M"))
        .otherwise(at.dt.strftime("%Y-%m-%d %H:%M"))
    )


def day_text(day: date, as_of: date) -> str:
    """`day_label` for one Python date (reports, messages): `11-28`, or `2027-01-05` in another year."""
    return f"{day:%m-%d}" if day.year == as_of.year else f"{day:%Y-%m-%d}"


def moment_text(at: datetime, as_of: date) -> str:
    """`moment_label` for one Python datetime (messages): `11-28 10:15`, or `2027-01-01 00:30` in another year."""
    return f"{at:%m-%d %H:%M}" if at.year == as_of.year else f"{at:%Y-%m-%d %H:%M}"
