"""The managers' KPIs (SPEC §8) for the group, each store, advisor and source channel, month-to-date and
over the trailing 30 days, as pure functions of (inputs, policy, as-of date).

Each KPI is declared once, beside the function that computes it (`@kpi(...)`): key, Chinese and English
labels, the definition the report prints as a footnote, and `rows(facts, window)`, which returns one row per
counted unit (a lead, a task, a deal, an owner, a rated visit) with the columns `store`, `advisor_id`,
`source` and `x`. How `x` is aggregated per group, store, advisor and source is the KPI's `aggregate`:
`mean` (rates: `x` is 0/1, and the value is null when nothing is counted), `median`, `count`, `segments`.

Windows are inclusive and end on D: month-to-date is the 1st of D's month to D; the trailing 30 days are
D − 29 to D. "On D" KPIs (retention, churn, RFM, overdue backlog) are the same in both windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Literal

import polars as pl

from policy.model import Policy
from transforms.frames import ENGINE, Inputs, format_text, in_time_order
from transforms.grades import lead_grades
from transforms.labels import SEGMENT_LABELS
from transforms.night import Night, prepare
from transforms.promises import promised_on, reached
from transforms.rfm import segment_owners
from transforms.stages import live_order
from transforms.tasks_aftersales import is_complaint, service_advisors
from transforms.tasks_pipeline import call_by
from transforms.worklist import worklist_from

UNKNOWN_SOURCE = "未知"
DIMENSIONS = ("group", "store", "advisor", "source")
DIMENSION_COLUMN = {"store": "store", "advisor": "advisor_id", "source": "source"}
GROUP = "all"
TABLE_SCHEMA = pl.DataFrame(schema={"period": pl.String, "dimension": pl.String, "member": pl.String,
                                    "key": pl.String, "value": pl.Float64, "num": pl.Float64, "n": pl.Int64})
REACHED_INTENT = ("intent", "negotiating", "won", "owner")
WON = ("won", "owner")
Aggregate = Literal["mean", "median", "count", "segments"]
Unit = Literal["rate", "days", "hours", "score", "count", "segments"]


@dataclass(frozen=True)
class Window:
    name: str  # "mtd" or "t30"
    start: date
    end: date  # D

    def holds(self, day: pl.Expr) -> pl.Expr:
        return (day >= pl.lit(self.start)) & (day <= pl.lit(self.end))


def windows(as_of: date) -> tuple[Window, Window]:
    return Window("mtd", as_of.replace(day=1), as_of), Window("t30", as_of - timedelta(days=29), as_of)


def span(as_of: date) -> Window:
    """From the earliest window's first day to D: the only due dates a KPI reads. The tasks of the past are
    rebuilt for these alone (issue #17: at group scale, every task of the history was 3.2 M rows and the
    largest part of the KPIs' time)."""
    return Window("span", min(w.start for w in windows(as_of)), as_of)


@dataclass(frozen=True)
class Facts:
    """What the KPIs are computed from, collected once (one row per unit; see `build_facts`)."""

    as_of: date
    policy: Policy
    leads: pl.DataFrame  # lead_id, store, advisor_id, source, created_on, stage, sla_due, first_followup_on,
    # response_hours (lead created → its first follow-up; null while not called)
    tasks: pl.DataFrame  # task_type, store, advisor_id, source, due, done_on: due in the windows (`span`)
    deals: pl.DataFrame  # order_id, store, advisor_id, source, ordered_on, cycle_days, referred
    visits: pl.DataFrame  # ro_id, store, advisor_id, source, visited_on, csat100
    owners: pl.DataFrame  # customer_id, store, advisor_id, source, recency_days, segment, mean_ticket, ...
    overdue: pl.DataFrame  # store, advisor_id, source: one row per overdue task on D's worklist


# --- the registry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label_zh: str
    label_en: str
    definition_zh: str  # may name policy terms in braces, see `policy_terms`
    definition_en: str
    unit: Unit
    aggregate: Aggregate
    rows: Callable[[Facts, Window], pl.DataFrame]
    on_d: bool = False  # the same in every window

    def definition(self, language: str, policy: Policy) -> str:
        text = self.definition_zh if language == "zh" else self.definition_en
        return text.format(**policy_terms(policy))

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en


KPIS: dict[str, Kpi] = {}


def kpi(key: str, label_zh: str, label_en: str, unit: Unit, aggregate: Aggregate, definition_zh: str,
        definition_en: str, on_d: bool = False) -> Callable[[Callable[[Facts, Window], pl.DataFrame]], Kpi]:
    def register(rows: Callable[[Facts, Window], pl.DataFrame]) -> Kpi:
        entry = Kpi(key, label_zh, label_en, definition_zh, definition_en, unit, aggregate, rows, on_d)
        KPIS[key] = entry
        return entry
    return register


def policy_terms(policy: Policy) -> dict[str, object]:
    hours = policy.tasks.first_contact.due_hours
    return {
        "churn_days": policy.rfm.churn_days,
        "window_days": policy.rfm.window_days,
        "sla_hours": "、".join(f"{g} {h}h" for g, h in hours.items()),
        "sla_hours_en": ", ".join(f"{g} {h} h" for g, h in hours.items()),
        "revisit_days": policy.tasks.post_service_revisit.offset_days,
        "delivery_days": "/".join(str(d) for d in policy.tasks.post_delivery.offsets.values()),
        "segments": " → ".join([*(s.name for s in policy.rfm.segments), policy.rfm.fallback]),
        "segments_zh": " → ".join(SEGMENT_LABELS.get(n, n) for n in [*(s.name for s in policy.rfm.segments),
                                                                    policy.rfm.fallback]),
    }


def _units(frame: pl.DataFrame, x: pl.Expr) -> pl.DataFrame:
    return frame.select("store", "advisor_id", "source", x.alias("x"))


def _cohort(f: Facts, w: Window) -> pl.DataFrame:
    return f.leads.filter(w.holds(pl.col("created_on")))


def _judged(done_on: str, due: str, as_of: date) -> pl.Expr:
    """A task is judged once it is done, or once its due date has passed; one due on D and not yet done is
    left out (the day is not over)."""
    return pl.col(done_on).is_not_null() | (pl.col(due) < pl.lit(as_of))


@kpi("lead_to_intent", "线索→意向转化率", "Lead → intent", "rate", "mean",
     "窗口内新建的线索中，截至 D 日处于意向、谈判、成交或保有阶段的比例（已战败、暂不考虑的线索算未转化）。",
     "Of the leads created in the window, the share that on D are at intent, negotiating, won or owner "
     "(lost and dormant leads count as not converted).")
def _lead_to_intent(f: Facts, w: Window) -> pl.DataFrame:
    return _units(_cohort(f, w), pl.col("stage").is_in(REACHED_INTENT).cast(pl.Float64))


@kpi("intent_to_won", "意向→成交转化率", "Intent → won", "rate", "mean",
     "窗口内新建、截至 D 日已达意向及以上的线索中，已成交（有未退订的订单，或 CRM 状态为成交）的比例。",
     "Of the leads created in the window that reached intent or beyond by D, the share won (an order not "
     "cancelled, or the CRM status 成交).")
def _intent_to_won(f: Facts, w: Window) -> pl.DataFrame:
    reached = _cohort(f, w).filter(pl.col("stage").is_in(REACHED_INTENT))
    return _units(reached, pl.col("stage").is_in(WON).cast(pl.Float64))


@kpi("lead_to_won", "线索→成交转化率", "Lead → won", "rate", "mean",
     "窗口内新建的线索中，截至 D 日已成交的比例（= 线索→意向 × 意向→成交）。",
     "Of the leads created in the window, the share won by D (= lead → intent × intent → won).")
def _lead_to_won(f: Facts, w: Window) -> pl.DataFrame:
    return _units(_cohort(f, w), pl.col("stage").is_in(WON).cast(pl.Float64))


@kpi("first_response_sla", "首次响应及时率", "First-response SLA", "rate", "mean",
     "窗口内新建的线索（勿扰客户除外）中，首次跟进日期不晚于首次联系应办日的比例；应办日 = 留资时间 + "
     "{sla_hours}（按录入时的级别），取日期。应办日为 D 日且尚未跟进的线索暂不计入。",
     "Of the leads created in the window (do-not-contact customers left out), the share whose first "
     "follow-up is dated on or before the first-contact due date: created_at + {sla_hours_en} by the grade "
     "the lead was entered with, as a date. A lead due on D and not yet called is not counted yet.")
def _first_response_sla(f: Facts, w: Window) -> pl.DataFrame:
    judged = _cohort(f, w).filter(~pl.col("dnc") & _judged("first_followup_on", "sla_due", f.as_of))
    met = (pl.col("first_followup_on") <= pl.col("sla_due")).fill_null(False)
    return _units(judged, met.cast(pl.Float64))


@kpi("first_response_hours", "首次响应时长中位数（小时）", "First response, median hours", "hours", "median",
     "窗口内新建并已有首次跟进的线索（勿扰客户除外），从留资时间到首次跟进时间的小时数的中位数；"
     "尚未跟进的线索不计（它们计入首次响应及时率）。",
     "Median hours from a lead's created_at to its first follow-up, over the leads created in the window that "
     "have been followed up (do-not-contact customers left out); leads not yet called are left out (the "
     "first-response SLA counts them).")
def _first_response_hours(f: Facts, w: Window) -> pl.DataFrame:
    called = _cohort(f, w).filter(~pl.col("dnc") & pl.col("response_hours").is_not_null())
    return _units(called, pl.col("response_hours").clip(lower_bound=0))


@kpi("followup_on_time", "跟进按时完成率", "Follow-ups on time", "rate", "mean",
     "应办日在窗口内的任务中，在应办日当天或之前完成的比例。任务由数据重建：首次联系（首次跟进）；"
     "顾问约定的下次跟进时间（该线索的下一次跟进）；交车第 {delivery_days} 天回访、维修后第 {revisit_days} "
     "天回访（应办日当天起的客户跟进）；投诉（进厂当天起的跟进）。应办日为 D 日且尚未完成的不计入；"
     "勿扰客户只计投诉。",
     "Of the tasks due in the window, the share done by their due date. Tasks are rebuilt from the data: "
     "first contact (the lead's first follow-up); each planned next follow-up date (the lead's next "
     "follow-up); post-delivery calls on day {delivery_days} and the revisit {revisit_days} days after a "
     "service visit (the customer's first follow-up on or after the due date); complaints (a follow-up on or "
     "after the visit date). A task due on D and not done yet is not counted; do-not-contact customers count "
     "for complaints only.")
def _followup_on_time(f: Facts, w: Window) -> pl.DataFrame:
    judged = f.tasks.filter(w.holds(pl.col("due")) & _judged("done_on", "due", f.as_of))
    return _units(judged, (pl.col("done_on") <= pl.col("due")).fill_null(False).cast(pl.Float64))


@kpi("deal_cycle_median_days", "成交周期中位数（天）", "Deal cycle, median days", "days", "median",
     "窗口内下订且未退订的订单，从其线索留资日到下订日的天数的中位数；找不到线索的订单不计。",
     "Median days from the lead's created_at to ordered_at, over the orders placed in the window and not "
     "cancelled; orders with no lead are left out.")
def _deal_cycle(f: Facts, w: Window) -> pl.DataFrame:
    deals = f.deals.filter(w.holds(pl.col("ordered_on")) & pl.col("cycle_days").is_not_null())
    return _units(deals, pl.col("cycle_days").cast(pl.Float64))


@kpi("referral_rate", "转介绍率", "Referral rate", "rate", "mean",
     "窗口内下订且未退订的订单中，订单或其线索填有推荐人电话的比例。",
     "Of the orders placed in the window and not cancelled, the share with a referrer phone on the order or "
     "on its lead.")
def _referral_rate(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.deals.filter(w.holds(pl.col("ordered_on"))), pl.col("referred").cast(pl.Float64))


@kpi("retention_1y", "一年保有率", "1-year retention", "rate", "mean",
     "D 日的保有客户中，最近一次售后进厂距 D 日不超过 {churn_days} 天的比例（按 D 日计算，与窗口无关）。",
     "Of the owners on D, the share whose latest service visit is at most {churn_days} days before D "
     "(as on D, the same in both windows).", on_d=True)
def _retention(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.owners, pl.col("retained").cast(pl.Float64))


@kpi("churn_1y", "流失率", "Churn", "rate", "mean",
     "1 − 一年保有率：D 日的保有客户中，{churn_days} 天内没有售后进厂的比例。",
     "1 − retention: the share of owners on D with no service visit in {churn_days} days.", on_d=True)
def _churn(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.owners, (~pl.col("retained")).cast(pl.Float64))


@kpi("csat_mean", "平均满意度", "Mean CSAT", "score", "mean",
     "窗口内进厂、有满意度评分的售后工单的平均分，百分制（5 分制的分数 × 20）。",
     "Mean CSAT of the service orders visited in the window that carry one, on the 0–100 scale (a 1–5 score "
     "× 20).")
def _csat_mean(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.visits.filter(w.holds(pl.col("visited_on"))), pl.col("csat100"))


@kpi("csat_share_90", "满意度 ≥ 90 占比", "CSAT ≥ 90 share", "rate", "mean",
     "同上工单中，百分制满意度 ≥ 90 的比例。",
     "Of the same service orders, the share scoring 90 or more on the 0–100 scale.")
def _csat_share_90(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.visits.filter(w.holds(pl.col("visited_on"))), (pl.col("csat100") >= 90).cast(pl.Float64))


@kpi("overdue_backlog", "逾期待办", "Overdue backlog", "count", "count",
     "D 日工作清单上已逾期（逾期天数 > 0）的任务数，记在接手的顾问名下（转交的任务记在经理名下）。",
     "Tasks on D's worklist past their due date (days overdue > 0), under the advisor who works them "
     "(orphaned work under the manager).", on_d=True)
def _overdue_backlog(f: Facts, w: Window) -> pl.DataFrame:
    return _units(f.overdue, pl.lit(1.0))


@kpi("rfm", "RFM 客群", "RFM segments", "segments", "segments",
     "D 日的保有客户按售后 RFM 分群的人数：近 {window_days} 天的进厂次数与单次平均金额，"
     "与同门店保有客户的平均客单价相比；依次判断 {segments_zh}，先符合者为准。",
     "Owners on D by service segment (SPEC §7): visits and mean amount per visit in the last {window_days} "
     "days, against the average ticket of the store's owners; {segments}, first match wins.", on_d=True)
def _rfm(f: Facts, w: Window) -> pl.DataFrame:
    return f.owners.select("store", "advisor_id", "source", pl.col("segment").alias("x"))


# --- facts ------------------------------------------------------------------------------------------------


def _source(col: str = "source") -> pl.Expr:
    text = pl.col(col).str.strip_chars()
    return pl.when(text.is_null() | (text == "")).then(pl.lit(UNKNOWN_SOURCE)).otherwise(text).alias("source")


def _first_on_or_after(tasks: pl.LazyFrame, touches: pl.LazyFrame) -> pl.LazyFrame:
    """tasks (task_key, customer_id, due) + done_on: the customer's first touch dated on or after due (an
    as-of join: each task meets one touch, not all of its customer's)."""
    first = (
        tasks.select("task_key", "customer_id", "due")
        .sort("due")
        .join_asof(touches.select("customer_id", "touched_on", pl.col("touched_on").alias("done_on"))
                   .sort("touched_on"),
                   left_on="due", right_on="touched_on", by="customer_id", strategy="forward",
                   check_sortedness=False)  # sorted just above
        .group_by("task_key")
        .agg(pl.col("done_on").min())
    )
    return tasks.join(first, on="task_key", how="left")


def build_facts(inputs: Inputs, policy: Policy, as_of: date, worklist: pl.DataFrame | None = None,
                night: Night | None = None) -> Facts:
    """`inputs` as loaded; `worklist` the night's and `night` its state (`transforms.night.prepare`), each
    worked out here when not given."""
    night = night or prepare(inputs, policy, as_of)
    if worklist is None:
        worklist = worklist_from(night, policy, as_of)
    lead_rows, service = night.ident.leads, night.ident.service
    followups, sales, state, customers = night.followups, night.sales, night.leads, night.customers

    dnc = customers.select("customer_id", pl.col("do_not_contact").alias("dnc"))
    customer_source = (
        in_time_order(lead_rows, "created_at", "lead_id").group_by("customer_id").agg(pl.col("source").last()).select(
            "customer_id", _source()
        )
    )
    customer_advisor = service_advisors(service, sales)
    touches = (  # what closes a post-delivery call, a revisit or a complaint: a follow-up that reached the customer
        followups.filter(reached(policy)).select("customer_id", pl.col("contacted_at").dt.date().alias("touched_on"))
        .unique()
    )

    # grade as the lead was entered: the lead row alone decides the first-contact SLA
    no_followups = followups.filter(pl.lit(False))
    entry_grade = lead_grades(lead_rows, no_followups, policy).rename({"grade": "entry_grade"})
    first_followup = (
        followups.filter(pl.col("lead_ref").is_not_null())
        .group_by("lead_ref")
        .agg(pl.col("contacted_at").min().alias("first_followup_at"))
        .rename({"lead_ref": "lead_id"})
    )
    leads = (
        state.join(entry_grade, on="lead_id", how="left")
        .join(first_followup, on="lead_id", how="left")
        .join(dnc, on="customer_id", how="left")
        .select(
            "lead_id", "customer_id", "store", "advisor_id", _source(),
            pl.col("created_at").dt.date().alias("created_on"), "stage", "lost_reason", "referrer_phone",
            call_by(pl.col("created_at"), pl.col("entry_grade"), policy).dt.date().alias("sla_due"),
            pl.col("first_followup_at").dt.date().alias("first_followup_on"),
            ((pl.col("first_followup_at") - pl.col("created_at")).dt.total_seconds() / 3600).alias("response_hours"),
            pl.col("dnc").fill_null(False),
        )
    )

    # read by several facts below: worked out once. Left lazy, each fact's plan worked them out again (the tasks'
    # several times): 20-store group, compute_kpis 4.4 s that way, 2.6 s collected here once (docs/benchmarks.md)
    leads, customer_source, customer_advisor, dnc, touches = (frame.lazy() for frame in pl.collect_all(
        [leads, customer_source, customer_advisor, dnc, touches], engine=ENGINE))

    live = live_order(policy)
    lead_side = leads.select(
        pl.col("lead_id").alias("lead_ref"), "created_on", "source",
        pl.col("referrer_phone").alias("lead_referrer"),
    )
    orders = sales.join(lead_side, on="lead_ref", how="left")
    deals = orders.filter(live | pl.col("delivered_at").is_not_null()).select(
        "order_id", "store", "advisor_id", pl.col("source").fill_null(UNKNOWN_SOURCE),
        pl.col("ordered_at").dt.date().alias("ordered_on"),
        (pl.col("ordered_at").dt.date() - pl.col("created_on")).dt.total_days().alias("cycle_days"),
        (pl.col("referrer_phone").is_not_null() | pl.col("lead_referrer").is_not_null()).alias("referred"),
    )

    tasks = _tasks(policy, span(as_of), leads, followups, orders, service, customer_source, customer_advisor, dnc,
                   touches)

    ros = (
        service.join(customer_advisor, on="customer_id", how="left")
        .join(customer_source, on="customer_id", how="left")
        .with_columns(pl.coalesce("service_advisor_id", "customer_service_advisor").alias("advisor_id"),
                      pl.col("source").fill_null(UNKNOWN_SOURCE))
    )
    visits = ros.filter(pl.col("csat").is_not_null()).select(
        "ro_id", "store", "advisor_id", "source", pl.col("visited_at").dt.date().alias("visited_on"),
        pl.when(pl.col("csat") <= 5).then(pl.col("csat") * 20).otherwise(pl.col("csat")).alias("csat100"),
    )

    owner_rows = customers.filter(pl.col("stage") == "owner").select("customer_id", "store")
    owners = (
        segment_owners(owner_rows, service, policy, as_of)
        .join(customer_advisor, on="customer_id", how="left")
        .join(customer_source, on="customer_id", how="left")
        .with_columns(
            pl.col("customer_service_advisor").alias("advisor_id"),
            pl.col("source").fill_null(UNKNOWN_SOURCE),
            (pl.col("recency_days") <= policy.rfm.churn_days).fill_null(False).alias("retained"),
        )
    )

    overdue = (
        worklist.lazy().filter(pl.col("days_overdue") > 0)
        .join(leads.select("lead_id", pl.col("source").alias("lead_source")), on="lead_id", how="left")
        .join(customer_source, on="customer_id", how="left")
        .select("store", "advisor_id",
                pl.coalesce("lead_source", "source", pl.lit(UNKNOWN_SOURCE)).alias("source"))
    )
    collected = pl.collect_all([leads, tasks, deals, visits, owners, overdue], engine=ENGINE)
    return Facts(as_of, policy, *collected)


def _tasks(policy: Policy, due_in: Window, leads: pl.LazyFrame, followups: pl.LazyFrame, orders: pl.LazyFrame,
           service: pl.LazyFrame, customer_source: pl.LazyFrame, customer_advisor: pl.LazyFrame,
           dnc: pl.LazyFrame, touches: pl.LazyFrame) -> pl.LazyFrame:
    """The tasks of the past due in `due_in`, rebuilt: task_type, store, advisor_id, source, due, done_on. A
    planned follow-up's done_on (the lead's next follow-up) is found among all of the lead's follow-ups."""
    cols = ("task_type", "store", "advisor_id", "source", "due", "done_on")
    first_contact = leads.filter(~pl.col("dnc") & due_in.holds(pl.col("sla_due"))).select(
        pl.lit("first_contact").alias("task_type"), "store", "advisor_id", "source",
        pl.col("sla_due").alias("due"), pl.col("first_followup_on").alias("done_on"),
    )
    planned = (
        in_time_order(followups.filter(pl.col("lead_ref").is_not_null()), "contacted_at")
        .with_columns(
            pl.col("contacted_at").shift(-1).over("lead_ref").dt.date().alias("done_on"),
            promised_on(pl.col("next_followup_at"), pl.col("contacted_at"), policy).alias("due"),  # as the worklist
        )
        .filter(due_in.holds(pl.col("due")))
        .join(leads.filter(~pl.col("dnc")).select(pl.col("lead_id").alias("lead_ref"), "store",
                                                   pl.col("advisor_id").alias("lead_advisor"), "source"),
              on="lead_ref", how="inner")
        .select(pl.lit("followup").alias("task_type"), "store", pl.col("lead_advisor").alias("advisor_id"),
                "source", "due", "done_on")
    )
    delivered = (
        orders.filter(pl.col("delivered_at").is_not_null())
        .join(dnc, on="customer_id", how="left")
        .filter(~pl.col("dnc").fill_null(False))
    )
    post_delivery = pl.concat([
        delivered.select(
            pl.lit(task_type).alias("task_type"), "customer_id", "store", "advisor_id",
            pl.col("source").fill_null(UNKNOWN_SOURCE),
            (pl.col("delivered_at").dt.date() + pl.duration(days=offset)).alias("due"),
            format_text("{}:{}", pl.lit(task_type), "order_id").alias("task_key"),
        )
        for task_type, offset in policy.tasks.post_delivery.offsets.items()
    ])
    ros = (
        service.join(customer_advisor, on="customer_id", how="left")
        .join(customer_source, on="customer_id", how="left")
        .join(dnc, on="customer_id", how="left")
        .with_columns(
            pl.coalesce("service_advisor_id", "customer_service_advisor").alias("advisor_id"),
            pl.col("source").fill_null(UNKNOWN_SOURCE), pl.col("dnc").fill_null(False),
        )
    )
    revisit_days = policy.tasks.post_service_revisit.offset_days
    after_service = pl.concat([
        ros.filter(~pl.col("dnc")).select(
            pl.lit("post_service_revisit").alias("task_type"), "customer_id", "store", "advisor_id", "source",
            (pl.col("visited_at").dt.date() + pl.duration(days=revisit_days)).alias("due"),
            format_text("revisit:{}", "ro_id").alias("task_key"),
        ),
        ros.filter(is_complaint(policy)).select(
            pl.lit("complaint").alias("task_type"), "customer_id", "store", "advisor_id", "source",
            pl.col("visited_at").dt.date().alias("due"), format_text("complaint:{}", "ro_id").alias("task_key"),
        ),
    ])
    per_customer = _first_on_or_after(
        pl.concat([post_delivery, after_service]).filter(due_in.holds(pl.col("due"))), touches
    ).select(cols)
    return pl.concat([first_contact.select(cols), planned.select(cols), per_customer])


# --- aggregation ------------------------------------------------------------------------------------------
#
# Every KPI's units of both windows go into one frame tagged with period, key and aggregate; one group_by per
# dimension (the group, store, advisor, source) aggregates all of them at once. The cost grows with the
# units, not with the number of stores, advisors or sources.

KpiCell = tuple[float | None, float | None, int]  # value, num, n


@dataclass(frozen=True)
class KpiResult:
    """`table`: period, dimension, member, key, value, num, n (one row per KPI value that has units);
    `segments`: period, dimension, member, segment, customers; `deal_cycles`, `lost_reasons` feed charts."""

    as_of: date
    windows: tuple[Window, Window]
    table: pl.DataFrame
    segments: pl.DataFrame
    segment_names: tuple[str, ...]
    deal_cycles: pl.DataFrame  # period, days
    lost_reasons: pl.DataFrame  # period, lost_reason, leads
    store_tickets: pl.DataFrame  # store, avg_ticket (yuan), owners
    members: dict[str, list[str]] = field(default_factory=dict)  # dimension → members, sorted

    @cached_property
    def cells(self) -> dict[tuple[str, str, str], dict[str, KpiCell]]:
        """`table` indexed once: (period, dimension, member) → key → (value, num, n)."""
        out: dict[tuple[str, str, str], dict[str, KpiCell]] = {}
        for period, dimension, member, key, value, num, n in self.table.iter_rows():
            out.setdefault((period, dimension, member), {})[key] = (value, num, n)
        return out

    @cached_property
    def segment_counts(self) -> dict[tuple[str, str, str], dict[str, int]]:
        """`segments` indexed once: (period, dimension, member) → segment → customers."""
        out: dict[tuple[str, str, str], dict[str, int]] = {}
        for period, dimension, member, segment, customers in self.segments.iter_rows():
            out.setdefault((period, dimension, member), {})[segment] = customers
        return out

    def cell(self, period: str, dimension: str, member: str, key: str) -> KpiCell | None:
        """One KPI value with its numerator and unit count; None where nothing was counted."""
        return self.cells.get((period, dimension, member), {}).get(key)


def _value_and_num() -> list[pl.Expr]:
    """value and num by the KPI's aggregate: mean → (mean of x, sum of x), median → (median, null),
    count → (units, units)."""
    how, units = pl.col("aggregate"), pl.col("n").cast(pl.Float64)
    return [
        pl.when(how == "mean").then(pl.col("mean")).when(how == "median").then(pl.col("median"))
        .otherwise(units).alias("value"),
        pl.when(how == "mean").then(pl.col("sum")).when(how == "median").then(pl.lit(None, pl.Float64))
        .otherwise(units).alias("num"),
    ]


def _by_dimension(units: pl.LazyFrame, by: tuple[str, ...], aggs: list[pl.Expr]) -> pl.LazyFrame:
    """`aggs` per `by` for the group and for each store, advisor and source; a unit with no store (advisor,
    source) counts for the group only."""
    names = [a.meta.output_name() for a in aggs]
    frames = [units.group_by(*by).agg(aggs).with_columns(pl.lit("group").alias("dimension"),
                                                          pl.lit(GROUP).alias("member"))]
    for dimension, col in DIMENSION_COLUMN.items():
        frames.append(
            units.filter(pl.col(col).is_not_null())
            .group_by(col, *by).agg(aggs)
            .rename({col: "member"})
            .with_columns(pl.lit(dimension).alias("dimension"))
        )
    # one dimension after the other: at once, the four group-bys' tables over every unit row sit in memory together
    # (20-store history: the KPIs' peak ~955 → ~870 MB); each computes the same values either way
    return pl.concat([f.select("dimension", "member", *by, *names) for f in frames], parallel=False)


def compute_kpis(
    inputs: Inputs, policy: Policy, as_of: date, worklist: pl.DataFrame | None = None, night: Night | None = None
) -> KpiResult:
    """Every KPI for both windows and every dimension. `inputs` as loaded (known_on is applied here)."""
    facts = build_facts(inputs, policy, as_of, worklist, night)
    wins = windows(as_of)
    values, segments = [], []
    for w in wins:
        for key, entry in KPIS.items():
            units = entry.rows(facts, w).lazy().with_columns(pl.lit(w.name).alias("period"))
            if entry.aggregate == "segments":
                segments.append(units.select("period", "store", "advisor_id", "source",
                                             pl.col("x").alias("segment")))
            else:
                values.append(units.select(
                    "period", pl.lit(key).alias("key"), pl.lit(entry.aggregate).alias("aggregate"),
                    "store", "advisor_id", "source", pl.col("x").cast(pl.Float64),
                ))
    x = pl.col("x")
    per_kpi = _by_dimension(
        pl.concat(values), ("period", "key", "aggregate"),
        [x.mean().alias("mean"), x.median().alias("median"), x.sum().alias("sum"), pl.len().alias("n")],
    )
    table_query = per_kpi.select(
        "period", "dimension", "member", "key", *_value_and_num(), pl.col("n").cast(pl.Int64)
    ).sort("period", "dimension", "member", "key")
    segment_query = (
        _by_dimension(pl.concat(segments), ("period", "segment"), [pl.len().alias("customers")])
        .select("period", "dimension", "member", "segment", pl.col("customers").cast(pl.Int64))
        .sort("period", "dimension", "member", "segment")
    )
    table, segment_table = pl.collect_all([table_query, segment_query], engine=ENGINE)
    table = pl.concat([TABLE_SCHEMA, table], how="vertical_relaxed")
    members = {
        dim: sorted(set(table.filter(pl.col("dimension") == dim)["member"].to_list())
                    | set(segment_table.filter(pl.col("dimension") == dim)["member"].to_list()))
        for dim in DIMENSIONS
    }
    deal_cycles = pl.concat([
        facts.deals.filter(w.holds(pl.col("ordered_on")) & pl.col("cycle_days").is_not_null())
        .select(pl.lit(w.name).alias("period"), pl.col("cycle_days").alias("days"))
        for w in wins
    ])
    lost_reasons = pl.concat([
        _cohort(facts, w).filter(pl.col("stage") == "lost")
        .group_by(pl.col("lost_reason").str.strip_chars().fill_null("").replace("", "未填写"))
        .agg(pl.len().alias("leads"))
        .select(pl.lit(w.name).alias("period"), "lost_reason", pl.col("leads").cast(pl.Int64))
        .sort(["leads", "lost_reason"], descending=[True, False])
        for w in wins
    ])
    store_tickets = (
        facts.owners.group_by("store")
        .agg(pl.col("store_avg_ticket").first().alias("avg_ticket"), pl.len().alias("owners"))
        .sort("store")
    )
    segment_names = tuple(dict.fromkeys([*(s.name for s in policy.rfm.segments), policy.rfm.fallback]))
    return KpiResult(as_of, wins, table, segment_table, segment_names, deal_cycles, lost_reasons,
                     store_tickets, members)


def kpi_values(result: KpiResult, period: str, dimension: str, member: str) -> dict[str, object]:
    """One member's KPIs with every key: null where nothing was counted, 0 for counts, every segment."""
    found = result.cells.get((period, dimension, member), {})
    out: dict[str, object] = {}
    for key, entry in KPIS.items():
        if entry.aggregate == "segments":
            counts = result.segment_counts.get((period, dimension, member), {})
            out[key] = {name: int(counts.get(name, 0)) for name in result.segment_names}
        else:
            value = found[key][0] if key in found else None
            out[key] = int(value or 0) if entry.aggregate == "count" else value
    return out


def nested(result: KpiResult) -> dict[str, object]:
    """The shape of kpis.json: {as_of, mtd: {group: {…}, store: {id: {…}}, advisor: …, source: …}, t30}."""
    out: dict[str, object] = {"as_of": result.as_of.isoformat()}
    for w in result.windows:
        period: dict[str, object] = {"group": kpi_values(result, w.name, "group", GROUP)}
        for dim in DIMENSIONS[1:]:
            period[dim] = {m: kpi_values(result, w.name, dim, m) for m in result.members[dim]}
        out[w.name] = period
    return out
