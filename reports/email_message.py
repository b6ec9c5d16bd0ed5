"""The advisor's morning email — multipart plain text + HTML, today's plan in the body (issue #15: the customers
the advisor can reach today, most urgent first, each with why; how many more wait), the workbook attached
(SPEC §9) — and `deliver`, which builds the night's emails and digests and hands them to the
outbox and, with `--send`, to the mail server (adapters/mail.py)."""

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

from adapters import mail
from adapters.archive import safe_name
from adapters.failures import is_contained
from policy.model import Policy, load_policy
from reports.cells import safe_text
from reports.phones import display_phone, tel_href
from reports.templating import render
from transforms.plan import advisor_plans
from transforms.views import recipients

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Recipient:
    advisor_id: str
    name: str
    email: str


def subject(as_of: date, name: str, n_customers: int, n_waiting: int) -> str:
    """Counts customers in today's plan — the workbook's rows — and those waiting for a later day."""
    more = f" · 另有 {n_waiting} 位待安排" if n_waiting else ""
    return f"【跟进清单】{as_of.isoformat()} {name} · 今日 {n_customers} 位客户{more}"


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
    to: Recipient, customers: pl.DataFrame, workbook: Path, as_of: date, sender: str,
    waiting: int = 0, stale: int = 0,
) -> EmailMessage:
    """`customers`: this advisor's rows of `transforms.plan.advisor_plans` (today's plan, one row per customer);
    `waiting`: customers left for a later day; `stale`: customers gone to the manager's review."""
    rows = [row | {"phone_text": display_phone(row["phone"]), "phone_href": tel_href(row["phone"])}
            for row in customers.to_dicts()]
    context = {
        "name": to.name, "as_of": as_of.isoformat(), "n_customers": customers.height, "waiting": waiting,
        "stale": stale, "n_orphaned": int(customers["orphaned"].sum()), "rows": rows, "attachment": workbook.name,
    }
    msg = new_message("advisor", to, subject(as_of, to.name, customers.height, waiting), as_of, sender)
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
                 sender: str, policy: Policy, failed: list[dict[str, str]] | None = None,
                 ) -> tuple[list[mail.Outgoing], list[str]]:
    """Each advisor with customers in today's plan gets their own (`worklist` carries the plan,
    transforms/plan.py); the second list holds the advisors whose roster row has no usable email address. An
    advisor whose workbook was not written gets no email (the night's `failures` say why); one whose message
    cannot be built is appended to `failed`."""
    every_customer = advisor_plans(worklist, policy)
    customers, no_customers = by_advisor(every_customer), every_customer.clear()
    items: list[mail.Outgoing] = []
    without_email: list[str] = []
    for person in recipients(every_customer, roster).iter_rows(named=True):
        advisor_id, address = person["advisor_id"], (person["email"] or "").strip()
        if not mail.is_address(address):
            without_email.append(advisor_id)
            continue
        if advisor_id not in workbooks:
            continue
        to = Recipient(advisor_id, person["name"], address)
        mine = customers.get(advisor_id, no_customers)
        try:
            msg = advisor_message(to, mine, workbooks[advisor_id], as_of, sender,
                                  waiting=int(mine["waiting"][0]), stale=int(mine["stale"][0]))
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
            transport: mail.Transport | None = None, policy: Policy | None = None,
            morning: Any = None) -> dict[str, Any]:
    """The night's mail: every advisor's worklist and every manager's digest is written to
    `run_dir/outbox/` (digests under `outbox/digest/`); with `send`, each one that the ledger at `ledger_path`
    has not seen sent goes to the SMTP server configured in `env` (or to `transport`); `morning` is the
    digests' `reports.digest.Morning` (chase list, capacity, review workbooks). Returns run.json's
    `emails` block: `{written, sent, already_sent, failed: [{to, error}], without_email: [advisor_id, ...]}`.
    Missing or wrong SMTP settings do not stop the run: each message is recorded as failed, with why.
    `worklist` carries the plan (transforms/plan.py); `policy` names its urgency classes (default: shipped)."""
    from reports.digest import digest_mail  # the digest builds on this module

    if send and ledger_path is None:
        raise ValueError("deliver(send=True) needs the sent ledger's path (adapters.mail.ledger_path(history))")
    roster = latest_roster(advisors)
    if send and transport is None:
        transport, sender = mail.transport_from_env(env)
    else:
        sender = mail.mail_from(env)
    not_made: list[dict[str, str]] = []
    items, without_email = advisor_mail(worklist, roster, workbooks, as_of, sender, policy or load_policy(),
                                        not_made)
    report = run_dir / "report.html"
    digests, managers_without_email = digest_mail(worklist, roster, set(without_email), report, as_of, sender,
                                                  not_made, morning)
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
