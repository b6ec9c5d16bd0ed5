"""`simulate.html` and `simulate.json` (issue #19): a replay of past nights under the policy in use and a proposed
one, side by side, for a manager deciding whether to switch. Offline like the KPI report (charts inline as SVG
`data:` images, a Content-Security-Policy forbidding anything else); customer data never appears, names and store
names are escaped by the template (jinja2 autoescape)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from reports import charts
from reports.templating import render
from transforms.labels import STAGE_LABELS, TASK_LABELS
from transforms.replay import COUNTS, GROUP, POLICY_NAMES, RATES, Replay

HTML, JSON = "simulate.html", "simulate.json"
POLICY_LABELS = {"current": "现行策略", "proposed": "拟用策略"}
# what each measure is called, whether more is better (None: neither — workload), and its definition
MEASURES: dict[str, tuple[str, bool | None, str]] = {
    "planned": ("计划内客户", None, "每晚发给顾问的当日计划中的客户数（每位顾问不超过其每日上限）。"),
    "tasks": ("清单任务", None, "每晚工作清单上的全部待办任务数（含未排进计划的）。"),
    "customers": ("清单客户", None, "每晚清单上的客户数（同一客户多项任务算一位）。"),
    "carried": ("顺延客户", False, "有待办、但没排进当晚计划（超出每日上限）、也没转经理的客户数，留到以后。"),
    "escalated": ("顺延超限", False, "有任务连续顺延超过策略规定晚数、要告知经理的客户数。"),
    "stale": ("久拖转经理", False, "所有任务都逾期超过策略规定天数、移出顾问计划交经理复核的客户数。"),
    "overdue": ("逾期任务", False, "清单上已过应办日的任务数。"),
    "orphaned": ("转交经理", None, "原顾问离职或不在名单、转给经理的任务数。"),
    "due": ("当晚到期", None, "当晚刚到期（逾期 0 天）的任务数；只当天有效的生日、周年问候不计。"),
    "on_time_rate": ("到期当天完成率", True,
                     "当晚到期的任务中，顾问实际的跟进记录在当天就完成（次日清单上已没有）的比例；最后一晚没有次日，不计。"),
    "first_contact_rate": ("首次联系及时率", True,
                           "每晚新建的线索中，首次跟进不晚于该策略的首次联系时限（按级别）的比例，"
                           "与 KPI 报告同一规则。"),
}
HEADLINE = ("planned", "tasks", "carried", "stale", "overdue", "on_time_rate", "first_contact_rate")
CHARTED = ("planned", "tasks", "carried", "stale", "overdue", "due")
STATEMENT = (
    "这份模拟能说明什么：假定过去这些夜晚顾问实际做过的跟进一条不变，换用拟用策略后每晚的清单会是什么样——"
    "每位顾问每晚计划内有多少客户、清单上有多少任务、哪些任务排不进当日计划而顺延、多少久拖的工作转给经理。"
    "这些工作量数字是用 genjin 每晚实际使用的同一套规则、按当晚的历史数据精确算出的，不是估计。",
    "不能说明什么：它不预测客户会怎样回应，也不预测顾问会不会因此多打或少打电话，成交、到店、流失都不在模拟之内。"
    "到期当天完成率和首次联系及时率，是用顾问当时实际的跟进记录按新规则重新打分：规则更严，同样的工作得分就更低，"
    "并不代表顾问会做得更差；规则更松，得分更高，也不代表客户得到了更好的服务。",
)
STATEMENT_EN = (
    "What a replay can tell: the workload — planned customers, tasks, carried and stale work per advisor and night — "
    "exactly as genjin's own rules would have produced it on those nights, assuming the same logged touches. "
    "What it cannot: how customers or advisors would have reacted; on-time and first-contact rates are the logged "
    "touches re-scored under each policy, not a prediction."
)


ROLE_LABELS = {"sales": "销售顾问", "service": "服务顾问", "manager": "经理"}
# the policy keys a manager is most likely to change, in their words: (prefix, label with {} for the last part)
KEY_LABELS = (
    ("tasks.followup.grade_interval_days.", "意向跟进间隔 · {} 级（天）"),
    ("tasks.followup.stage_interval_days.", "意向跟进间隔 · {}阶段（天）"),
    ("tasks.first_contact.due_hours.", "首次联系时限 · {} 级（小时）"),
    ("plan.default_capacity.", "每日上限 · {}（名单未填时）"),
    ("plan.stale_after_days.", "逾期多少天转经理复核 · {}"),
    ("plan.escalate_after_nights", "连续顺延多少晚告知经理"),
    ("plan.fallback_capacity", "每日上限 · 名单上没有的顾问"),
)


def key_label(key: str) -> str:
    """A policy key as a manager reads it (`tasks.followup.grade_interval_days.C` → 意向跟进间隔 · C 级（天）);
    other keys as the policy file spells them."""
    for prefix, label in KEY_LABELS:
        if key.startswith(prefix):
            last = key[len(prefix):]
            return label.format(ROLE_LABELS.get(last) or STAGE_LABELS.get(last) or TASK_LABELS.get(last) or last)
    return key


def capacity_note(result: Replay) -> str | None:
    """When the default capacity changes but the roster gives advisors their own 每日上限, say so: for them
    the roster's number holds under both policies."""
    if not any(k.startswith("plan.default_capacity") for k, _, _ in result.changes):
        return None
    own = result.advisors.filter(pl.col("daily_capacity").is_not_null()).height
    if not own:
        return None
    return (f"注意：顾问名单中有 {own} 位顾问填了自己的每日上限，这些顾问在两种策略下都按名单执行；"
            "策略里的每日上限只用于名单上没填的顾问。")


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""


