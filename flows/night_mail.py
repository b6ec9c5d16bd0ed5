"""The night's mail, wired: the messages reports/ builds (advisor emails, manager digests, the ops email) go to
the outbox and, with `send`, over the transport the mail settings describe, once each (the sent ledger,
adapters/mail.py). Missing or wrong SMTP settings do not stop the night: each message is recorded as failed,
with why. The settings arrive as a typed value (`adapters.mail.MailSettings`); the password is read from the
environment only when the SMTP transport is made (`adapters.mail.transport_for`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from adapters import mail
from policy.model import Policy
from reports.digest import Morning, digest_mail
from reports.email_message import advisor_mail
from reports.ops_email import is_clean, ops_mail
from transforms.frames import latest_rows


def _transport(settings: mail.MailSettings, send: bool, given: mail.Transport | None,
               ) -> tuple[mail.Transport | None, str]:
    """`given` (a test's), else the one the settings describe; the From header to write."""
    return mail.transport_for(settings, send) if given is None else (given, settings.outbox_sender)


def _ledger(send: bool, ledger_path: Path | None) -> mail.SentLedger | None:
    return mail.SentLedger(ledger_path) if send and ledger_path else None


def deliver(worklist: pl.DataFrame, advisors: pl.DataFrame, workbooks: Mapping[str, Path], run_dir: Path,
            as_of: date, ledger_path: Path | None, send: bool, settings: mail.MailSettings, policy: Policy, *,
            transport: mail.Transport | None = None, morning: Morning | None = None) -> dict[str, Any]:
    """Every advisor's worklist and every manager's digest, written to `run_dir/outbox/` (digests under
    `outbox/digest/`); with `send`, each one that the ledger at `ledger_path` has not seen sent goes out over
    `transport` (default: `adapters.mail.transport_for(settings)`). `worklist` carries the plan (transforms/plan.py);
    `advisors` every night's roster rows (the latest counts); `morning` the digests' chase list, capacity and
    review workbooks. Returns run.json's `emails` block:
    `{written, sent, already_sent, failed: [{to, error}], without_email: [advisor_id, ...]}`."""
    if send and ledger_path is None:
        raise ValueError("deliver(send=True) needs the sent ledger's path (adapters.mail.ledger_path(history))")
    transport, sender = _transport(settings, send, transport)
    roster = latest_rows(advisors, "advisor_id")
    not_made: list[dict[str, str]] = []
    items, without_email = advisor_mail(worklist, roster, workbooks, as_of, sender, policy, not_made)
    digests, managers_without_email = digest_mail(worklist, roster, set(without_email), run_dir / "report.html",
                                                  as_of, sender, not_made, morning)
    result = mail.dispatch([*items, *digests], mail.OutboxFolder(run_dir / "outbox"),
                           transport if send else None, _ledger(send, ledger_path))
    return {
        "written": result.written,
        "sent": result.sent,
        "already_sent": result.already_sent,
        "failed": [*not_made, *result.failed],
        "without_email": sorted({*without_email, *managers_without_email}),
    }


def deliver_ops(files: Sequence[Mapping[str, Any]], held: Sequence[Mapping[str, Any]],
                warnings: Sequence[Mapping[str, Any]], rejects: Sequence[Path], run_dir: Path, as_of: date,
                ledger_path: Path | None, send: bool, settings: mail.MailSettings, *,
                transport: mail.Transport | None = None) -> dict[str, Any]:
    """The ops email to `outbox/ops.eml`, and with `send` over SMTP (once per night: the sent ledger); none
    without an `ops_email` address, nor on a clean night unless `ops_email_always`.
    Returns run.json's `emails.ops`: {to, written, sent, already_sent, failed} or {to, skipped: why}."""
    address = (settings.ops_email or "").strip()
    if not address:
        return {"to": None, "skipped": "no ops_email setting"}
    if not mail.is_address(address):
        return {"to": address, "skipped": "ops_email is not an email address"}
    if is_clean(files, held, warnings) and not settings.ops_email_always:
        return {"to": address, "skipped": "clean night"}
    transport, sender = _transport(settings, send, transport)
    item = ops_mail(files, held, warnings, rejects, address, as_of, sender)
    result = mail.dispatch([item], mail.OutboxFolder(run_dir / "outbox"), transport if send else None,
                           _ledger(send, ledger_path))
    return {"to": address, "written": result.written, "sent": result.sent, "already_sent": result.already_sent,
            "failed": result.failed}
