"""The advisor's morning email: multipart plain text + HTML, the workbook attached (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from pathlib import Path

import polars as pl

from reports.templating import render

TOP_ROWS = 10
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Recipient:
    advisor_id: str
    name: str
    email: str


def subject(as_of: date, name: str, n_tasks: int, n_overdue: int) -> str:
    return f"【跟进清单】{as_of.isoformat()} {name} · {n_tasks} 项 · {n_overdue} 项逾期"


def advisor_message(
    to: Recipient, worklist: pl.DataFrame, customers: pl.DataFrame, workbook: Path, as_of: date, sender: str
) -> EmailMessage:
    """`worklist` and `customers` (transforms.views.per_customer) hold this advisor's rows only."""
    n_tasks, n_overdue = worklist.height, int((worklist["days_overdue"] > 0).sum())
    context = {
        "name": to.name, "as_of": as_of.isoformat(), "n_tasks": n_tasks, "n_overdue": n_overdue,
        "n_customers": customers.height, "top": customers.head(TOP_ROWS).to_dicts(), "attachment": workbook.name,
    }
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject(as_of, to.name, n_tasks, n_overdue)
    msg["From"] = sender
    msg["To"] = formataddr((to.name, to.email))
    msg["Message-ID"] = make_msgid(idstring=f"genjin.{as_of.isoformat()}.{to.advisor_id}", domain="genjin.local")
    msg.set_content(render("advisor_email.txt.j2", **context))
    msg.add_alternative(render("advisor_email.html.j2", **context), subtype="html")
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=workbook.name)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    path.write_bytes(msg.as_bytes())
    return path