def _fmt(value: float | None, rate: bool) -> str:
    if value is None:
        return "—"
    if rate:
        return f"{value * 100:.1f}%"
    if value == 0:
        return "0"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _diff(current: float | None, proposed: float | None, rate: bool, better: bool | None) -> Cell:
    """The difference, signed, coloured when a reader should look: a rate higher or lower (green/red when
    more is better or worse), workload up or down (orange up, blue down)."""
    if current is None or proposed is None:
        return Cell("—")
    delta = proposed - current
    if abs(delta) < (0.0005 if rate else 0.05):
        return Cell("不变", "same")
    text = f"{delta * 100:+.1f} 个百分点" if rate else ("+" if delta > 0 else "") + _fmt(delta, False)
    if not rate and current:
        text += f"（{delta / current:+.0%}）"
    if better is None:
        return Cell(text, "up" if delta > 0 else "down")
    return Cell(text, "good" if (delta > 0) == better else "bad")


class _Index:
    """The summary and the nights' measures indexed for the template."""

    def __init__(self, result: Replay) -> None:
        self.summary: dict[tuple[str, str, str, str], tuple[float | None, float | None]] = {
            (p, d, m, k): (_num(v), _num(peak))
            for p, d, m, k, v, peak in result.summary.select(
                "policy", "dimension", "member", "key", "per_night", "peak").iter_rows()
        }
        self.nightly: dict[tuple[str, str, str, str], list[float | None]] = {}
        for (p, d, m, k), frame in result.measures.group_by("policy", "dimension", "member", "key"):
            self.nightly[(str(p), str(d), str(m), str(k))] = [_num(v) for v in frame.sort("night")["value"]]

    def value(self, policy: str, dimension: str, member: str, key: str) -> float | None:
        return self.summary.get((policy, dimension, member, key), (None, None))[0]

    def peak(self, policy: str, dimension: str, member: str, key: str) -> float | None:
        return self.summary.get((policy, dimension, member, key), (None, None))[1]

    def series(self, policy: str, dimension: str, member: str, key: str, nights: int) -> list[float]:
        return [v or 0.0 for v in self.nightly.get((policy, dimension, member, key), [0.0] * nights)]


def _row(index: _Index, dimension: str, member: str, key: str) -> dict[str, Any]:
    label, better, _ = MEASURES[key] if key in MEASURES else (TASK_LABELS.get(key[5:], key[5:]), None, "")
    rate = key in RATES
    cur, prop = (index.value(p, dimension, member, key) for p in POLICY_NAMES)
    return {"key": key, "label": label, "current": _fmt(cur, rate), "proposed": _fmt(prop, rate),
            "diff": _diff(cur, prop, rate, better),
            "peak": None if rate else [_fmt(index.peak(p, dimension, member, key), False).removesuffix(".0")
                                       for p in POLICY_NAMES]}


def _members(result: Replay, dimension: str) -> list[str]:
    return sorted(set(result.summary.filter(pl.col("dimension") == dimension)["member"]))


