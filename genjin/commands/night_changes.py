"""What changed from one night to the next, read from the two nights' outputs: from `run.json` the workbooks
dropped back and what of them was loaded, the plan and the tasks late; from `worklist.csv` the tasks that came and
went.
`genjin demo --nights N` prints it after each night (genjin/commands/demo_week.py).

A task is the same task on both nights when its customer and its task type are (worklist.csv has no other key:
a promise or a reassignment moves its date or its advisor, not what it is)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

KEY = ("customer_id", "task_type")


@dataclass(frozen=True)
class NightOutputs:
    summary: dict[str, Any]  # run.json
    tasks: pl.DataFrame  # worklist.csv, every column as text


def read_night(run_dir: Path) -> NightOutputs:
    summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    tasks = pl.read_csv(run_dir / "worklist.csv", infer_schema_length=0, encoding="utf8")
    return NightOutputs(summary, tasks)


@dataclass(frozen=True)
class NightCounts:
    """One night on its own: what it loaded of the workbooks dropped back, its plan and its tasks."""

    workbooks: int  # follow-up files loaded tonight (in the demo week: the advisors' workbooks)
    followups: int  # their rows loaded
    not_worked: int  # their rows left empty
    reviews: int  # decision files loaded tonight (the managers' review workbooks)
    decisions: int  # their rows loaded
    planned: int  # customers in today's plans (an advisor's customer: one per advisor and customer)
    tasks: int
    overdue: int  # tasks past their due date
    stale: int  # customers handed to the manager's review (every task of theirs past its stale limit)


@dataclass(frozen=True)
class NightChanges:
    before: NightCounts
    after: NightCounts
    new: int  # tasks tonight that were not on last night's worklist
    done: int  # tasks of last night's worklist that are not on tonight's


def _files(summary: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in summary.get("files", []) if f.get("kind") == kind and f.get("status") == "loaded"]


def counts(night: NightOutputs) -> NightCounts:
    """The night's own numbers, as its run.json says them (the plan's and the tasks' as `genjin run` prints)."""
    followups, reviews = _files(night.summary, "followups"), _files(night.summary, "decisions")
    plan, tasks = night.summary.get("plan", {}), night.summary["tasks"]
    return NightCounts(
        workbooks=len(followups),
        followups=sum(f["rows_loaded"] for f in followups),
        not_worked=sum(f.get("rows_not_worked", 0) for f in followups),
        reviews=len(reviews),
        decisions=sum(f["rows_loaded"] for f in reviews),
        planned=plan.get("customers_in_plan", 0),
        tasks=tasks["total"],
        overdue=tasks["overdue"],
        stale=plan.get("customers_stale", 0),
    )


def night_changes(before: NightOutputs, after: NightOutputs) -> NightChanges:
    old, new = before.tasks.select(KEY).unique(), after.tasks.select(KEY).unique()
    return NightChanges(
        before=counts(before),
        after=counts(after),
        new=after.tasks.join(old, on=KEY, how="anti").height,
        done=before.tasks.join(new, on=KEY, how="anti").height,
    )


def change_lines(c: NightChanges) -> list[str]:
    """The changes in Chinese, a line each, for the terminal."""
    a, b = c.after, c.before
    return [
        f"昨晚回收 {a.workbooks} 份顾问工作簿：{a.followups} 条跟进已载入，{a.not_worked} 行未填；"
        f"经理交回 {a.reviews} 张待决定表，决定 {a.decisions} 条",
        f"今日计划 {a.planned} 位客户（昨日 {b.planned}）",
        f"任务 {a.tasks} 条（昨日 {b.tasks}）：新增 {c.new} 条，完成或移出 {c.done} 条，"
        f"逾期 {a.overdue} 条（昨日 {b.overdue}）",
        f"交经理决定 {a.stale} 位客户（昨日 {b.stale}）",
    ]
