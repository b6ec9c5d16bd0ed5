"""The intraday flow (issue #18): the day's lead and follow-up files → the history (for the coming night) →
the alerts a hot lead needs → the advisor's and the manager's phone. Nothing of the night's outputs is built:
the worklist, the report and the emails stay the night's. What a run did is written to
`OUT/intraday/<date>/<HHMM>.json` (files taken, alerts, what was sent; no customer data) and the alert emails
to `OUT/intraday/<date>/outbox/`. The caller holds the run lock (flows/scheduled.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow

from adapters import pickup
from adapters.folders import Folders
from adapters.history import History
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from flows.alert_delivery import deliver_alerts
from flows.steps import io_step, step
from policy.model import Policy, load_policy
from transforms.alerts import advisor_alerts, hot_leads, is_quiet, manager_alerts
from transforms.frames import ENGINE
from transforms.night import prepare


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


@io_step
def send_alerts(alerts: pl.DataFrame, roster: pl.DataFrame, policy: Policy, now: datetime,
                robots: Mapping[str, RobotConfig], mail_settings: MailSettings, send: bool, history: Path,
                outbox: Path) -> dict[str, Any]:
    return deliver_alerts(alerts, roster, policy.alerts.phone == "full", is_quiet(now.time(), policy), robots,
                          mail_settings, send, history, outbox)


@step
def write_record(record: dict[str, Any], folder: Path, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.strftime('%H%M')}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


@flow(name="genjin-intraday", log_prints=False, validate_parameters=False)
def intraday(folders: Folders, now: datetime, policy_file: Path | None = None, settle_seconds: float = 60.0,
             send: bool = False, robots: Mapping[str, RobotConfig] | None = None,
             mail_settings: MailSettings | None = None) -> dict[str, Any]:
    """One pick-up at `now` (local time, naive); `mail_settings`: where the alert emails go (none: outbox only)."""
    policy = load_policy(policy_file)
    history = History(folders.history)
    folder = folders.out / "intraday" / now.date().isoformat()
    files = pick_up_files(folders, history, now, settle_seconds)
    alerts, roster = alerts_now(history, policy, now)
    sent = send_alerts(alerts, roster, policy, now, robots or {}, mail_settings or MailSettings(), send,
                       folders.history, folder / "outbox")
    record = {"at": now.strftime("%Y-%m-%d %H:%M"), "night": pickup.night_of(now).isoformat(), "files": files,
              "alerts": alerts.select("kind", "lead_id", "store", "recipient_id", "call_by").to_dicts(),
              "delivery": sent}
    write_record(record, folder, now)
    return record
