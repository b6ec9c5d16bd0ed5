"""`report.html` and `kpis.json`: the managers' KPI report (SPEC §8).

Everything is inline — charts are SVG `data:` images, the few lines of script that sort the tables sit in the
page, and a Content-Security-Policy meta tag forbids loading anything else — so the report opens offline, in
a browser or a mail client. Customer data is escaped by the template (jinja2 autoescape).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from policy.model import Policy
from reports import charts, processes
from reports.charts import Chart, Panel, Target
from reports.kpi_json import KPIS_JSON, read_earlier_kpis, store_nights, store_report_path, write_kpis_json
from reports.templating import render
from schemas.columns import kind_label
from schemas.vocab import FILE_STATUS_LABELS
from transforms.kpi_scope import for_store
from transforms.kpis import GROUP, KPIS, UNKNOWN_SOURCE, Kpi, KpiResult, nested
from transforms.labels import SEGMENT_LABELS
from transforms.views import task_label

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "lang": "zh-CN", "title": "跟进 KPI 报告", "as_of": "数据截至", "mtd": "本月至今", "t30": "近30天",
        "target": "目标", "n": "样本", "kpi": "指标", "group": "全集团", "store": "门店", "advisor": "顾问",
        "source": "来源渠道", "by_store": "按门店", "by_advisor": "按顾问", "by_source": "按来源渠道",
        "overview": "全集团概览", "charts": "图表", "no_data": "无数据", "met": "达标", "missed": "未达标",
        "leads": "线索", "intent": "意向", "won": "成交", "funnel": "线索转化漏斗（近30天新建线索）",
        "sla_by_advisor": "首次响应及时率 · 按顾问（近30天，最低的 20 位）",
        "deal_cycle": "成交周期分布（近30天订单）",
        "days": "天", "deals": "订单数", "median": "中位数", "lost_reasons": "战败原因（近30天新建线索）",
        "rfm": "保有客户 RFM 客群（截至 D 日）", "targets_by_store": "目标达成 · 按门店（近30天）",
        "targets_by_store_worst": "目标达成 · 按门店（近30天，每项最差的 {n} 家，共 {total} 家）",
        "trends": "近期走势（每晚的近30天值）", "rfm_table": "RFM 客群 · 按门店", "avg_ticket": "店均客单价",
        "owners": "保有客户", "tasks_today": "今日待办 · 按任务类型", "task": "任务", "count": "数量",
        "overdue": "逾期", "files": "数据文件", "file": "文件", "kind": "类型", "rows_in": "读入",
        "rows_loaded": "载入", "rows_rejected": "拒绝", "status": "状态", "definitions": "指标定义",
        "windows": "本月至今：{mtd_start} 至 {end}；近30天：{t30_start} 至 {end}（均含 D 日）。"
                   "点击表头可排序。",
        "group_avg": "全集团", "show_t30": "近30天（点击展开）", "unknown": UNKNOWN_SOURCE,
        "footer": "genjin · 本报告不含任何外部资源，可离线打开",
        **{f"segment.{name}": label for name, label in SEGMENT_LABELS.items()},
        "trend_single": "仅有今晚数据，走势从下一晚起显示",
    },
    "en": {
        "lang": "en", "title": "Follow-up KPI report", "as_of": "as of", "mtd": "Month to date",
        "t30": "Last 30 days", "target": "Target", "n": "n", "kpi": "KPI", "group": "Group", "store": "Store",
        "advisor": "Advisor", "source": "Source", "by_store": "By store", "by_advisor": "By advisor",
        "by_source": "By source channel", "overview": "Group overview", "charts": "Charts",
        "no_data": "no data", "met": "met", "missed": "missed", "leads": "Leads", "intent": "Intent",
        "won": "Won", "funnel": "Lead funnel (leads created in the last 30 days)",
        "sla_by_advisor": "First-response SLA by advisor (last 30 days, lowest 20)",
        "deal_cycle": "Deal cycle (orders in the last 30 days)", "days": "days", "deals": "orders",
        "median": "median", "lost_reasons": "Lost reasons (leads created in the last 30 days)",
        "rfm": "Owners by RFM segment (on D)", "targets_by_store": "Targets by store (last 30 days)",
        "targets_by_store_worst": "Targets by store (last 30 days, worst {n} of {total} per KPI)",
        "trends": "Trends (each night's last-30-days value)", "rfm_table": "RFM segments by store",
        "avg_ticket": "Avg ticket", "owners": "Owners", "tasks_today": "Today's tasks by type",
        "task": "Task",
        "count": "Tasks", "overdue": "Overdue", "files": "Input files", "file": "File", "kind": "Kind",
        "rows_in": "Rows in", "rows_loaded": "Loaded", "rows_rejected": "Rejected", "status": "Status",
        "definitions": "Definitions",
        "windows": "Month to date: {mtd_start} to {end}; last 30 days: {t30_start} to {end} "
                   "(both include D). "
                   "Click a column header to sort.",
        "group_avg": "group", "show_t30": "Last 30 days (click to open)", "unknown": "unknown",
        "footer": "genjin · this report loads nothing from the network and opens offline",
        "segment.high_value": "high value", "segment.potential": "potential", "segment.regular": "regular",
        "segment.lost": "lost", "trend_single": "only tonight so far: the trend shows from the next night",
    },
}
TABLE_KPIS = tuple(key for key, entry in KPIS.items() if entry.aggregate != "segments")
TREND_KPIS = ("lead_to_won", "intent_to_won", "first_response_sla", "followup_on_time", "referral_rate",
              "retention_1y", "churn_1y", "csat_mean")
SLA_CHART_ADVISORS = 20  # the chart shows the lowest; the advisor table has everyone
TARGET_CHART_STORES = 20  # beyond this many stores the chart shows the worst per KPI; the store table has all
CYCLE_BINS = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None))


GROUP_WIDE_CHARTS = ("deal_cycle", "lost_reasons")  # fed by the group's facts only (transforms/kpi_scope.py)


def _text(language: str, store: str | None) -> dict[str, str]:
    """The report's words; one store's report calls its figures the store's."""
    if store is None:
        return TEXT[language]
    words = {"zh": {"overview": f"{store} 概览", "group_avg": "本店"},
             "en": {"overview": f"{store} overview", "group_avg": "Store"}}[language]
    return TEXT[language] | words


