"""The flow `genjin serve` deploys: one night of `nightly`, with string parameters and `as_of` from the schedule.

Its parameters are plain strings (drop, out, archive, quarantine, history, policy, time zone) so they survive the
trip through the Prefect server; archive, quarantine and history left out sit beside the drop folder. `as_of` is
the flow run's *scheduled* start time as a date in `timezone` (Asia/Shanghai by default), so a run that starts
late, or is retried after midnight, still processes the night it was scheduled for; a string `as_of` (YYYY-MM-DD)
overrides it for a backfill. The stage records of genjin.progress go to the run's logs.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run

from flows.nightly import nightly_on
from genjin.folders import Folders
from genjin.lock import run_lock
from genjin.progress import to_run_logs

DEFAULT_TIMEZONE = "Asia/Shanghai"
LOCK_WAIT_SECONDS = 600.0  # a scheduled night waits this long for a run started by hand, then fails visibly


def scheduled_date(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    """The night a run belongs to: its scheduled start as a date in `timezone` (a naive time is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(timezone)).date()


@flow(name="genjin-nightly-scheduled", log_prints=False)
def nightly_scheduled(drop: str, out: str, policy: str | None = None, timezone: str = DEFAULT_TIMEZONE,
                      settle_seconds: float = 5.0, send: bool = False, as_of: str | None = None,
                      archive: str | None = None, quarantine: str | None = None,
                      history: str | None = None, dask_address: str | None = None) -> dict[str, Any]:
    night = date.fromisoformat(as_of) if as_of else scheduled_date(flow_run.scheduled_start_time, timezone)
    beside = Folders.beside(Path(drop), Path(out))
    folders = Folders(beside.drop, Path(archive) if archive else beside.archive,
                      Path(quarantine) if quarantine else beside.quarantine,
                      Path(history) if history else beside.history, beside.out)
    with run_lock(folders.history, wait_seconds=LOCK_WAIT_SECONDS), to_run_logs():  # never beside a `genjin run`
        result = nightly_on(dask_address)(folders=folders, as_of=night, policy_file=Path(policy) if policy else None,
                                          settle_seconds=settle_seconds, send=send)
    return {"as_of": night.isoformat(), "run_dir": str(result.run_dir), "tasks": result.summary.get("tasks")}
