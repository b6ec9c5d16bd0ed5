"""Sending the intraday alerts and the morning group summary (issue #18): each alert to the store's group robot
(when the settings give the store one) and by email to the recipient (when the roster has an address), each
once — `history/sent_alerts.jsonl` remembers what went out; what failed is tried again by the next run. In the
policy's quiet hours nothing is sent: the alerts stay unsent and go out with the first run after.
Without `send` the emails are only written to `outbox` and nothing is posted."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from adapters import mail
from adapters.robots import LEDGER_NAME, Robot, RobotConfig, post_all, robots_from
from reports.alert_messages import alert_email, alert_message, summary_message
from reports.recipients import Recipient
from transforms.frames import latest_rows


def alert_ledger(history: Path) -> mail.SentLedger:
    return mail.SentLedger(history / LEDGER_NAME)


def _people(advisors: pl.DataFrame) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    roster = latest_rows(advisors, "advisor_id")
    names = dict(zip(roster["advisor_id"], roster["name"], strict=True))
    mobiles = {a: m for a, m in zip(roster["advisor_id"], roster["mobile"], strict=True) if m}
    emails = {a: e.strip() for a, e in zip(roster["advisor_id"], roster["email"], strict=True) if mail.is_address(e)}
    return names, mobiles, emails


def deliver_alerts(alerts: pl.DataFrame, advisors: pl.DataFrame, full_phone: bool, quiet: bool,
                   robots: Mapping[str, RobotConfig], mail_settings: mail.MailSettings, send: bool, history: Path,
                   outbox: Path, *, today: date, env: Mapping[str, str] = os.environ,
                   robot_clients: Mapping[str, Robot] | None = None) -> dict[str, Any]:
    """`alerts`: rows of `transforms.alerts.advisor_alerts` and `manager_alerts`; `today`: the store's date now
    (a time in the messages says its year when it is another); `env`: where the secrets are
    (the robots' webhook variables, the SMTP password). Returns what happened:
    `{alerts, held (quiet hours), posts: {sent, already_sent, failed, no_robot}, emails: {…}, missing}`."""
    names, mobiles, emails = _people(advisors)
    rows = alerts.to_dicts()
    result: dict[str, Any] = {"alerts": len(rows), "held": 0, "missing": []}
    if quiet:
        result["held"] = len(rows)
        return result
    transport, sender = mail.transport_for(mail_settings, send, env)
    items = [
        alert_email(row, Recipient(row["recipient_id"], names.get(row["recipient_id"], row["recipient_id"]),
                                   emails[row["recipient_id"]]), names, full_phone, sender, today)
        for row in rows if row["recipient_id"] in emails
    ]
    ledger = alert_ledger(history)
    sent = mail.dispatch(items, mail.OutboxFolder(outbox), transport, ledger if send else None)
    result["emails"] = {"written": sent.written, "sent": sent.sent, "already_sent": sent.already_sent,
                        "failed": sent.failed}
    if send:
        clients, result["missing"] = (dict(robot_clients), []) if robot_clients is not None else robots_from(robots,
                                                                                                                env)
        posts = post_all([alert_message(row, names, mobiles, today) for row in rows], clients, ledger)
        result["posts"] = posts.as_dict()
    return result


def post_summaries(summary: pl.DataFrame, advisors: pl.DataFrame, as_of: date, robots: Mapping[str, RobotConfig],
                   env: Mapping[str, str], history: Path, *,
                   robot_clients: Mapping[str, Robot] | None = None) -> dict[str, Any]:
    """The morning summary (`transforms.alerts.group_summary`) to each store's group that has a robot."""
    names, _, _ = _people(advisors)
    clients, missing = (dict(robot_clients), []) if robot_clients is not None else robots_from(robots, env)
    messages = [summary_message(store, part, names, as_of)
                for (store,), part in summary.partition_by("store", as_dict=True, maintain_order=True).items()
                if store in clients]
    return post_all(messages, clients, alert_ledger(history)).as_dict() | {"missing": missing}