def targets(policy: Policy, language: str) -> dict[str, Target]:
    t = policy.targets
    label = TEXT[language]["target"]
    return {
        "retention_1y": Target(t.retention_1y_min, f"{label} ≥ {t.retention_1y_min:.0%}"),
        "referral_rate": Target(t.referral_rate_min, f"{label} ≥ {t.referral_rate_min:.0%}"),
        "csat_mean": Target(t.csat_mean_min, f"{label} ≥ {t.csat_mean_min:g}"),
        "churn_1y": Target(t.churn_1y_max, f"{label} ≤ {t.churn_1y_max:.0%}", higher_is_better=False),
    }


def fmt(entry: Kpi, value: Any, language: str) -> str:
    """A KPI value as a manager reads it: 72.5%, 13.5 天, 84.0, 129; — where nothing was counted."""
    if value is None:
        return "—"
    if entry.unit == "rate":
        return f"{value * 100:.1f}%"
    if entry.unit == "days":
        return f"{value:.1f} {TEXT[language]['days']}" if language == "en" else f"{value:.1f} 天"
    if entry.unit == "hours":
        return f"{value:.1f} h" if language == "en" else f"{value:.1f} 小时"
    if entry.unit == "score":
        return f"{value:.1f}"
    return f"{int(value):,}"


def money(yuan: float | None, language: str) -> str:
    """Money in 万元 for Chinese readers (1 万元 = ¥10,000), in yuan for English ones."""
    if yuan is None:
        return "—"
    return f"{yuan / 10000:.2f} 万元" if language == "zh" else f"CNY {yuan:,.0f}"


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str  # data-v: a number, "" for no value (sorted last); text cells sort by their text
    css: str = ""  # met | missed (against the target) | few (too few cases to judge: grey)
    n: int | None = None  # the cases a rate or score is computed from, shown beside it


def _status(key: str, value: Any, goals: dict[str, Target]) -> str:
    goal = goals.get(key)
    if goal is None or value is None:
        return ""
    ok = value >= goal.value if goal.higher_is_better else value <= goal.value
    return "met" if ok else "missed"


JUDGED_UNITS = ("rate", "score")  # the KPIs whose sample size is shown, and greyed below `review.min_cases`


def _cell(entry: Kpi, value: Any, language: str, goals: dict[str, Target], n: int | None = None,
          min_cases: int = 1) -> Cell:
    """A KPI's value as shown; a rate or score shows its cases `n`, and from fewer than `min_cases` it is
    grey and not judged against its target."""
    shown_n = n if entry.unit in JUDGED_UNITS and value is not None else None
    few = shown_n is not None and shown_n < min_cases
    return Cell(fmt(entry, value, language), "" if value is None else f"{float(value):.4f}",
                "few" if few else _status(entry.key, value, goals), shown_n)


