"""`genjin serve`: the nightly flow as a Prefect deployment on a cron schedule (SPEC §9, issue #8), and beside it
the intraday pick-up every `intraday_minutes` within `intraday_hours` (issue #18; `intraday_hours = "off"`
serves the night only).

The deployment runs `flows.scheduled.nightly_scheduled`, which takes string parameters and computes each night's
`as_of` from the run's scheduled start time in the deployment's time zone.

A cron deployment needs a real Prefect server: the temporary one Prefect starts on its own cannot schedule
(PITFALLS, prefect#16120). So `serve` refuses to start unless `PREFECT_API_URL` points at a server.

Its flags are in genjin/cli.py, which also sets Prefect's environment (a home in ~/.genjin/prefect, the runs' logs
sent to the server) before this module imports Prefect.
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
from flows.scheduled import intraday_cron, intraday_scheduled, nightly_scheduled
from genjin.commands.preflight import drop_and_policy_ok
from genjin.settings import Settings

FLOW_NAME = "genjin-nightly-scheduled"
INTRADAY_NAME = "intraday"
INTRADAY_FLOW = "genjin-intraday-scheduled"

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
    """Check the settings (time zone checked by genjin/settings.py), then serve until interrupted (Ctrl-C pauses
    the schedule). The runs' stage records go to their Prefect run logs (flows.progress.to_run_logs)."""
    try:
        schedule = Cron(settings.schedule, timezone=settings.timezone)
    except ValueError as err:
        print(f"cron 表达式有误 / invalid cron {settings.schedule!r}: {err}", file=sys.stderr)
        return 2
    if not drop_and_policy_ok(settings.drop, settings.policy):
        return 2
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
    }
    deployments = [nightly_scheduled.to_deployment(name=args.name, schedules=[schedule], parameters=parameters,
                                                   entrypoint_type=EntrypointType.MODULE_PATH)]
    intraday = "关闭 / off"
    if settings.intraday_hours != "off":
        cron = intraday_cron(settings.intraday_minutes, settings.intraday_hours)
        day = {k: parameters[k] for k in ("drop", "out", "archive", "quarantine", "history", "policy", "timezone",
                                          "settle_seconds", "send", "robots", "mail")}
        deployments.append(intraday_scheduled.to_deployment(
            name=INTRADAY_NAME, schedules=[Cron(cron, timezone=settings.timezone)],
            parameters=day | {"hours": settings.intraday_hours}, entrypoint_type=EntrypointType.MODULE_PATH))
        intraday = f"{INTRADAY_FLOW}/{INTRADAY_NAME} · 每 {settings.intraday_minutes} 分钟 every " \
                   f"{settings.intraday_minutes} min, {settings.intraday_hours} (cron {cron!r})"
    deployments.append(maintain_scheduled.to_deployment(  # weekly: the history's tables compacted and vacuumed
        name="weekly", schedules=[Cron(MAINTAIN_CRON, timezone=settings.timezone)],
        parameters={"history": parameters["history"]}, entrypoint_type=EntrypointType.MODULE_PATH))
    print(f"genjin serve: {FLOW_NAME}/{args.name} · cron {settings.schedule!r} {settings.timezone} · {url}\n"
          f"  日间 / intraday: {intraday}\n"
          f"  维护 / maintenance: {MAINTAIN_FLOW}/weekly · cron {MAINTAIN_CRON!r} {settings.timezone}\n"
          f"  drop {parameters['drop']} → {parameters['out']}\n"
          f"  停止请按 Ctrl-C / Ctrl-C to stop (the schedule is paused on exit)", flush=True)
    serve_all(*deployments, limit=2, print_starting_message=False)
    return 0

