"""The flow `genjin serve` deploys: one night of `nightly`, with string parameters and `as_of` from the schedule.

Its parameters are plain strings (drop, out, archive, quarantine, history, policy, time zone) and plain dicts
(robots, mail: `adapters.mail.MailSettings` without the password, which the run reads from its environment)
so they survive the trip through the Prefect server; archive, quarantine and history left out sit beside the
drop folder. `as_of` is the flow run's *scheduled* start time as a date in `timezone` (Asia/Shanghai by
default), so a run that starts late, or is retried after midnight, still processes the night it was scheduled
for; a string `as_of` (YYYY-MM-DD) overrides it for a backfill.
Each run is named for its night (`nightly-2026-11-20`, `intraday-2026-11-20-10:15`), runs the night in its own
flow run (its tasks, its logs — genjin's stage records among them — and the night's artifacts), has a timeout,
and tells ops when it fails, crashes or is cancelled (the state hooks of flows/ops_alert.py).

`intraday_scheduled` is the second deployment (issue #18): every `intraday_minutes` within the opening hours it
takes the day's lead and follow-up files and sends the alerts they call for (flows/intraday.py).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Completed, State

from adapters.folders import Folders, check_folders
from adapters.lock import Busy, run_lock
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from flows.intraday import INTRADAY_TIMEOUT_SECONDS, pick_up
from flows.nightly import NIGHT_TIMEOUT_SECONDS, night, nightly_on
from flows.ops_alert import HOOKS
from flows.steps import DELIVERY_RETRY_SECONDS
from policy.model import opening_hours

log = logging.getLogger("genjin")

DEFAULT_TIMEZONE = "Asia/Shanghai"
LOCK_WAIT_SECONDS = 600.0  # a scheduled night waits this long for a run started by hand, then fails visibly


def scheduled_date(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    """The night a run belongs to: its scheduled start as a date in `timezone` (a naive time is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(timezone)).date()


def _folders(drop: str, out: str, archive: str | None, quarantine: str | None, history: str | None) -> Folders:
    beside = Folders.beside(Path(drop), Path(out))
    return Folders(beside.drop, Path(archive) if archive else beside.archive,
                   Path(quarantine) if quarantine else beside.quarantine,
                   Path(history) if history else beside.history, beside.out)


def _robots(robots: dict[str, dict[str, Any]] | None) -> dict[str, RobotConfig]:
    return {store: RobotConfig(**config) for store, config in (robots or {}).items()}