def _member_label(dimension: str, member: str, names: dict[str, str], language: str) -> str:
    if dimension == "advisor":
        name = names.get(member)
        return f"{member} {name}" if name else member
    if dimension == "source" and member == UNKNOWN_SOURCE:
        return TEXT[language]["unknown"]
    return member


def _dimension_rows(result: KpiResult, data: dict[str, Any], period: str, dimension: str, names: dict[str, str],
                    language: str, goals: dict[str, Target], min_cases: int) -> list[dict[str, Any]]:
    rows = []
    for member, values in data[period][dimension].items():
        rows.append({
            "member": _member_label(dimension, member, names, language),
            "cells": [_cell(KPIS[key], values[key], language, goals,
                            _value(result, period, dimension, member, key, "n"), min_cases) for key in TABLE_KPIS],
        })
    return rows


def _value(result: KpiResult, period: str, dimension: str, member: str, key: str, col: str) -> Any:
    """`col` (value, num or n) of one KPI of one member; None where nothing was counted."""
    cell = result.cell(period, dimension, member, key)
    return None if cell is None else cell[("value", "num", "n").index(col)]


def _cycle_bins(days: Sequence[int], language: str) -> list[tuple[str, int]]:
    bins = []
    for low, high in CYCLE_BINS:
        label = f"{low}–{high}" if high is not None else f">{low - 1}"
        bins.append((label, sum(1 for d in days if d >= low and (high is None or d <= high))))
    return bins


def build_charts(result: KpiResult, data: dict[str, Any], policy: Policy, names: dict[str, str],
                 earlier: Sequence[dict[str, Any]], language: str, store: str | None = None) -> list[Chart]:
    tx = _text(language, store)
    font = charts.AUTO  # looked up when a chart has something to draw
    goals = targets(policy, language)
    period = "t30"

    def pct(value: Any) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    leads = _value(result, period, "group", GROUP, "lead_to_intent", "n") or 0
    intent = int(_value(result, period, "group", GROUP, "lead_to_intent", "num") or 0)
    won = int(_value(result, period, "group", GROUP, "lead_to_won", "num") or 0)
    group = data[period]["group"]
    funnel = charts.funnel(
        [(tx["leads"], int(leads)), (tx["intent"], intent), (tx["won"], won)],
        [f"{KPIS['lead_to_intent'].label(language)} {pct(group['lead_to_intent'])}",
         f"{KPIS['intent_to_won'].label(language)} {pct(group['intent_to_won'])}"],
        tx["funnel"], tx["no_data"], font,
    )

    sla_rows = []
    for member in data[period]["advisor"]:
        value = _value(result, period, "advisor", member, "first_response_sla", "value")
        n = _value(result, period, "advisor", member, "first_response_sla", "n")
        if value is not None:
            label = _member_label("advisor", member, names, language)
            sla_rows.append((label, value, f"{pct(value)} (n={n})"))
    sla_rows = sorted(sla_rows, key=lambda row: (row[1], row[0]))[:SLA_CHART_ADVISORS]  # who needs help first
    group_sla = group["first_response_sla"]
    sla = charts.rate_bars(
        "sla_by_advisor", sla_rows, tx["sla_by_advisor"], tx["no_data"],
        Target(group_sla, f"{tx['group_avg']} {pct(group_sla)}") if group_sla is not None else None, font,
    )

    days = result.deal_cycles.filter(pl.col("period") == period)["days"].to_list()
    median = group["deal_cycle_median_days"]
    cycle = charts.histogram(
        "deal_cycle", _cycle_bins(days, language), tx["deal_cycle"], tx["days"], tx["deals"],
        f"{tx['median']} {median:.1f} {tx['days']}" if median is not None else None, tx["no_data"], font,
    )

    lost = result.lost_reasons.filter(pl.col("period") == period).head(10)
    lost_chart = charts.count_bars(
        "lost_reasons", list(zip(lost["lost_reason"].to_list(), lost["leads"].to_list(), strict=True)),
        tx["lost_reasons"], tx["no_data"], font,
    )

    segments = group["rfm"]
    rfm = charts.count_bars(
        "rfm", [(tx.get(f"segment.{name}", name), count) for name, count in segments.items()], tx["rfm"],
        tx["no_data"], font, color=charts.BLUE,
    )

    per_store = data[period]["store"]
    many = len(per_store) > TARGET_CHART_STORES
    by_store = charts.panels(
        "targets_by_store",
        [target_panel(KPIS[key], goals[key], {s: v[key] for s, v in per_store.items()}, language)
         for key in ("retention_1y", "churn_1y", "referral_rate", "csat_mean")],
        tx["targets_by_store_worst"].format(n=TARGET_CHART_STORES, total=len(per_store)) if many
        else tx["targets_by_store"],
        tx["no_data"], font,
    )

    nights = [*earlier, data]
    dates = [str(night.get("as_of", "")) for night in nights]
    series = [
        Panel(KPIS[key].label(language), [], [_night_value(night, key) for night in nights],
              KPIS[key].unit == "rate", goals.get(key))
        for key in TREND_KPIS
    ]
    trend = charts.trends("trends", dates, series, tx["trends"], tx["no_data"], font)
    return [funnel, sla, by_store, cycle, lost_chart, rfm, trend]


