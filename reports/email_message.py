"""The advisor's morning email — multipart plain text + HTML, the day's most urgent customers in the body, the
workbook attached (SPEC §9) — and `deliver`, which builds the night's emails and digests and hands them to the
outbox and, with `--send`, to the mail server (genjin/mail.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

import polars as pl

from genjin import mail
from genjin.archive import safe_name
from genjin.failures import is_contained
from reports.cells import safe_text
from reports.templating import render
from transforms.views import per_customer, recipients

TOP_ROWS = 10
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Recipient:
    advisor_id: str
    name: str
    email: str


def subject(as_of: date, name: str, n_tasks: int, n_overdue: int) -> str:
    return f"【跟进清单】{as_of.isoformat()} {name} · {n_tasks} 项 · {n_overdue} 项逾期"


def one_line(text: object) -> str:
    """Text for a header: control characters (a CR/LF would open a new header) become spaces, and what no
    header can hold is made safe (reports/cells.py)."""
    return " ".join("".join(c if c.isprintable() else " " for c in safe_text(str(text))).split())


def new_message(kind: str, to: Recipient, subject_line: str, as_of: date, sender: str) -> EmailMessage:
    """Headers every genjin message carries. The Message-ID is the same for the same as-of date, kind and
    recipient, so a message retried on a later run is recognisably the same message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "genjin.local"
    token = hashlib.sha256(f"{kind}|{to.advisor_id}|{to.email.lower()}".encode()).hexdigest()[:16]
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(subject_line)
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(to.name), addr_spec=to.email.strip())  # quoted, never parsed
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<genjin.{as_of.isoformat()}.{kind}.{token}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    return msg


def advisor_message(
    to: Recipient, worklist: pl.DataFrame, customers: pl.DataFrame, workbook: Path, as_of: date, sender: str
) -> EmailMessage:
    """`worklist` and `customers` (transforms.views.per_customer) hold this advisor's rows only."""
    n_tasks, n_overdue = worklist.height, int((worklist["days_overdue"] > 0).sum())
    context = {
        "name": to.name, "as_of": as_of.isoformat(), "n_tasks": n_tasks, "n_overdue": n_overdue,
        "n_customers": customers.height, "n_orphaned": int(customers["orphaned"].sum()),
        "top": customers.head(TOP_ROWS).to_dicts(), "more": max(customers.height - TOP_ROWS, 0),
        "attachment": workbook.name,
    }
    msg = new_message("advisor", to, subject(as_of, to.name, n_tasks, n_overdue), as_of, sender)
    msg.set_content(render("advisor_email.txt.j2", **context))
    msg.add_alternative(render("advisor_email.html.j2", **context), subtype="html")
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=workbook.name)
    return msg


def latest_roster(advisors: pl.DataFrame) -> pl.DataFrame:
    """One row per advisor: the latest roster row (history keeps every night's roster, oldest first)."""
    return advisors.unique("advisor_id", keep="last", maintain_order=True)


def by_advisor(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """`frame` split once by advisor_id, each part in the frame's order (what a filter per advisor gives)."""
    return {key: part for (key,), part in frame.partition_by("advisor_id", as_dict=True, maintain_order=True).items()}


def advisor_mail(worklist: pl.DataFrame, roster: pl.DataFrame, workbooks: Mapping[str, Path], as_of: date,
                 sender: str, failed: list[dict[str, str]] | None = None) -> tuple[list[mail.Outgoing], list[str]]:
    """Each advisor with tasks tonight gets their own worklist; the second list holds the advisors whose
    roster row has no usable email address. An advisor whose workbook was not written gets no email (the
    night's `failures` say why); one whose message cannot be built is appended to `failed`."""
    tasks, no_tasks = by_advisor(worklist), worklist.clear()
    every_customer = per_customer(worklist)
    customers, no_customers = by_advisor(every_customer), every_customer.clear()
    items: list[mail.Outgoing] = []
    without_email: list[str] = []
    for person in recipients(worklist, roster).iter_rows(named=True):
        advisor_id, address = person["advisor_id"], (person["email"] or "").strip()
        if not mail.is_address(address):
            without_email.append(advisor_id)
            continue
        if advisor_id not in workbooks:
            continue
        to = Recipient(advisor_id, person["name"], address)
        try:
            msg = advisor_message(to, tasks.get(advisor_id, no_tasks),
                                  customers.get(advisor_id, no_customers), workbooks[advisor_id], as_of, sender)
        except BaseException as err:
            if not is_contained(err):
                raise
            (failed if failed is not None else []).append({"to": address, "error": mail.not_made(err)})
            continue
        filename = f"{safe_name(advisor_id)}.eml"
        items.append(mail.Outgoing("advisor", advisor_id, address, as_of, msg, filename))
    return items, without_email


def deliver(worklist: pl.DataFrame, advisors: pl.DataFrame, workbooks: Mapping[str, Path], run_dir: Path,
            as_of: date, ledger_path: Path | None, send: bool, env: Mapping[str, str], *,
            transport: mail.Transport | None = None) -> dict[str, Any]:
    """The night's mail: every advisor's worklist and every manager's digest is written to
    `run_dir/outbox/` (digests under `outbox/digest/`); with `send`, each one that the ledger at `ledger_path`
    has not seen sent goes to the SMTP server configured in `env` (or to `transport`). Returns run.json's
    `emails` block: `{written, sent, already_sent, failed: [{to, error}], without_email: [advisor_id, ...]}`.
    Missing or wrong SMTP settings do not stop the run: each message is recorded as failed, with why."""
    from reports.digest import digest_mail  # the digest builds on this module

    if send and ledger_path is None:
        raise ValueError("deliver(send=True) needs the sent ledger's path (genjin.mail.ledger_path(history))")
    roster = latest_roster(advisors)
    if send and transport is None:
        transport, sender = mail.transport_from_env(env)
    else:
        sender = mail.mail_from(env)
    not_made: list[dict[str, str]] = []
    items, without_email = advisor_mail(worklist, roster, workbooks, as_of, sender, not_made)
    report = run_dir / "report.html"
    digests, managers_without_email = digest_mail(worklist, roster, set(without_email), report, as_of, sender,
                                                  not_made)
    result = mail.dispatch(
        [*items, *digests], mail.OutboxFolder(run_dir / "outbox"),
        transport if send else None, mail.SentLedger(ledger_path) if send and ledger_path else None,
    )
    return {
        "written": result.written,
        "sent": result.sent,
        "already_sent": result.already_sent,
        "failed": [*not_made, *result.failed],
        "without_email": sorted({*without_email, *managers_without_email}),
    }
