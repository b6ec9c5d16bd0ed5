"""The `genjin` command (SPEC §9): `run` tonight's drop folder, or a `demo` on generated data; `settings` shows
what `run` and `serve` would use (genjin/settings.py)."""

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
from adapters.mail import MailConfigError, MailSettings, password_from, smtp_settings
from adapters.robots import RobotConfig
from flows import progress
from genjin import prefect_env
from genjin.settings import add_flags
from transforms.labels import TASK_LABELS

TIMEZONE = ZoneInfo("Asia/Shanghai")  # the default; `run` and `serve` use the `timezone` setting
STATUS_ZH = {"loaded": "已载入", "duplicate": "重复", "quarantined": "已隔离"}
def today(zone: ZoneInfo = TIMEZONE) -> date:
    return datetime.now(zone).date()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD, got {text!r}") from err


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genjin", description="跟进 — nightly follow-up worklists for dealerships")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="process the drop folder for one night")
    add_flags(run)
    run.add_argument("--as-of", type=_date, default=None, help="the night's date, default today (in TIMEZONE)")
    run.add_argument("--send", action="store_true",
                     help="send the emails over SMTP (GENJIN_SMTP_* settings); without it they go to outbox/")
    run.add_argument("--wait-seconds", type=float, default=0.0,
                     help="when another run is in progress, wait this long for it, then stop (default 0: stop at once)")
    check = sub.add_parser("check", help="say what tonight's run would do with files, without loading them")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    demo = sub.add_parser("demo", help="generate a sample drop folder and run it end to end")
    demo.add_argument("--dir", type=Path, default=Path("genjin-demo"), help="where to put it (default genjin-demo)")
    demo.add_argument("--size", type=int, default=1, help="data volume: 1 = 3 stores (default 1)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--as-of", type=_date, default=None)
    sim = sub.add_parser("simulate", help="replay past nights under a proposed policy beside the one in use")
    add_flags(sim, policy_help="the PROPOSED policy TOML (required); the one in use is the policy setting")
    sim.add_argument("--current", type=Path, default=None,
                     help="the policy in use (default: the policy setting: genjin.toml, GENJIN_POLICY, built-in)")
    sim.add_argument("--from", dest="first", type=_date, default=None,
                     help="the first night to replay (default: 90 nights before --to)")
    sim.add_argument("--to", dest="last", type=_date, default=None,
                     help="the last night to replay (default: the history's last night)")
    shown = sub.add_parser("settings", help="print the settings `run` and `serve` would use, and where each came from")
    add_flags(shown, cron=True)
    from genjin import serve

    serve.add_parser(sub)
    return p


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    from reports.cells import safe_text  # like the flow's imports: not for `genjin settings`/`check`

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


def _show_settings(settings: Any) -> int:
    """`genjin settings`: each setting, its value and where it came from; the password only as ***."""
    print(f"设置 / settings — genjin.toml: {settings.config or '-'}")
    for line in progress.table(("设置 setting", "值 value", "来源 from"), settings.rows()):
        print(f"  {line}")
    return 0


BUSY = 3  # exit code: another run holds the lock


def _run(folders: Folders, as_of: date, policy: Path | None, settle_seconds: float,
         send: bool = False, wait_seconds: float = 0.0, dask_address: str | None = None,
         robots: Mapping[str, RobotConfig] | None = None, mail_settings: MailSettings | None = None) -> int:
    """One night over `folders`; with `send`, the emails go where `mail_settings` say (the password: the
    environment's GENJIN_SMTP_PASSWORD)."""
    from policy.model import PolicyError, load_policy

    mail_settings = mail_settings or MailSettings()
    if send:
        try:
            smtp_settings(mail_settings, password_from(os.environ))
        except MailConfigError as err:
            print(f"邮件设置有误 / mail settings: {err}", file=sys.stderr)
            return 2

    if not folders.drop.is_dir():
        print(f"投放目录不存在 / drop folder not found: {folders.drop}", file=sys.stderr)
        return 2
    try:
        load_policy(policy)  # fail before starting anything
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 2
    from adapters.lock import Busy, run_lock
    from flows.nightly import nightly_on

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
    _print_summary(result.summary, result.run_dir)
    return 0


def _simulate(settings: Any, proposed: Path | None, first: date | None, last: date | None) -> int:
    """`genjin simulate`: both policies checked before anything runs; outputs under OUT/simulate/ only."""
    from adapters.history import History
    from flows.simulate import SimulateError, night_range, replay, write
    from policy.model import PolicyError, load_policy
    from reports.simulate_report import headline_lines, write_simulate_outputs

    if proposed is None:
        print("请用 --policy 指定拟用的策略文件 / give the proposed policy: genjin simulate --policy FILE",
              file=sys.stderr)
        return 2
    try:
        current_policy, proposed_policy = load_policy(settings.policy), load_policy(proposed)
        first, last = night_range(History(settings.folders().history), first, last)
    except (PolicyError, SimulateError) as err:
        print(err, file=sys.stderr)
        return 2
    files = {"current": str(settings.policy or "内置默认策略 built-in default"), "proposed": str(proposed)}
    print(f"genjin simulate: {first} – {last} · {files['current']} vs {files['proposed']}", flush=True)
    result = replay(History(settings.folders().history), current_policy, proposed_policy, first, last, files)
    folder = write(result, settings.folders().out, write_simulate_outputs)
    for line in headline_lines(result):
        print(f"  {line}")
    print(f"\n{len(result.nights)} 晚，用时 {result.seconds:.1f} 秒 / nights replayed in {result.seconds:.1f} s")
    print(f"输出 / outputs: {folder.resolve()}")
    for name in ("simulate.html", "simulate.json"):
        print(f"  {folder / name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "simulate":
        args.policy, proposed = args.current, args.policy  # the settings' policy is the one in use
    if args.command in ("run", "serve", "settings", "simulate"):
        from genjin.settings import SettingsError, from_args

        try:
            settings = from_args(args)
        except SettingsError as err:
            print(err, file=sys.stderr)
            return 2
        if args.command == "settings":
            return _show_settings(settings)
        if args.command == "simulate":
            return _simulate(settings, proposed, args.first, args.last)
        if args.command == "serve":
            from genjin import serve

            return serve.serve(args, settings)
        prefect_env.configure(Path.home() / ".genjin" / "prefect")
        return _run(settings.folders(), args.as_of or today(settings.zone), settings.policy,
                    settings.settle_seconds, args.send, args.wait_seconds, settings.dask_address, settings.robots,
                    settings.mail_settings())
    if args.command == "check":
        from genjin.check import check

        return check(args.files, sys.stdout)
    if args.command == "demo":
        from demo.sample_data import generate

        as_of = args.as_of or today()
        prefect_env.configure((args.dir / ".prefect").resolve())
        drop = args.dir / "drop"
        drop.mkdir(parents=True, exist_ok=True)
        written = generate(drop, as_of=as_of, seed=args.seed, size=args.size)
        print(f"genjin demo: {len(written)} sample files written to {drop.resolve()}")
        return _run(Folders.beside(drop, args.dir / "out"), as_of, None, settle_seconds=0)
    return 2


if __name__ == "__main__":
    sys.exit(main())
