"""What an intraday alert and the morning group summary say (issue #18), in Chinese: the group-chat post
(`GroupMessage`, markdown and plain text) and the alert email. A group message never shows a customer's full
phone; an email to the advisor shows it when the policy says `alerts.phone = "full"`. Text from the data is
stripped of markdown syntax and line breaks so a customer name cannot restyle or extend the message."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from adapters import mail
from adapters.robots import GroupMessage
from reports.recipients import Recipient, new_message
from reports.templating import render
from schemas.phones import masked_phone, national_mobile, one_phone, shown_phone, tel_href
from transforms.labels import day_text, moment_text

KIND_TITLES = {"advisor": "新线索，请尽快联系", "manager": "首次联系超时"}


def plain(value: object, default: str = "—") -> str:
    """One line of text with markdown's active characters taken out (`*_#[]()<>|` and backticks)."""
    if value is None or value == "":
        return default
    text = " ".join(str(value).split())
    return re.sub(r"[*_#\[\]()<>`|~]", "", text) or default


def _facts(row: dict[str, Any], names: dict[str, str], full_phone: bool, today: date) -> dict[str, str]:
    """The alert's facts as its reader sees them on `today` (a time in another year says the year)."""
    return {
        "customer": plain(row["customer_name"]),
        "phone": one_phone(shown_phone if full_phone else masked_phone, row["phone"]) or "—",
        "phone_href": one_phone(tel_href, row["phone"]) if full_phone else "",  # a link only to a number shown
        "source": plain(row["source"], "未知来源"), "model": plain(row["model_interest"], "未填"),
        "grade": plain(row["grade"]), "created": moment_text(row["created_at"], today),
        "call_by": moment_text(row["call_by"], today),
        "advisor": plain(names.get(row["advisor_id"]), row["advisor_id"]),
    }


def alert_message(row: dict[str, Any], names: dict[str, str], mobiles: dict[str, str], today: date) -> GroupMessage:
    """One row of `transforms.alerts.advisor_alerts` / `manager_alerts` as a post to the store's group on
    `today`, @-mentioning the recipient by mobile when the roster has it."""
    f = _facts(row, names, False, today)
    title = f"【{KIND_TITLES[row['kind']]}】{f['customer']}"
    if row["kind"] == "advisor":
        head = f"**【新线索】{f['grade']}级 · 请于 {f['call_by']} 前联系**"
        who = f"负责顾问：{f['advisor']}"
    else:
        head = f"**【首次联系超时】{f['grade']}级 · 应于 {f['call_by']} 前联系，至今未跟进**"
        who = f"负责顾问：{f['advisor']} · 请经理跟进：{plain(names.get(row['recipient_id']), row['recipient_id'])}"
    lines = [f"客户：{f['customer']}　电话：{f['phone']}", f"来源：{f['source']}　意向车型：{f['model']}",
             f"留资时间：{f['created']}", who]
    mobile = national_mobile(mobiles.get(row["recipient_id"]))
    return GroupMessage(
        key=f"{row['kind']}|{row['lead_id']}|{row['recipient_id']}", store=row["store"], kind=row["kind"],
        title=title, markdown="\n\n".join([head, *lines]), text="\n".join([head.strip("*"), *lines]),
        mobiles=(mobile,) if mobile else (),
    )


def alert_email(row: dict[str, Any], to: Recipient, names: dict[str, str], full_phone: bool,
                sender: str, today: date) -> mail.Outgoing:
    """The same alert as an email to `to`, built on `today`. Its ledger key holds the lead and the alert kind
    (the as-of of `Outgoing` is the lead's creation date), so it goes out once whatever day it is built again."""
    f = _facts(row, names, full_phone, today)
    context = {"kind": row["kind"], "name": to.name, **f}
    created: date = row["created_at"].date()
    subject = (f"【新线索】{f['customer']} · {f['grade']}级 · 请于 {f['call_by']} 前联系" if row["kind"] == "advisor"
               else f"【首次联系超时】{f['customer']} · {f['grade']}级 · {f['advisor']} 未在 {f['call_by']} 前联系")
    kind = f"{row['kind']}-alert-{row['lead_id']}"
    msg = new_message(kind, to, subject, created, sender)
    msg.set_content(render("alert_email.txt.j2", **context))
    msg.add_alternative(render("alert_email.html.j2", **context), subtype="html")
    return mail.Outgoing(kind, to.advisor_id, to.email, created, msg, f"{kind}-{to.advisor_id}.eml")


def summary_message(store: str, rows: pl.DataFrame, names: dict[str, str], as_of: date) -> GroupMessage:
    """The store's morning summary for its group (rows of `transforms.alerts.group_summary` for `store`):
    totals, then one line per advisor. No customer appears in it."""
    total = {c: int(rows[c].sum()) for c in ("tasks", "overdue", "complaints", "first_contact_overdue")}
    head = f"**{plain(store)} · {day_text(as_of, as_of)} 跟进清单**"
    totals = (f"全店 {total['tasks']} 项待办，逾期 {total['overdue']} 项；投诉待处理 {total['complaints']} 项；"
              f"首次联系逾期 {total['first_contact_overdue']} 项")
    lines = [
        f"- {plain(names.get(r['advisor_id']), r['advisor_id'])}：{r['tasks']} 项，逾期 {r['overdue']}"
        + (f"，投诉 {r['complaints']}" if r["complaints"] else "")
        + (f"，首次联系逾期 {r['first_contact_overdue']}" if r["first_contact_overdue"] else "")
        for r in rows.iter_rows(named=True)
    ]
    footer = "完整清单已发到各位的邮箱。"
    return GroupMessage(
        key=f"{as_of.isoformat()}|summary|{store}", store=store, kind="summary", title=f"{store} 今日跟进清单",
        markdown="\n\n".join([head, totals, "\n".join(lines), footer]),
        text="\n".join([head.strip("*"), totals, *lines, footer]),
    )
