"""`genjin run`: one night over the drop folder (flows/nightly.py), a line per stage as it ends, then a summary of
what it read, loaded, planned and wrote. Prefect's home is ~/.genjin/prefect unless PREFECT_HOME is set (set by
genjin/cli.py before this module imports Prefect)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.folders import Folders
from adapters.lock import Busy, run_lock
from adapters.mail import MailConfigError, MailSettings, password_from, smtp_settings
from adapters.robots import RobotConfig
from flows import progress
from flows.nightly import nightly_on
from genjin import prefect_env
from genjin.commands.preflight import drop_and_policy_ok
from genjin.settings import Settings
from reports.cells import safe_text
from transforms.labels import TASK_LABELS

TIMEZONE = ZoneInfo("Asia/Shanghai")  # the default; `run` and `serve` use the `timezone` setting
STATUS_ZH = {"loaded": "已载入", "duplicate": "重复", "quarantined": "已隔离"}
BUSY = 3  # exit code: another run holds the lock


def today(zone: ZoneInfo = TIMEZONE) -> date:
    return datetime.now(zone).date()


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run_night(settings.folders(), args.as_of or today(settings.zone), settings.policy,
                     settings.settle_seconds, args.send, args.wait_seconds, settings.dask_address, settings.robots,
                     settings.mail_settings())


def run_night(folders: Folders, as_of: date, policy: Path | None, settle_seconds: float,
              send: bool = False, wait_seconds: float = 0.0, dask_address: str | None = None,
              robots: Mapping[str, RobotConfig] | None = None, mail_settings: MailSettings | None = None,
              summary: bool = True) -> int:
    """One night over `folders`; with `send`, the emails go where `mail_settings` say (the password: the
    environment's GENJIN_SMTP_PASSWORD), checked before anything starts. Without `summary`, only the stage lines
    are printed (`genjin demo --nights` says what changed instead)."""
    mail_settings = mail_settings or MailSettings()
    if send:
        try:
            smtp_settings(mail_settings, password_from(os.environ))
        except MailConfigError as err:
            print(f"邮件设置有误 / mail settings: {err}", file=sys.stderr)
            return 2

    if not drop_and_policy_ok(folders.drop, policy):  # fail before starting anything
        return 2
    try:
        night = nightly_on(dask_address)  # a Dask cluster's workers, or this machine
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    try:
        with run_lock(folders.history, wait_seconds):
            print(f"genjin: {as_of} · drop {folders.drop} → {folders.out / as_of.isoformat()}"
                  + (f" · Dask {dask_address}" if dask_address else ""), flush=True)
            prefect_env.start_temporary_server()
            with progress.on_terminal():  # a line per stage as it ends
                result = night(folders=folders, as_of=as_of, policy_file=policy, settle_seconds=settle_seconds,
                               send=send, robots=robots, mail_settings=mail_settings)
    except Busy as err:
        print(err, file=sys.stderr)
        return BUSY
    if summary:
        _print_summary(result.summary, result.run_dir)
    return 0


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    files = summary["files"]
    print("\n文件 / files")
    rows = [(safe_text(f["name"]), f["kind"] or "-", f["rows_in"], f["rows_loaded"], f["rows_rejected"],
             f"{f['status']} {STATUS_ZH.get(f['status'], '')}".strip()) for f in files]
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
