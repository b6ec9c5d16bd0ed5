"""The flow `genjin serve` deploys: one night of `nightly`, with string parameters and `as_of` from the schedule.

Its parameters are plain strings (drop, out, archive, quarantine, history, policy, time zone) and plain dicts
(robots, mail: `adapters.mail.MailSettings` without the password, which the run reads from its environment)
so they survive the trip through the Prefect server; archive, quarantine and history left out sit beside the
drop folder. `as_of` is the flow run's *scheduled* start time as a date in `timezone` (Asia/Shanghai by
default), so a run that starts late, or is retried after midnight, still processes the night it was scheduled
for; a string `as_of` (YYYY-MM-DD) overrides it for a backfill.
The stage records of flows.progress go to the run's logs.

`intraday_scheduled` is the second deployment (issue #18): every `intraday_minutes` within the opening hours it
takes the day's lead and follow-up files and sends the alerts they call for (flows/intraday.py).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run

from adapters.folders import Folders
from adapters.lock import Busy, run_lock
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from flows.intraday import intraday
from flows.nightly import nightly_on
from flows.progress import to_run_logs
from policy.model import opening_hours

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


@flow(name="genjin-intraday-scheduled", log_prints=False)
def intraday_scheduled(drop: str, out: str, policy: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                       settle_seconds: float = 60.0, send: bool = False, hours: str = "08:30-21:00",
                       robots: dict[str, dict[str, Any]] | None = None, at: str | None = None,
                       archive: str | None = None, quarantine: str | None = None,
                       history: str | None = None, mail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One intraday pick-up at the run's scheduled time in `timezone` (or `at`, `YYYY-MM-DDTHH:MM` local);
    outside the opening `hours`, or while the night (or a run by hand) holds the lock, it does nothing — the
    next run takes the files."""
    now = datetime.fromisoformat(at) if at else local_time(flow_run.scheduled_start_time, timezone)
    opens, closes = opening_hours(hours)
    if not opens <= now.time() <= closes:
        return {"at": now.isoformat(timespec="minutes"), "skipped": "closed"}
    folders = _folders(drop, out, archive, quarantine, history)
    try:
        with run_lock(folders.history, wait_seconds=0), to_run_logs():
            return intraday(folders=folders, now=now, policy_file=Path(policy) if policy else None,
                            settle_seconds=settle_seconds, send=send, robots=_robots(robots),
                            mail_settings=MailSettings(**(mail or {})))
    except Busy:
        return {"at": now.isoformat(timespec="minutes"), "skipped": "busy"}


@flow(name="genjin-nightly-scheduled", log_prints=False)
def nightly_scheduled(drop: str, out: str, policy: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                      settle_seconds: float = 5.0, send: bool = False, as_of: str | None = None,
                      archive: str | None = None, quarantine: str | None = None,
                      history: str | None = None, dask_address: str | None = None,
                      robots: dict[str, dict[str, Any]] | None = None,
                      mail: dict[str, Any] | None = None) -> dict[str, Any]:
    night = date.fromisoformat(as_of) if as_of else scheduled_date(flow_run.scheduled_start_time, timezone)
    folders = _folders(drop, out, archive, quarantine, history)
    with run_lock(folders.history, wait_seconds=LOCK_WAIT_SECONDS), to_run_logs():  # never beside a `genjin run`
        result = nightly_on(dask_address)(folders=folders, as_of=night, policy_file=Path(policy) if policy else None,
                                          settle_seconds=settle_seconds, send=send, robots=_robots(robots),
                            mail_settings=MailSettings(**(mail or {})))
    return {"as_of": night.isoformat(), "run_dir": str(result.run_dir), "tasks": result.summary.get("tasks")}