def local_time(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """`moment` as a naive local time in `timezone` (a naive `moment` is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def intraday_cron(minutes: int, hours: str) -> str:
    """The cron of the intraday deployment: every `minutes` through the hours `hours` (`08:30-21:00`) touches;
    a run before the opening or after the closing minute passes (`intraday_scheduled`)."""
    opens, closes = opening_hours(hours)
    last = closes.hour if closes.minute else closes.hour - 1
    every = "0" if minutes == 60 else f"*/{minutes}"
    return f"{every} {opens.hour}-{max(last, opens.hour)} * * *"


def _night_name() -> str:
    """`nightly-2026-11-20`: the night the deployed run is for (its `as_of`, else its scheduled date)."""
    parameters = flow_run.parameters
    night = parameters.get("as_of") or scheduled_date(flow_run.scheduled_start_time,
                                                      parameters.get("timezone") or DEFAULT_TIMEZONE).isoformat()
    return f"nightly-{night}"


def _moment(at: str | None, timezone: str) -> datetime:
    return datetime.fromisoformat(at) if at else local_time(flow_run.scheduled_start_time, timezone)


def _intraday_name() -> str:
    """`intraday-2026-11-20-10:15`: the moment the deployed run picks up at (its `at`, else its scheduled time)."""
    parameters = flow_run.parameters
    moment = _moment(parameters.get("at"), parameters.get("timezone") or DEFAULT_TIMEZONE)
    return f"intraday-{moment:%Y-%m-%d-%H:%M}"


def _skipped(now: datetime, why: str, zh: str, en: str) -> State[Any]:
    """A run that had nothing to do: Completed, but named `Skipped` in Prefect, with why in its log and state."""
    log.info("%s 日间运行跳过：%s / intraday run skipped: %s", now.isoformat(timespec="minutes"), zh, en)
    return Completed(name="Skipped", message=f"{zh} / {en}",
                     data={"at": now.isoformat(timespec="minutes"), "skipped": why})


@flow(name="genjin-intraday-scheduled", flow_run_name=_intraday_name, log_prints=False,
      timeout_seconds=INTRADAY_TIMEOUT_SECONDS, **HOOKS)
def intraday_scheduled(drop: str, out: str, policy: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                       settle_seconds: float = 60.0, send: bool = False, hours: str = "08:30-21:00",
                       robots: dict[str, dict[str, Any]] | None = None, at: str | None = None,
                       archive: str | None = None, quarantine: str | None = None,
                       history: str | None = None, mail: dict[str, Any] | None = None,
                       ops_robot: dict[str, Any] | None = None) -> dict[str, Any] | State[Any]:
    """One intraday pick-up at the run's scheduled time in `timezone` (or `at`, `YYYY-MM-DDTHH:MM` local);
    outside the opening `hours`, or while the night (or a run by hand) holds the lock, it does nothing — the
    next run takes the files — and says so (a Completed state named `Skipped`, a line in its log)."""
    now = _moment(at, timezone)
    opens, closes = opening_hours(hours)
    if not opens <= now.time() <= closes:
        return _skipped(now, "closed", f"不在营业时间 {hours} 内", f"outside the opening hours {hours}")
    folders = _folders(drop, out, archive, quarantine, history)
    check_folders(folders)
    try:
        with run_lock(folders.history, wait_seconds=0):
            return pick_up(folders=folders, now=now, policy_file=Path(policy) if policy else None,
                           settle_seconds=settle_seconds, send=send, robots=_robots(robots),
                           mail_settings=MailSettings(**(mail or {})))
    except Busy:
        return _skipped(now, "busy", "夜间运行（或手动运行）正在进行，文件留给下一次",
                        "the night (or a run by hand) holds the lock; the next run takes the files")


@flow(name="genjin-nightly-scheduled", flow_run_name=_night_name, log_prints=False,
      timeout_seconds=NIGHT_TIMEOUT_SECONDS, **HOOKS)
def nightly_scheduled(drop: str, out: str, policy: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                      settle_seconds: float = 5.0, send: bool = False, as_of: str | None = None,
                      archive: str | None = None, quarantine: str | None = None,
                      history: str | None = None, dask_address: str | None = None,
                      robots: dict[str, dict[str, Any]] | None = None,
                      mail: dict[str, Any] | None = None, ops_robot: dict[str, Any] | None = None,
                      retry_seconds: float = DELIVERY_RETRY_SECONDS) -> dict[str, Any] | State[Any]:
    """One night, in this flow run (its tasks, logs and artifacts are the deployment run's); on a Dask cluster
    as the `nightly` subflow with Dask's task runner. Ends like `flows.nightly.night`: Completed, or Failed
    named `Partial` when the outputs were written but not all delivered."""
    night_date = date.fromisoformat(as_of) if as_of else scheduled_date(flow_run.scheduled_start_time, timezone)
    folders = _folders(drop, out, archive, quarantine, history)
    check_folders(folders)
    settings = {"folders": folders, "as_of": night_date, "policy_file": Path(policy) if policy else None,
                "settle_seconds": settle_seconds, "send": send, "robots": _robots(robots),
                "mail_settings": MailSettings(**(mail or {})), "retry_seconds": retry_seconds}
    with run_lock(folders.history, wait_seconds=LOCK_WAIT_SECONDS):  # never beside a `genjin run`
        ended = night(**settings) if not dask_address else nightly_on(dask_address)(
            **settings, ops_robot=RobotConfig(**ops_robot) if ops_robot else None, return_state=True)
    if isinstance(ended, State) and ended.is_completed():
        ended = ended.result()
    if isinstance(ended, State):
        return ended  # Failed (`Partial`) or the Dask subflow's failure: this run ends the same
    return {"as_of": night_date.isoformat(), "run_dir": str(ended.run_dir), "tasks": ended.summary.get("tasks")}
