"""The `genjin` command (SPEC §9): `run` tonight's drop folder, or a `demo` on generated data; `settings` shows
what `run` and `serve` would use (genjin/settings.py).

Every command's arguments are here; its code is a module of genjin/commands/ (COMMANDS), imported only once the
arguments say which command runs: `genjin check` or `genjin settings` does not pay for importing Prefect, and
`genjin --help` for none of them (issues #14, #17)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from datetime import date
from pathlib import Path

from adapters import history_schema
from adapters.localzone import files_in
from genjin import prefect_env
from genjin.commands import preflight
from genjin.settings import Settings, SettingsError, add_flags, from_args

COMMANDS = {  # name → the module whose `main(args, settings)` runs it
    "run": "genjin.commands.run",
    "check": "genjin.commands.check",
    "demo": "genjin.commands.demo",
    "simulate": "genjin.commands.simulate",
    "settings": "genjin.commands.settings",
    "serve": "genjin.commands.serve",
    "backup": "genjin.commands.backup",
    "restore": "genjin.commands.restore",
    "maintain": "genjin.commands.maintain",
}
# flags > GENJIN_* > genjin.toml, checked first
WITH_SETTINGS = ("run", "serve", "settings", "simulate", "backup", "restore", "maintain")
READS_HISTORY = ("run", "serve", "simulate", "backup", "maintain")  # refused on a history a newer genjin wrote
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEPLOYMENT_NAME = "nightly"


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
    check.add_argument("--as-of", type=_date, default=None,
                       help="the night to check for (default: the next night's run, tomorrow in Asia/Shanghai)")
    demo = sub.add_parser("demo", help="generate a sample drop folder and run it end to end")
    demo.add_argument("--dir", type=Path, default=Path("genjin-demo"), help="where to put it (default genjin-demo)")
    demo.add_argument("--size", type=int, default=1, help="data volume: 1 = 3 stores (default 1)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--as-of", type=_date, default=None)
    demo.add_argument("--nights", type=int, default=None, metavar="N",
                      help="play N nights from --as-of, the sample advisors' and managers' workbooks dropped back "
                           "between them")
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
    serve = sub.add_parser("serve", help=f"serve the nightly deployment on a schedule (default cron {DEFAULT_CRON!r}, "
                                         f"{DEFAULT_TIMEZONE}); needs PREFECT_API_URL")
    add_flags(serve, cron=True)
    serve.add_argument("--name", default=DEPLOYMENT_NAME, help=f"deployment name (default {DEPLOYMENT_NAME})")
    serve.add_argument("--send", action="store_true", help="send the emails over SMTP (GENJIN_SMTP_* settings)")
    _data_commands(sub)
    return p


def _data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that look after the data root: backup, restore and maintain."""
    backup = sub.add_parser("backup", help="write the history, ledgers, archive, outputs and settings files to one "
                                           "file (DEST: a file, or a folder to put it in)")
    add_flags(backup)
    backup.add_argument("dest", type=Path, metavar="DEST")
    restore = sub.add_parser("restore", help="put a backup back into an empty data root")
    add_flags(restore)
    restore.add_argument("file", type=Path, metavar="FILE")
    maintain = sub.add_parser("maintain", help="compact and vacuum the history's tables (weekly under serve)")
    add_flags(maintain)
    maintain.add_argument("--keep-days", type=float, default=7,
                          help="keep older versions of the tables readable this many days (default 7, at least 1)")
    for command in (backup, restore, maintain):
        command.add_argument("--wait-seconds", type=float, default=0.0,
                             help="when a run is in progress, wait this long for it (default 0: stop at once)")


def _prefect_environment(args: argparse.Namespace, settings: Settings | None) -> None:
    """Prefect reads its settings when it is first imported: they are set here, before the command's module
    imports it (genjin/prefect_env.py). `run` and `serve` use the user's Prefect (home, profile, server) and
    genjin.toml's `prefect_api_url`; genjin's own home ~/.genjin/prefect only for a user without one; `demo`
    keeps its Prefect home in its folder."""
    if args.command in ("run", "serve"):
        prefect_env.configure(prefect_env.GENJIN_HOME)
        prefect_env.use_api_url(settings.prefect_api_url if settings else None)
    elif args.command == "demo":  # a sandbox: its runs stay in its own Prefect home unless PREFECT_HOME is set
        home = (args.dir / ".prefect").resolve()
        if "PREFECT_HOME" not in os.environ:
            home.mkdir(parents=True, exist_ok=True)
            os.environ["PREFECT_HOME"] = str(home)
        prefect_env.configure()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings: Settings | None = None
    if args.command == "simulate":
        args.policy, args.proposed = args.current, args.policy  # the settings' policy is the one in use
    if args.command in WITH_SETTINGS:
        try:
            settings = from_args(args)
        except SettingsError as err:
            print(err, file=sys.stderr)
            return 2
    if args.command in ("run", "serve") and settings is not None and preflight.refused(
            preflight.problems(settings, args.send)):  # before anything starts, the Prefect server included
        return preflight.REFUSED  # first: a history folder below a file is named, not read
    if settings is not None and args.command in READS_HISTORY:
        try:
            history_schema.check(settings.history)
        except (history_schema.HistoryTooNew, ValueError) as err:
            print(err, file=sys.stderr)
            return 2
    _prefect_environment(args, settings)
    if args.command == "demo" or (args.command == "run" and settings is not None and not settings.dask_address):
        prefect_env.launch_temporary_server()  # boots while the command imports (a Dask night needs a real one)
    command = importlib.import_module(COMMANDS[args.command])
    with files_in(settings.timezone if settings else DEFAULT_TIMEZONE):  # the store's clock for file times
        return command.main(args, settings)


if __name__ == "__main__":
    sys.exit(main())