def target_panel(entry: Kpi, goal: Target, by_store: dict[str, Any], language: str) -> Panel:
    """One KPI per store against its target: every store in the table's order when there are at most
    `TARGET_CHART_STORES`; beyond that the stores furthest on the wrong side of the target, worst first
    (the By store table has them all)."""
    stores = list(by_store)
    if len(stores) > TARGET_CHART_STORES:
        valued = [s for s in stores if by_store[s] is not None]
        sign = 1 if goal.higher_is_better else -1
        stores = sorted(valued, key=lambda s: (sign * by_store[s], s))[:TARGET_CHART_STORES]
    return Panel(entry.label(language), stores, [by_store[s] for s in stores], entry.unit == "rate", goal)


def _night_value(night: dict[str, Any], key: str) -> float | None:
    try:
        value = night["t30"]["group"][key]
    except (KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def report_context(result: KpiResult, policy: Policy, worklist: pl.DataFrame, advisors: pl.DataFrame,
                   files: list[dict[str, Any]], earlier: Sequence[dict[str, Any]] = (),
                   language: str | None = None, store: str | None = None) -> dict[str, Any]:
    """Everything the template shows. `earlier`: the kpis.json of earlier nights, oldest first. `store`: the
    report is that store's (`result` from `transforms.kpi_scope.for_store`)."""
    language = language or policy.report_language
    tx = _text(language, store)
    data = nested(result)
    goals = targets(policy, language)
    min_cases = policy.review.min_cases
    names = dict(zip(advisors["advisor_id"].to_list(), advisors["name"].to_list(), strict=True))
    mtd, t30 = result.windows
    kpi_rows = []
    for number, key in enumerate(KPIS, start=1):
        entry = KPIS[key]
        if entry.aggregate == "segments":
            continue
        goal = goals.get(key)
        n_of = {p: _value(result, p, "group", GROUP, key, "n") for p in ("mtd", "t30")}
        kpi_rows.append({
            "key": key, "number": number, "label": entry.label(language),
            "mtd": _cell(entry, data["mtd"]["group"][key], language, goals, n_of["mtd"], min_cases),
            "t30": _cell(entry, data["t30"]["group"][key], language, goals, n_of["t30"], min_cases),
            "n": _value(result, "mtd", "group", GROUP, key, "n"),
            "target": goal.label.split(" ", 1)[1] if goal else "",
        })
    footnotes = [
        {"key": key, "number": number, "label": entry.label(language),
         "text": entry.definition(language, policy)}
        for number, (key, entry) in enumerate(KPIS.items(), start=1)
    ]
    headers = [{"key": key, "label": KPIS[key].label(language),
                "number": list(KPIS).index(key) + 1} for key in TABLE_KPIS]
    tables = [
        {"dimension": dim, "title": tx[f"by_{dim}"], "column": tx[dim],
         "mtd": _dimension_rows(result, data, "mtd", dim, names, language, goals, min_cases),
         "t30": _dimension_rows(result, data, "t30", dim, names, language, goals, min_cases)}
        for dim in ("store", "advisor", "source") if data["mtd"][dim]
    ]
    tickets = dict(zip(result.store_tickets["store"].to_list(), result.store_tickets["avg_ticket"].to_list(),
                       strict=True))
    rfm_rows = [
        {"store": store, "counts": [values["rfm"][name] for name in result.segment_names],
         "owners": sum(values["rfm"].values()), "ticket": money(tickets.get(store), language),
         "ticket_v": None if tickets.get(store) is None else round(tickets[store])}
        for store, values in data["mtd"]["store"].items()
        if sum(values["rfm"].values())
    ]
    per_type = (
        worklist.group_by("task_type")
        .agg(pl.len().alias("tasks"), (pl.col("days_overdue") > 0).sum().alias("overdue"),
             pl.col("priority").min())
        .sort("priority", "task_type")
        .with_columns(task_label().alias("label"))
    )
    return {
        "t": tx,
        "as_of": result.as_of.isoformat(),
        "windows_note": tx["windows"].format(mtd_start=mtd.start.isoformat(), t30_start=t30.start.isoformat(),
                                             end=result.as_of.isoformat()),
        "kpi_rows": kpi_rows,
        "headers": headers,
        "tables": tables,
        "segment_labels": [tx.get(f"segment.{name}", name) for name in result.segment_names],
        "rfm_rows": rfm_rows,
        "charts": [c for c in build_charts(result, data, policy, names, earlier, language, store)
                   if store is None or c.key not in GROUP_WIDE_CHARTS],
        "trend_note": tx["trend_single"] if not earlier else "",
        "task_types": per_type.to_dicts(),
        "files": files if language == "en" else [  # 线索 · 已载入, not leads · loaded
            f | {"kind": kind_label(f.get("kind")), "status": FILE_STATUS_LABELS.get(f["status"], f["status"])}
            for f in files],
        "footnotes": footnotes,
        "kpis": data,
        "store_name": store,
        "few_note": (f"灰色的比率样本不足 {min_cases} 例，仅供参考，不与目标比较。" if language == "zh" else
                     f"Grey rates come from fewer than {min_cases} cases: shown, not judged against the target."),
    }


def write_report(context: dict[str, Any], path: Path) -> Path:
    path.write_text(render("report.html.j2", **context), encoding="utf-8")
    return path


@dataclass(frozen=True)
class KpiOutputs:
    report: Path
    kpis_json: Path


ReportJob = tuple[str | None, KpiResult, pl.DataFrame, list[dict[str, Any]], list[dict[str, Any]], Path]
# store (None: the group's report), its KPIs (for_store), its worklist rows (`REPORT_COLUMNS`), the night's files (the
# group's report lists them), its earlier nights (kpi_json.store_nights), where
REPORTS_PER_PROCESS = 8  # ~1 s a report (5-7 charts): a spawned process's imports cost ~2-3 s
REPORT_COLUMNS = ("store", "task_type", "days_overdue", "priority")  # what a report reads of the worklist


def _write_reports(jobs: Sequence[ReportJob], policy: Policy, advisors: pl.DataFrame,
                   language: str | None) -> list[Path]:
    written = []
    for store, scoped, tasks, files, earlier, path in jobs:
        path.parent.mkdir(exist_ok=True)
        written.append(write_report(report_context(scoped, policy, tasks, advisors, files, earlier, language, store),
                                    path))
    return written


def write_kpi_outputs(result: KpiResult, advisors: pl.DataFrame, worklist: pl.DataFrame, policy: Policy,
                      as_of: date, run_dir: Path, files: list[dict[str, Any]],
                      earlier_kpis: Sequence[dict[str, Any]] | None = None, language: str | None = None,
                      workers: int | None = None) -> KpiOutputs:
    """The night's `report.html` and `kpis.json` in `run_dir` (= OUT/<as-of>/), and each store's report under
    `reports/`, from the night's KPIs (`transforms.kpis.compute_kpis`). `advisors`: the roster, one row per
    advisor (the latest). `earlier_kpis`: earlier nights' kpis.json, oldest first; when None they are read
    from run_dir's sibling <as-of> folders. The reports — the group's among the stores', their charts most of a
    night's writing — are drawn in `workers` processes (default: one per core for a group of many stores,
    `reports.processes.worker_count`)."""
    if earlier_kpis is None:
        earlier_kpis = read_earlier_kpis(run_dir.parent, as_of)
    json_path = write_kpis_json(nested(result), run_dir / KPIS_JSON)
    tasks = worklist.select(REPORT_COLUMNS)  # what a worker process is sent of the worklist
    jobs: list[ReportJob] = [(None, result, tasks, files, list(earlier_kpis), run_dir / "report.html")]
    jobs += [  # each store manager's digest attaches their store's, its trend from the earlier nights' kpis.json
        (store, for_store(result, store, advisors.filter(pl.col("store") == store)["advisor_id"].to_list()),
         tasks.filter(pl.col("store") == store), [], store_nights(list(earlier_kpis), store),
         store_report_path(run_dir, store))
        for store in result.members.get("store", [])
    ]
    workers = processes.worker_count(len(jobs), REPORTS_PER_PROCESS) if workers is None else workers
    processes.in_processes(partial(_write_reports, policy=policy, advisors=advisors, language=language), jobs, workers)
    return KpiOutputs(jobs[0][-1], json_path)  # the group's report, where its job wrote it