def _value_text(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "…"


def context(result: Replay) -> dict[str, Any]:
    index = _Index(result)
    n = len(result.nights)
    dates = [d.isoformat() for d in result.nights]
    types = sorted({k for k in result.summary["key"] if k.startswith("type:")},
                   key=lambda k: -(index.value("current", "group", GROUP, k) or 0))
    names = dict(zip(result.advisors["advisor_id"], result.advisors["name"], strict=True))
    stores = dict(zip(result.advisors["advisor_id"], result.advisors["store"], strict=True))
    table_keys = ("planned", "tasks", "carried", "stale", "on_time_rate", "first_contact_rate")

    def member_rows(dimension: str) -> list[dict[str, Any]]:
        rows = []
        for member in _members(result, dimension):
            cells = [_row(index, dimension, member, k) for k in table_keys]
            changed = any(c["diff"].css not in ("", "same") for c in cells)
            label = f"{names.get(member) or member}（{member}）" if dimension == "advisor" else member
            rows.append({"label": label, "store": stores.get(member, ""), "cells": cells, "changed": changed})
        return sorted(rows, key=lambda r: (not r["changed"], r["store"], r["label"]))

    font = charts.AUTO  # looked up when a chart has something to draw
    chart = charts.compare_lines(
        "nights", dates,
        [(MEASURES[k][0], *(index.series(p, "group", GROUP, k, n) for p in POLICY_NAMES)) for k in CHARTED],
        (POLICY_LABELS["current"], POLICY_LABELS["proposed"]), "每晚对比（全部门店）", "无数据", font,
    )
    nightly = [
        {"night": night, "cells": [
            tuple(_fmt(index.nightly.get((p, "group", GROUP, k), [None] * n)[i], False) for p in POLICY_NAMES)
            for k in ("planned", "tasks", "carried", "stale", "overdue")
        ]}
        for i, night in enumerate(dates)
    ]
    return {
        "first": result.first.isoformat(), "last": result.last.isoformat(), "n_nights": n,
        "policy_files": result.policy_files, "labels": POLICY_LABELS,
        "changes": [{"key": k, "label": key_label(k), "current": _value_text(a), "proposed": _value_text(b)}
                    for k, a, b in result.changes],
        "capacity_note": capacity_note(result),
        "statement": STATEMENT, "headline": [_row(index, "group", GROUP, k) for k in HEADLINE],
        "types": [_row(index, "group", GROUP, k) for k in types],
        "table_heads": [MEASURES[k][0] for k in table_keys],
        "stores": member_rows("store"), "advisors": member_rows("advisor"),
        "chart": chart, "nightly": nightly,
        "nightly_heads": [MEASURES[k][0] for k in ("planned", "tasks", "carried", "stale", "overdue")],
        "definitions": [(label, text) for label, _, text in MEASURES.values()],
        "seconds": f"{result.seconds:.1f}",
    }


def data(result: Replay) -> dict[str, Any]:
    """simulate.json: the range, the policies and what differs, the statement, per policy the averages over the
    nights (`summary`), and per night, policy, dimension (group, store, advisor) and member every measure."""
    summary: dict[str, Any] = {p: {} for p in POLICY_NAMES}
    for p, d, m, k, v, peak in result.summary.select(
            "policy", "dimension", "member", "key", "per_night", "peak").iter_rows():
        entry = summary[p].setdefault(d, {}).setdefault(m, {})
        entry[k] = _num(v) if k in RATES else {"per_night": _num(v), "peak": _num(peak)}
    nights: dict[str, Any] = {}
    for night, p, d, m, k, v in result.measures.select(
            "night", "policy", "dimension", "member", "key", "value").iter_rows():
        nights.setdefault(night.isoformat(), {p: {} for p in POLICY_NAMES})[p].setdefault(d, {}).setdefault(
            m, {})[k] = _num(v)
    return {
        "from": result.first.isoformat(), "to": result.last.isoformat(), "nights_replayed": len(result.nights),
        "policies": result.policy_files,
        "changes": [{"key": k, "current": a, "proposed": b} for k, a, b in result.changes],
        "statement": {"zh": list(STATEMENT), "en": STATEMENT_EN},
        "measures": {k: MEASURES[k][0] for k in MEASURES} | {f"type:{t}": label for t, label in TASK_LABELS.items()},
        "counts": list(COUNTS), "rates": {k: list(v) for k, v in RATES.items()},
        "advisors": result.advisors.to_dicts(),
        "summary": summary,
        "nights": [{"night": night} | values for night, values in sorted(nights.items())],
    }


def write_simulate_outputs(result: Replay, folder: Path) -> Sequence[Path]:
    html = folder / HTML
    html.write_text(render("simulate.html.j2", **context(result)), encoding="utf-8")
    out = folder / JSON
    out.write_text(json.dumps(data(result), ensure_ascii=False, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return html, out


def headline_lines(result: Replay) -> list[str]:
    """The overview for the terminal: one line per headline measure, current → proposed (difference)."""
    index = _Index(result)
    return [f"{r['label']}：{r['current']} → {r['proposed']}（{r['diff'].text}）"
            for r in (_row(index, "group", GROUP, k) for k in HEADLINE)]
