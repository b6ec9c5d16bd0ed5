"""`genjin serve`: the nightly flow as a Prefect deployment on a cron schedule (SPEC §9, issue #8), and beside it
the intraday pick-up every `intraday_minutes` within `intraday_hours` (issue #18; `intraday_hours = "off"`
serves the night only).

The deployment runs `flows.scheduled.nightly_scheduled`, which takes string parameters and computes each night's
`as_of` from the run's scheduled start time in the deployment's time zone.

A cron deployment needs a real Prefect server: the temporary one Prefect starts on its own cannot schedule
(PITFALLS, prefect#16120). So `serve` refuses to start unless a server is configured — PREFECT_API_URL, the
user's Prefect profile (`prefect config set PREFECT_API_URL=…`) or genjin.toml's `prefect_api_url` — and answers.

Beside the two, it serves `genjin-ops-alert/ops-alert` (flows/ops_alert.py) and registers the automations that
start it: a run that failed in a way its own hooks could not tell, and no night completed for
`missed_night_hours` (genjin/automations.py).

Its flags are in genjin/cli.py, which also checks the settings and sets Prefect's environment before this module
imports Prefect.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from dataclasses import asdict

import httpx
from prefect import serve as serve_all
from prefect.schedules import Cron
from prefect.settings import get_current_settings
from prefect.types.entrypoint import EntrypointType

from adapters import localzone
from flows.maintenance import MAINTAIN_CRON, MAINTAIN_FLOW, maintain_scheduled
from flows.ops_alert import ops_alert
from flows.scheduled import intraday_cron, intraday_scheduled, nightly_scheduled
from genjin.automations import register
from genjin.settings import Settings

FLOW_NAME = "genjin-nightly-scheduled"
INTRADAY_NAME = "intraday"
INTRADAY_FLOW = "genjin-intraday-scheduled"
ALERT_NAME = "ops-alert"

NO_SERVER = """\
genjin serve 需要一个 Prefect 服务器：Prefect 自动启动的临时服务器无法按计划运行。
genjin serve needs a Prefect server: the temporary server Prefect starts on its own cannot run schedules.

在另一个终端启动服务器 / start a server in another terminal:

    .venv/bin/prefect server start            # serves http://127.0.0.1:4200

然后告诉 genjin 它的地址 / then tell genjin where it is:

    export PREFECT_API_URL=http://127.0.0.1:4200/api
    .venv/bin/genjin serve --drop data/drop --out data/out
