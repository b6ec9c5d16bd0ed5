"""The advisor's morning email — multipart plain text + HTML, today's plan in the body (issue #15: the customers
the advisor can reach today, most urgent first, each with why; how many more wait), the workbook attached
(SPEC §9). flows/night_mail.py hands them to the outbox and, with `--send`, to the mail server."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import polars as pl

from adapters import mail
from adapters.archive import safe_name
from adapters.failures import is_contained
from policy.model import Policy
from reports.recipients import XLSX, Recipient, attachment_name, by_advisor, new_message
from reports.templating import render
from schemas.phones import shown_phone, tel_href
from transforms.plan import advisor_plans
from transforms.views import recipients


def subject(as_of: date, name: str, n_customers: int, n_waiting: int) -> str:
    """Counts customers in today's plan — the workbook's rows — and those waiting for a later day."""
    more = f" · 另有 {n_waiting} 位待安排" if n_waiting else ""
    return f"【跟进清单】{as_of.isoformat()} {name} · 今日 {n_customers} 位客户{more}"


def advisor_message(
    to: Recipient, customers: pl.DataFrame, workbook: Path, as_of: date, sender: str,
    waiting: int = 0, stale: int = 0,
) -> EmailMessage:
    """`customers`: this advisor's rows of `transforms.plan.advisor_plans` (today's plan, one row per customer);
    `waiting`: customers left for a later day; `stale`: customers gone to the manager's review."""
    rows = customers.with_columns(shown_phone("phone").alias("phone_text"), tel_href("phone").alias("phone_href"))
    attachment = attachment_name("跟进计划", as_of, to.name or to.advisor_id, ".xlsx")
    context = {
        "name": to.name, "as_of": as_of.isoformat(), "n_customers": customers.height, "waiting": waiting,
        "stale": stale, "n_orphaned": int(customers["orphaned"].sum()), "rows": rows.to_dicts(),
        "attachment": attachment,
    }
    msg = new_message("advisor", to, subject(as_of, to.name, customers.height, waiting), as_of, sender)
    msg.set_content(render("advisor_email.txt.j2", **context))
    msg.add_alternative(render("advisor_email.html.j2", **context), subtype="html")
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=attachment)
    return msg


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
