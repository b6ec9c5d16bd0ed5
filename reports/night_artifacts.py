"""What Prefect shows of a night (issue #27): run.json's summary as a markdown artifact — files and their status,
held files, rejected rows, tasks, plans, emails sent and failed, group posts, warnings, what did not go out —
and a table of the night's outputs (report, worklists, review workbooks, rejects workbooks) with their
`file://` links. Small on purpose: artifacts are stored in Prefect's database. flows/nightly.py creates them;
this module only words them. No customer data: file names, counts, addresses of failed emails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reports.failure_message import by_reason
from schemas.vocab import FILE_STATUS_LABELS
from transforms.labels import TASK_LABELS

SUMMARY_KEY = "genjin-nightly-summary"  # artifact keys: lowercase letters, digits and dashes only
OUTPUTS_KEY = "genjin-nightly-outputs"
REPORT_KEY = "genjin-nightly-report"


def cell(value: object) -> str:
    """A markdown table cell: one line, no `|`."""
    return " ".join(str(value).replace("|", "\\|").split())


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)]


def summary_markdown(summary: Mapping[str, Any], run_dir: Path) -> str:
    """run.json's `summary` as markdown, headed by what went wrong when anything did."""
    as_of = summary["as_of"]
    files = summary.get("files", [])
    emails = summary.get("emails", {})
    lines = [f"# 夜间运行 {as_of} / night of {as_of}", ""]
    undelivered = summary.get("undelivered", [])
    if undelivered:
        lines += [f"## 没有送达 / not delivered: {len(undelivered)}", "",
                  *(f"- {cell(u)}" for u in by_reason(undelivered)), ""]
    lines += [f"## 文件 / files: {len(files)}", ""]
    lines += _table(("文件 file", "类型 kind", "状态 status", "读入 in", "载入 loaded", "拒绝 rejected", "说明 why"),
                    [(f["name"], f.get("kind") or "-",
                      f"{FILE_STATUS_LABELS.get(f['status'], f['status'])} {f['status']}",
                      f["rows_in"], f["rows_loaded"], f["rows_rejected"], f.get("why", "")) for f in files])
    held = summary.get("held", [])
    if held:
        lines += ["", f"## 暂缓到下一晚 / held for the next night: {len(held)}", ""]
        lines += _table(("文件 file", "修改于 modified", "原因 why"),
                        [(h["name"], h.get("modified_at", ""), h.get("why", "")) for h in held])
    tasks = summary.get("tasks", {})
    lines += ["", f"## 任务 / tasks: {tasks.get('total', 0):,}", "",
              f"逾期 overdue {tasks.get('overdue', 0):,} · 转交 orphaned {tasks.get('orphaned', 0):,} · "
              f"顾问 advisors {tasks.get('advisors', 0)}", ""]
    lines += _table(("任务类型 task type", "任务 tasks"),
                    [(f"{TASK_LABELS.get(t, t)} {t}", n) for t, n in tasks.get("by_type", {}).items()])
    plan = summary.get("plan")
    if plan:
        lines += ["", f"今日计划 / today's plans: {plan['customers_in_plan']:,} 位客户 customers（待安排 waiting "
                      f"{plan['customers_waiting']:,}，交经理决定 stale {plan['customers_stale']:,}，"
                      f"顺延超限 escalated {plan['customers_escalated']:,}）"]
    failed = emails.get("failed", [])
    lines += ["", "## 邮件 / emails", "",
              f"写出 written {emails.get('written', 0)} · 发出 sent {emails.get('sent', 0)} · 之前已发 already sent "
              f"{emails.get('already_sent', 0)} · 失败 failed {len(failed)} · 无邮箱 no address "
              f"{len(emails.get('without_email', []))}"]
    lines += [f"- {cell(f['to'])}: {cell(f['error'])}" for f in failed[:50]]
    groups = summary.get("group_posts")
    if groups:
        lines += ["", f"群消息 / group posts: 发出 sent {groups.get('sent', 0)} · 失败 failed "
                      f"{len(groups.get('failed', []))} · 未设置 not set {len(groups.get('missing', []))}"]
    warnings = [*summary.get("warnings", []), *summary.get("failures", [])]
    if warnings:
        lines += ["", f"## 提醒 / warnings: {len(warnings)}", ""]
        lines += [f"- {cell(w['zh'])} / {cell(w['en'])}" for w in warnings[:50]]
    lines += ["", f"输出 / outputs: `{run_dir}`"]
    return "\n".join(lines) + "\n"


def outputs_table(run_dir: Path, summary: Mapping[str, Any]) -> list[dict[str, str | int]]:
    """One row per output of the night that exists: what it is, how many, its link."""
    rows: list[dict[str, str | int]] = []

    def add(name: str, path: Path, count: int = 1) -> None:
        if path.exists():
            rows.append({"输出 output": name, "数量 count": count, "链接 link": path.resolve().as_uri()})

    add("KPI 报表 report.html", run_dir / "report.html")
    add("任务清单 worklist.csv", run_dir / "worklist.csv")
    add("顾问计划 worklists/", run_dir / "worklists", _count(run_dir / "worklists"))
    add("经理复核 reviews/", run_dir / "reviews", _count(run_dir / "reviews"))
    add("邮件 outbox/", run_dir / "outbox", int(summary.get("emails", {}).get("written", 0)))
    rejected = {f["name"]: f["rows_rejected"] for f in summary.get("files", [])}
    for path in sorted((run_dir / "rejects").glob("*.rejects.xlsx")):
        source = path.name.removesuffix(".rejects.xlsx")
        add(f"被拒的行 rejects: {source}", path, int(rejected.get(source, 0)))
    add("运行记录 run.json", run_dir / "run.json")
    return rows


def _count(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*.xlsx")) if folder.is_dir() else 0
