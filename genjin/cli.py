"""The `genjin` command (SPEC §9): `run` tonight's drop folder, or a `demo` on generated data."""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from genjin import prefect_env

TIMEZONE = ZoneInfo("Asia/Shanghai")
STATUS_ZH = {"loaded": "已载入", "duplicate": "重复", "quarantined": "已隔离"}


def today() -> date:
    return datetime.now(TIMEZONE).date()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD, got {text!r}") from err


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genjin", description="跟进 — nightly follow-up worklists for dealerships")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="process the drop folder for one night")
    run.add_argument("--drop", type=Path, default=Path("data/drop"), help="drop folder (default data/drop)")
    run.add_argument("--out", type=Path, default=Path("data/out"), help="output folder (default data/out)")
    run.add_argument("--as-of", type=_date, default=None, help="the night's date, default today (Asia/Shanghai)")
    run.add_argument("--policy", type=Path, default=None, help="policy TOML (default: the built-in one)")
    run.add_argument("--send", action="store_true",
                     help="send the emails over SMTP (GENJIN_SMTP_* settings); without it they go to outbox/")
    run.add_argument("--settle-seconds", type=float, default=60.0,
                     help="leave files modified this recently for the next run (default 60)")
    run.add_argument("--wait-seconds", type=float, default=0.0,
                     help="when another run is in progress, wait this long for it, then stop (default 0: stop at once)")
    check = sub.add_parser("check", help="say what tonight's run would do with files, without loading them")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    demo = sub.add_parser("demo", help="generate a sample drop folder and run it end to end")
    demo.add_argument("--dir", type=Path, default=Path("genjin-demo"), help="where to put it (default genjin-demo)")
    demo.add_argument("--size", type=int, default=1, help="data volume: 1 = 3 stores (default 1)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--as-of", type=_date, default=None)
    from genjin import serve

    serve.add_parser(sub)
    return p


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 0)


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    print("\n文件 / files")
    for f in summary["files"]:
        status = f"{f['status']} {STATUS_ZH.get(f['status'], '')}"
        print(f"  {_pad(f['name'], 28)} {f['kind'] or '-':<10} in {f['rows_in']:>7}  loaded {f['rows_loaded']:>7}"
              f"  rejected {f['rows_rejected']:>5}  {status}")
        if f.get("why"):
            print(f"      {f['why']}")
    tasks = summary["tasks"]
    print(f"\n任务 / tasks: {tasks['total']}（逾期 overdue {tasks['overdue']}，转交 orphaned {tasks['orphaned']}，"
          f"顾问 advisors {tasks['advisors']}）")
    for task_type, n in tasks["by_type"].items():
        print(f"  {task_type:<22} {n:>6}")
    emails = summary["emails"]
    failed = ", ".join(f["to"] for f in emails.get("failed", []))
    print(f"\n邮件 / emails: {emails['written']} written to outbox, {emails.get('sent', 0)} sent"
          + (f"; FAILED 发送失败: {failed}" if failed else "")
          + (f"; no email address: {', '.join(emails['without_email'])}" if emails["without_email"] else ""))
    print(f"\n输出 / outputs: {run_dir.resolve()}")
    for name in ("worklist.csv", "worklists/", "report.html", "outbox/", "rejects/", "run.json"):
        if (run_dir / name.rstrip("/")).exists():
            print(f"  {run_dir / name}")


BUSY = 3  # exit code: another run holds the lock


def _run(drop: Path, out: Path, as_of: date, policy: Path | None, settle_seconds: float,
         send: bool = False, wait_seconds: float = 0.0) -> int:
    from genjin.mail import MailConfigError, SmtpSettings
    from genjin.policy import PolicyError, load_policy

    if send:
        try:
            SmtpSettings.from_env(os.environ)
        except MailConfigError as err:
            print(f"邮件设置有误 / mail settings: {err}", file=sys.stderr)
            return 2

    if not drop.is_dir():
        print(f"投放目录不存在 / drop folder not found: {drop}", file=sys.stderr)
        return 2
    try:
        load_policy(policy)  # fail before starting anything
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 2
    from genjin.folders import Folders
    from genjin.lock import Busy, run_lock

    folders = Folders.beside(drop, out)
    try:
        with run_lock(folders.history, wait_seconds):
            from flows.nightly import nightly

            print(f"genjin: {as_of} · drop {drop} → {out / as_of.isoformat()}")
            prefect_env.start_temporary_server()
            result = nightly(folders=folders, as_of=as_of, policy_file=policy, settle_seconds=settle_seconds,
                             send=send)
    except Busy as err:
        print(err, file=sys.stderr)
        return BUSY
    _print_summary(result.summary, result.run_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        prefect_env.configure(Path.home() / ".genjin" / "prefect")
        return _run(args.drop, args.out, args.as_of or today(), args.policy, args.settle_seconds, args.send,
                    args.wait_seconds)
    if args.command == "check":
        from genjin.check import check

        return check(args.files, sys.stdout)
    if args.command == "demo":
        from genjin.sample_data import generate

        as_of = args.as_of or today()
        prefect_env.configure((args.dir / ".prefect").resolve())
        drop = args.dir / "drop"
        drop.mkdir(parents=True, exist_ok=True)
        written = generate(drop, as_of=as_of, seed=args.seed, size=args.size)
        print(f"genjin demo: {len(written)} sample files written to {drop.resolve()}")
        return _run(drop, args.dir / "out", as_of, None, settle_seconds=0)
    if args.command == "serve":
        from genjin import serve

        return serve.serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
