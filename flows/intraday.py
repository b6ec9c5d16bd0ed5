"""The intraday flow (issue #18): the day's lead and follow-up files → the history (for the coming night) →
the alerts a hot lead needs → the advisor's and the manager's phone. Nothing of the night's outputs is built:
the worklist, the report and the emails stay the night's. What a run did is written to
`OUT/intraday/<date>/<HHMM>.json` (files taken, alerts, what was sent; no customer data) and the alert emails
to `OUT/intraday/<date>/outbox/`. The caller holds the run lock (flows/scheduled.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow
from prefect.runtime import flow_run

from adapters import pickup, run_marker
from adapters.folders import Folders, check_folders
from adapters.history import History
from adapters.mail import MailSettings, unsent
from adapters.robots import RobotConfig
from flows.alert_delivery import deliver_alerts
from flows.ops_alert import HOOKS
from flows.progress import to_run_logs
from flows.steps import NotDelivered, deliver_step, delivered, io_step, step
from policy.model import Policy, load_policy
from transforms.alerts import advisor_alerts, hot_leads, is_quiet, manager_alerts
from transforms.frames import ENGINE
from transforms.night import prepare

log = logging.getLogger("genjin")
ALERT_RETRY_SECONDS = 5.0  # a hot lead's alert is tried again after 5 s, then 10 s (then by the next run)


@io_step
def pick_up_files(folders: Folders, history: History, now: datetime, settle_seconds: float) -> list[dict[str, Any]]:
    return [{"name": load.path.name, "kind": load.kind, "rows_loaded": load.rows_loaded,
             "rows_rejected": load.rows_rejected} for load in pickup.pick_up(folders, history, now, settle_seconds)]


@step
def alerts_now(history: History, policy: Policy, now: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The alerts due at `now` (advisor and manager) and the roster, from the history as the coming night
    will see it."""
    night = prepare(history.inputs(pickup.night_of(now)), policy, now.date())
    hot = hot_leads(night, policy, now)
    advisors = night.inputs.advisors
    alerts, roster = pl.collect_all(
        [pl.concat([advisor_alerts(hot, advisors), manager_alerts(hot, advisors, now)]), advisors], engine=ENGINE)
    return alerts, roster


@deliver_step
def send_alerts(alerts: pl.DataFrame, roster: pl.DataFrame, policy: Policy, now: datetime,
                robots: Mapping[str, RobotConfig], mail_settings: MailSettings, send: bool, history: Path,
                outbox: Path) -> dict[str, Any]:
    """The alerts by robot and email; what did not go out raises `NotDelivered`, so that Prefect tries again
    within the run (the ledger keeps what went out from going twice); the next run tries what still failed."""
    result = deliver_alerts(alerts, roster, policy.alerts.phone == "full", is_quiet(now.time(), policy), robots,
                            mail_settings, send, history, outbox, today=now.date())
    failed = len(unsent(result.get("emails", {}).get("failed", []))) + len(result.get("posts", {}).get("failed", []))
    if send and failed:
        raise NotDelivered(result, failed)
    return result


@step
def write_record(record: dict[str, Any], folder: Path, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.strftime('%H%M')}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def pick_up(folders: Folders, now: datetime, policy_file: Path | None = None, settle_seconds: float = 60.0,
            send: bool = False, robots: Mapping[str, RobotConfig] | None = None,
            mail_settings: MailSettings | None = None) -> dict[str, Any]:
    """One pick-up at `now` (local time, naive), in the running flow run: the body of `intraday` and of the
    deployed `flows.scheduled.intraday_scheduled`. The caller holds the run lock; each stage is marked in the
    history folder (adapters/run_marker.py) for the message to ops if the run stops."""
    check_folders(folders)
    policy = load_policy(policy_file)
    history = History(folders.history)
    folder = folders.out / "intraday" / now.date().isoformat()

    def at(stage: str) -> None:
        run_marker.mark(folders.history, str(flow_run.id or ""), stage, night=now.isoformat(), run=flow_run.name)

    with to_run_logs():
        at("pick-up")
        files = pick_up_files(folders, history, now, settle_seconds)
        at("alerts")
        alerts, roster = alerts_now(history, policy, now)
        at("send")
        sent = delivered(send_alerts, ALERT_RETRY_SECONDS, alerts, roster, policy, now, robots or {},
                         mail_settings or MailSettings(), send, folders.history, folder / "outbox")
        record = {"at": now.strftime("%Y-%m-%d %H:%M"), "night": pickup.night_of(now).isoformat(), "files": files,
                  "alerts": alerts.select("kind", "lead_id", "store", "recipient_id", "call_by").to_dicts(),
                  "delivery": sent}
        write_record(record, folder, now)
        log.info("日间运行 %s：取到 %d 个文件，%d 条提醒 / intraday %s: %d files picked up, %d alerts",
                 record["at"], len(files), len(record["alerts"]), record["at"], len(files), len(record["alerts"]))
    return record


INTRADAY_TIMEOUT_SECONDS = 10 * 60  # a pick-up still running after ten minutes is stopped (the next one is due)


@flow(name="genjin-intraday", flow_run_name="intraday-{now:%Y-%m-%d-%H:%M}", log_prints=False,
      validate_parameters=False, timeout_seconds=INTRADAY_TIMEOUT_SECONDS, **HOOKS)
def intraday(folders: Folders, now: datetime, policy_file: Path | None = None, settle_seconds: float = 60.0,
             send: bool = False, robots: Mapping[str, RobotConfig] | None = None,
             mail_settings: MailSettings | None = None, ops_robot: RobotConfig | None = None) -> dict[str, Any]:
    """One pick-up at `now` (`pick_up`); `mail_settings`: where the alert emails go (none: outbox only);
    `ops_robot` (and `mail_settings.ops_email`): who hears when the run fails (flows/ops_alert.py)."""
    return pick_up(folders, now, policy_file, settle_seconds, send, robots, mail_settings)
