"""`genjin run`: one night over the drop folder (flows/nightly.py), a line per stage as it ends, then a summary of
what it read, loaded, planned and wrote. genjin/cli.py has checked the settings and set Prefect's environment
before this module imports Prefect.

The terminal gets genjin's own lines only: Prefect's records (tracebacks included) go to the night's log file,
`OUT/logs/nightly-<as-of>.log`. A night that fails ends in one sentence — which stage, why, in Chinese and
English — and the log's path; the flow's state hooks have told ops meanwhile (flows/ops_alert.py).

Exit codes: 0 the night completed; 1 it failed, was cut off or timed out (nothing published); 2 refused before
it started (settings, folders, policy); 3 another run holds the lock; 4 the outputs were written but some emails
or group posts did not go out (run.json's `undelivered`; a re-run sends only those); 130 interrupted (Ctrl-C)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect.client.schemas.objects import StateType
from prefect.states import State

from adapters.folders import Folders
from adapters.lock import Busy, run_lock
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from flows import progress
from flows.nightly import nightly_on
from flows.ops_alert import PARTIAL, outcome_of, run_log_path, stage_at, told_ways
from genjin import prefect_env
from genjin.commands import preflight
from genjin.settings import Settings
from reports.cells import safe_text
from reports.failure_message import STAGES, explain
from schemas.vocab import FILE_STATUS_LABELS
from transforms.labels import TASK_LABELS

TIMEZONE = ZoneInfo("Asia/Shanghai")  # the default; `run` and `serve` use the `timezone` setting
COMPLETED, FAILED, BUSY, UNDELIVERED, INTERRUPTED = 0, 1, 3, 4, 130  # exit codes (2: preflight.REFUSED)


def today(zone: ZoneInfo = TIMEZONE) -> date:
    return datetime.now(zone).date()


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run_night(settings.folders(), args.as_of or today(settings.zone), settings.policy,
                     settings.settle_seconds, args.send, args.wait_seconds, settings.dask_address, settings.robots,
                     settings.mail_settings(), settings.ops_robot, settings.delivery_retry_seconds)


def run_night(folders: Folders, as_of: date, policy: Path | None, settle_seconds: float,
              send: bool = False, wait_seconds: float = 0.0, dask_address: str | None = None,
              robots: Mapping[str, RobotConfig] | None = None, mail_settings: MailSettings | None = None,
              ops_robot: RobotConfig | None = None, retry_seconds: float = 30.0, summary: bool = True) -> int:
    """One night over `folders`; with `send`, the emails go where `mail_settings` say (the password: the
    environment's GENJIN_SMTP_PASSWORD). Returns the exit code. Without `summary`, a night that completed prints
    only its stage lines (`genjin demo --nights` says what changed instead)."""
    if preflight.refused(preflight.night_problems(folders, policy)):  # `genjin demo` comes here directly
        return preflight.REFUSED
    try:
        night = nightly_on(dask_address)  # a Dask cluster's workers, or this machine
    except ValueError as err:
        print(err, file=sys.stderr)
        return preflight.REFUSED
    log_file = run_log_path(folders.out, f"nightly-{as_of.isoformat()}")
    try:
        with run_lock(folders.history, wait_seconds):
            print(f"genjin: {as_of} · drop {folders.drop} → {folders.out / as_of.isoformat()}"
                  + (f" · Dask {dask_address}" if dask_address else ""), flush=True)
            prefect_env.start_temporary_server()
            with progress.on_terminal(), prefect_env.errors_to(log_file):  # a line per stage as it ends
                state = night(folders=folders, as_of=as_of, policy_file=policy, settle_seconds=settle_seconds,
                              send=send, robots=robots, mail_settings=mail_settings or MailSettings(),
                              ops_robot=ops_robot, retry_seconds=retry_seconds, return_state=True)
    except Busy as err:
        print(err, file=sys.stderr)
        return BUSY
    except KeyboardInterrupt:
        print(f"\ngenjin: {as_of} 的夜间运行被中断 / the night of {as_of} was interrupted. "
              f"完整日志 / full log: {log_file}", file=sys.stderr)
        return INTERRUPTED
    return _ended(state, folders, as_of, log_file, summary)


def _ended(state: State[Any], folders: Folders, as_of: date, log_file: Path, summary: bool = True) -> int:
    """The summary of a night that wrote its outputs, or one sentence for one that did not; the exit code."""
    run_json = folders.out / as_of.isoformat() / "run.json"
    if state.type is StateType.COMPLETED or state.name == PARTIAL:
        done = json.loads(run_json.read_text(encoding="utf-8"))
        if summary:
            _print_summary(done, run_json.parent)
        if state.name != PARTIAL:
            return COMPLETED
        missing = done.get("undelivered", [])
        print(f"\ngenjin: {as_of} 的输出已写好，但有 {len(missing)} 项没有送达（见上）；再运行一次只补发这些。"
              f"\n  / the outputs of {as_of} were written but {len(missing)} deliveries did not go out (above); "
              f"running it again sends only those. 完整日志 / full log: {log_file}", file=sys.stderr)
        return UNDELIVERED
    error = state.result(raise_on_failure=False) if state.is_failed() else None
    outcome = outcome_of(state)
    reason = explain(outcome, error if isinstance(error, BaseException) else None, state.message,
                     as_of.isoformat())
    stage = stage_at(folders.history, str(state.state_details.flow_run_id),
                     error if isinstance(error, BaseException) else None)
    stage_zh, stage_en = STAGES.get(stage or "", ("未知阶段", "an unknown stage"))
    ways = told_ways(folders.history, str(state.state_details.flow_run_id))
    told = (f"已通知运维（{'、'.join(ways)}）/ ops were told ({', '.join(ways)})" if ways else
            "运维没有收到通知（没有 --send，或没有设置 ops_email / ops_robot，或发送失败）/ ops were not told "
            "(no --send, no ops_email / ops_robot, or sending failed)")
    print(f"\ngenjin: {as_of} 的夜间运行没有完成，停在「{stage_zh}」：{reason.zh}"
          f"\n  / the night of {as_of} did not finish; it stopped while {stage_en}"
          + (f": {reason.en}" if reason.en else "") + f"\n  {told}。完整日志 / full log: {log_file}",
          file=sys.stderr)
    return FAILED


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    files = summary["files"]
    print("\n文件 / files")
    rows = [(safe_text(f["name"]), f["kind"] or "-", f["rows_in"], f["rows_loaded"], f["rows_rejected"],
             f"{f['status']} {FILE_STATUS_LABELS.get(f['status'], '')}".strip()) for f in files]
    rows.append(("合计 total", "", sum(f["rows_in"] for f in files), sum(f["rows_loaded"] for f in files),
                 sum(f["rows_rejected"] for f in files), f"{len(files)} files"))
    for line in progress.table(("文件 name", "类型 kind", "读入 rows in", "载入 loaded", "拒绝 rejected",
                                "状态 status"), rows, right=(2, 3, 4)):
        print(f"  {line}")
    for f in files:
        if f.get("why"):
            print(f"  {safe_text(f['name'])}: {safe_text(f['why'])}")
    for failure in summary.get("failures", []):  # one file's or one advisor's, while the night went on
        where = safe_text(failure.get("file") or failure.get("advisor_id") or "")
        print(f"  警告 WARNING {where}: {safe_text(failure['zh'])} / {safe_text(failure['en'])}")
    held = summary.get("held", [])
    if held:
        print(f"\n暂缓到下一晚 / held for the next night: {len(held)}")
        for h in held:
            print(f"  {safe_text(h['name'])}（修改于 modified {h['modified_at']}）: {h['why']}")
        print(f"  → {held[0]['how']}")
    not_worked = summary.get("not_worked", {})
    if not_worked:
        print("\n未跟进 / not worked (returned worklist rows left empty): "
              + ", ".join(f"{safe_text(advisor)} {n}" for advisor, n in not_worked.items()))
    undecided = summary.get("undecided", {})
    if undecided:
        print("\n未决定 / undecided (review workbook rows with 决定 left empty, offered again later): "
              + ", ".join(f"{safe_text(manager)} {n}" for manager, n in undecided.items()))
    warnings = summary.get("warnings", [])
    if warnings:
        print(f"\n提醒 / warnings: {len(warnings)}")
        for w in warnings:
            print(f"  ! {safe_text(w['zh'])}\n    {safe_text(w['en'])}")
    tasks = summary["tasks"]
    print(f"\n任务 / tasks: {tasks['total']:,}（逾期 overdue {tasks['overdue']:,}，"
          f"转交 orphaned {tasks['orphaned']:,}，顾问 advisors {tasks['advisors']}）")
    by_type = [(f"{TASK_LABELS.get(task_type, task_type)} {task_type}", n) for task_type, n in tasks["by_type"].items()]
    for line in progress.table(("任务类型 task type", "任务 tasks"), by_type, right=(1,)):
        print(f"  {line}")
    plan = summary.get("plan")
    if plan:
        print(f"今日计划 / today's plans: {plan['customers_in_plan']:,} 位客户 customers"
              f"（待安排 waiting {plan['customers_waiting']:,}，交经理决定 stale {plan['customers_stale']:,}，"
              f"顺延超限 escalated {plan['customers_escalated']:,}）")
    emails = summary["emails"]
    failed = ", ".join(f["to"] for f in emails.get("failed", []))
    print(f"\n邮件 / emails: {emails['written']} written to outbox, {emails.get('sent', 0)} sent"
          + (f"; FAILED 发送失败: {failed}" if failed else "")
          + (f"; no email address: {', '.join(emails['without_email'])}" if emails["without_email"] else ""))
    ops = emails.get("ops") or {}
    if ops.get("to"):
        print(f"运维邮件 / ops email to {ops['to']}: "
              + (f"not written ({ops['skipped']})" if ops.get("skipped") else
                 f"written to outbox/ops.eml, {ops.get('sent', 0)} sent"
                 + (f"; FAILED 发送失败: {ops['failed'][0]['error']}" if ops.get("failed") else "")))
    print(f"\n输出 / outputs: {run_dir.resolve()}")
    outputs = ("worklist.csv", "worklists/", "report.html", "reports/", "reviews/", "outbox/", "rejects/", "run.json")
    for name in outputs:
        if (run_dir / name.rstrip("/")).exists():
            print(f"  {run_dir / name}")