"""


def _api_url() -> str | None:
    url = get_current_settings().api.url  # the environment or the active Prefect profile
    return str(url) if url else None


def _reachable(url: str) -> str | None:
    """None when the server answers /health, else why not."""
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=10)
    except httpx.HTTPError as err:
        return f"{type(err).__name__}: {err}"
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """SIGINT and SIGTERM both stop `serve` at once, as a service manager expects. SIGINT raises KeyboardInterrupt
    even when `serve` was started with SIGINT ignored (a shell's background job, `nohup`), which Python would keep;
    SIGTERM the same until the Prefect runner has started, then the runner's own (it exits at once; its unawaited
    clean-up coroutine is not worth a warning in the service's log)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)  # until the runner puts its own in place
    warnings.filterwarnings("ignore", message="coroutine 'Runner.astop' was never awaited", category=RuntimeWarning)


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted (Ctrl-C pauses the schedule). genjin/cli.py has checked the settings, the
    folders and the policy (genjin/commands/preflight.py). Beside the night (and the intraday pick-up) it serves
    `genjin-ops-alert`, and registers the automations that start it (genjin/automations.py)."""
    schedule = Cron(settings.schedule, timezone=settings.timezone)
    url = _api_url()
    if not url:
        print(NO_SERVER, file=sys.stderr)
        return 2
    why = _reachable(url)
    if why:
        print(f"无法连接 Prefect 服务器 / cannot reach the Prefect server at {url}: {why}\n\n{NO_SERVER}",
              file=sys.stderr)
        return 2
    stop_on_signals()
    os.environ[localzone.VARIABLE] = settings.timezone  # file times of the runs Prefect starts in their own process
    robots = {store: config.model_dump() for store, config in settings.robots.items()}  # names of variables
    ops_robot = settings.ops_robot.model_dump() if settings.ops_robot else None
    parameters = {
        "drop": str(settings.drop.resolve()),
        "out": str(settings.out.resolve()),
        "archive": str(settings.archive.resolve()),
        "quarantine": str(settings.quarantine.resolve()),
        "history": str(settings.history.resolve()),
        "policy": str(settings.policy.resolve()) if settings.policy else None,
        "timezone": settings.timezone,
        "settle_seconds": settings.settle_seconds,
        "send": args.send,
        "dask_address": settings.dask_address,
        "robots": robots,
        "mail": asdict(settings.mail_settings()),  # no password: the runs read it from their environment
        "ops_robot": ops_robot,
        "retry_seconds": settings.delivery_retry_seconds,
    }
    nightly = nightly_scheduled.to_deployment(name=args.name, schedules=[schedule], parameters=parameters,
                                              entrypoint_type=EntrypointType.MODULE_PATH)
    intraday = None
    intraday_line = "关闭 / off"
    if settings.intraday_hours != "off":
        cron = intraday_cron(settings.intraday_minutes, settings.intraday_hours)
        day = {k: parameters[k] for k in ("drop", "out", "archive", "quarantine", "history", "policy", "timezone",
                                          "settle_seconds", "send", "robots", "mail", "ops_robot")}
        intraday = intraday_scheduled.to_deployment(
            name=INTRADAY_NAME, schedules=[Cron(cron, timezone=settings.timezone)],
            parameters=day | {"hours": settings.intraday_hours}, entrypoint_type=EntrypointType.MODULE_PATH)
        intraday_line = f"{INTRADAY_FLOW}/{INTRADAY_NAME} · 每 {settings.intraday_minutes} 分钟 every " \
                        f"{settings.intraday_minutes} min, {settings.intraday_hours} (cron {cron!r})"
    alert = ops_alert.to_deployment(
        name=ALERT_NAME, entrypoint_type=EntrypointType.MODULE_PATH,
        parameters={"what": "failed", "history": parameters["history"], "out": parameters["out"], "send": args.send,
                    "mail": parameters["mail"], "ops_robot": ops_robot, "timezone": settings.timezone,
                    "missed_hours": settings.missed_night_hours})
    deployments = [d for d in (nightly, intraday, alert) if d is not None]
    ids = [d.apply() for d in deployments]  # serving applies them again: the same ids
    done = register(args.name, ids[0], ids[1] if intraday else None, ids[-1], settings.missed_night_hours,
                    settings.ops_robot, os.environ)
    maintain = maintain_scheduled.to_deployment(  # weekly: the history's tables compacted and vacuumed
        name="weekly", schedules=[Cron(MAINTAIN_CRON, timezone=settings.timezone)],
        parameters={"history": parameters["history"]}, entrypoint_type=EntrypointType.MODULE_PATH)
    print(f"genjin serve: {FLOW_NAME}/{args.name} · cron {settings.schedule!r} {settings.timezone} · {url}\n"
          f"  日间 / intraday: {intraday_line}\n"
          f"  维护 / maintenance: {MAINTAIN_FLOW}/weekly · cron {MAINTAIN_CRON!r} {settings.timezone}\n"
          f"  drop {parameters['drop']} → {parameters['out']}\n"
          f"  运维通知 / ops told: {_told(settings, args.send)}; "
          f"{settings.missed_night_hours:g} 小时没有夜间运行完成也会通知 / also when no night completes for "
          f"{settings.missed_night_hours:g} h (automations {done['missed']}, {done['failed']})\n"
          f"  停止请按 Ctrl-C / Ctrl-C to stop (the schedule is paused on exit)", flush=True)
    serve_all(*deployments, maintain, limit=4, print_starting_message=False)
    return 0


def _told(settings: Settings, send: bool) -> str:
    ways = [w for w, given in (("email " + (settings.ops_email or ""), settings.ops_email),
                               ("robot " + (settings.ops_robot.shown() if settings.ops_robot else ""),
                                settings.ops_robot)) if given]
    if not send:
        return "不发送（没有 --send）/ nothing sent (no --send)"
    return ", ".join(ways) if ways else "未设置 ops_email / ops_robot — 没人会收到 / not set: nobody is told"
