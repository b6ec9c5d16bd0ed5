"""The store manager's morning digest (SPEC §1, §9): team totals, overdue work per advisor, the orphaned
customers now on the manager's own list, advisors whose worklist could not be emailed, report.html attached.
Phones are masked but for the first three and last four digits (138****8000); price never appears."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from genjin import mail
from genjin.archive import safe_name
from genjin.failures import is_contained
from reports.email_message import Recipient, by_advisor, new_message
from reports.phones import mask_phone
from reports.templating import render
from transforms.views import per_customer, task_label

OVERDUE_PER_ADVISOR = 5  # the most overdue customers of each advisor shown in the digest
REPORT_NAME = "report.html"
ROW = "__row"  # the worklist's row number while it is split by advisor


@dataclass(frozen=True)
class Manager:
    advisor_id: str
    name: str
    store: str
    email: str | None
    team: tuple[str, ...]  # advisor_ids of the active sales and service advisors who report to this manager


def _active() -> pl.Expr:
    return pl.col("active").fill_null(True)


def managers(roster: pl.DataFrame) -> list[Manager]:
    """Each active manager with their team: the advisors whose `manager_id` names them, and the advisors of
    their store with no active manager of their own when they are the store's first active manager by
    advisor_id (the rule that routes orphaned work, SPEC §6a)."""
    heads = roster.filter(_active() & (pl.col("role") == "manager")).sort("advisor_id")
    ids = set(heads["advisor_id"])
    first_of_store: dict[str, str] = {}
    for row in heads.iter_rows(named=True):
        first_of_store.setdefault(row["store"], row["advisor_id"])
    team: dict[str, list[str]] = {m: [] for m in ids}
    staff = roster.filter(_active() & (pl.col("role") != "manager")).sort("advisor_id")
    for row in staff.iter_rows(named=True):
        head = row["manager_id"] if row["manager_id"] in ids else first_of_store.get(row["store"])
        if head:
            team[head].append(row["advisor_id"])
    return [
        Manager(r["advisor_id"], r["name"] or r["advisor_id"], r["store"], r["email"],
                tuple(team[r["advisor_id"]]))
        for r in heads.iter_rows(named=True)
    ]


def _masked(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [row | {"phone": mask_phone(row["phone"])} for row in frame.to_dicts()]


def _names(roster: pl.DataFrame) -> dict[str, str]:
    return dict(roster.select("advisor_id", pl.col("name").fill_null(pl.col("advisor_id"))).iter_rows())


def digest_context(head: Manager, worklist: pl.DataFrame, roster: pl.DataFrame,
                   without_email: Collection[str], as_of: date, report_attached: bool) -> dict[str, Any]:
    work = worklist.filter(pl.col("advisor_id").is_in((head.advisor_id, *head.team)))
    return _context(head, work, roster, _names(roster), without_email, as_of, report_attached)


def _context(head: Manager, work: pl.DataFrame, roster: pl.DataFrame, names: dict[str, str],
             without_email: Collection[str], as_of: date, report_attached: bool) -> dict[str, Any]:
    """`work`: the worklist rows of the manager and their team, in the worklist's order."""
    members = (head.advisor_id, *head.team)
    stats = work.group_by("advisor_id").agg(
        pl.len().alias("tasks"),
        pl.col("customer_id").n_unique().alias("customers"),
        (pl.col("days_overdue") > 0).sum().alias("overdue"),
        pl.col("days_overdue").max().clip(lower_bound=0).alias("most_overdue"),
    )
    people = (
        pl.DataFrame({"advisor_id": list(members)})
        .join(roster.select("advisor_id", "name", "email"), on="advisor_id", how="left")
        .join(stats, on="advisor_id", how="left")
        .with_columns(
            pl.col("name").fill_null(pl.col("advisor_id")),
            pl.col("tasks", "customers", "overdue", "most_overdue").fill_null(0),
            pl.col("email").str.strip_chars().str.contains(mail.ADDRESS_PATTERN).fill_null(False).alias("has_email"),
            (pl.col("advisor_id") == head.advisor_id).alias("is_self"),
        )
        .drop("email")
        .sort(["overdue", "tasks", "advisor_id"], descending=[True, True, False])
    )
    customers = per_customer(work)
    overdue = customers.filter(pl.col("days_overdue") > 0).sort(
        ["days_overdue", "priority"], descending=[True, False], maintain_order=True
    )
    overdue_of, none_overdue = by_advisor(overdue), overdue.clear()
    overdue_by_advisor = []  # the manager's own overdue work is on their own worklist and under 转交
    for person in people.filter((pl.col("overdue") > 0) & ~pl.col("is_self")).iter_rows(named=True):
        rows = overdue_of.get(person["advisor_id"], none_overdue)
        shown = _masked(rows.head(OVERDUE_PER_ADVISOR))
        overdue_by_advisor.append(person | {"rows": shown, "more": rows.height - len(shown)})
    orphaned = (
        work.filter((pl.col("advisor_id") == head.advisor_id) & pl.col("orphaned"))
        .with_columns(task_label().alias("label"))
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("customer_name", "phone").first(),
            pl.col("label").unique(maintain_order=True).str.join("、").alias("tasks"),
            pl.col("original_advisor_id").unique(maintain_order=True).alias("originals"),
            pl.col("due_date").min(),
            pl.col("days_overdue").max(),
            pl.col("priority").min(),
        )
        .sort(["priority", "days_overdue"], descending=[False, True], maintain_order=True)
    )
    def was(advisor_id: str) -> str:
        return f"{names[advisor_id]}（{advisor_id}）" if advisor_id in names else f"{advisor_id}（不在名单）"

    orphaned_rows = [row | {"was": "、".join(was(a) for a in row["originals"] if a)}
                     for row in _masked(orphaned)]
    missing = people.filter(~pl.col("has_email") & (pl.col("advisor_id") != head.advisor_id))
    return {
        "name": head.name,
        "store": head.store,
        "as_of": as_of.isoformat(),
        "totals": {
            "tasks": work.height,
            "customers": work["customer_id"].n_unique(),
            "overdue": int((work["days_overdue"] > 0).sum()),
            "orphaned": orphaned.height,
            "advisors": len(head.team),
        },
        "advisors": people.to_dicts(),
        "overdue_by_advisor": overdue_by_advisor,
        "orphaned": orphaned_rows,
        "without_email": [
            row | {"not_sent": row["advisor_id"] in without_email} for row in missing.to_dicts()
        ],
        "report_attached": report_attached,
        "report_name": REPORT_NAME,
    }


def digest_subject(context: dict[str, Any]) -> str:
    totals = context["totals"]
    text = f"【团队日报】{context['as_of']} {context['store']} · {totals['tasks']} 项"
    text += f" · {totals['overdue']} 项逾期"
    return text + (f" · {totals['orphaned']} 位转交客户" if totals["orphaned"] else "")


def digest_message(to: Recipient, context: dict[str, Any], report: Path | None, as_of: date,
                   sender: str) -> mail.Outgoing:
    msg = new_message("digest", to, digest_subject(context), as_of, sender)
    msg.set_content(render("digest.txt.j2", **context))
    msg.add_alternative(render("digest.html.j2", **context), subtype="html")
    if report is not None:
        msg.add_attachment(report.read_bytes(), maintype="text", subtype="html", filename=REPORT_NAME)
    filename = f"digest/{safe_name(to.advisor_id)}.eml"
    return mail.Outgoing("digest", to.advisor_id, to.email, as_of, msg, filename)


def digest_mail(worklist: pl.DataFrame, roster: pl.DataFrame, without_email: Collection[str], report: Path,
                as_of: date, sender: str,
                failed: list[dict[str, str]] | None = None) -> tuple[list[mail.Outgoing], list[str]]:
    """A digest for each active manager who has a team or work of their own; the second list holds the
    managers without a usable email address. `roster` has one row per advisor; `without_email` are the
    advisors whose worklist could not be emailed."""
    attached = report if report.is_file() else None
    parts = by_advisor(worklist.with_row_index(ROW))  # split once; each team's rows put back in order below
    names = _names(roster)
    items, missing = [], []
    for head in managers(roster):
        if not head.team and head.advisor_id not in parts:
            continue
        address = (head.email or "").strip()
        if not mail.is_address(address):
            missing.append(head.advisor_id)
            continue
        team = [parts[a] for a in dict.fromkeys((head.advisor_id, *head.team)) if a in parts]
        work = pl.concat(team).sort(ROW).drop(ROW) if team else worklist.clear()
        to = Recipient(head.advisor_id, head.name, address)
        try:
            context = _context(head, work, roster, names, without_email, as_of, attached is not None)
            items.append(digest_message(to, context, attached, as_of, sender))
        except BaseException as err:  # this manager's digest only (genjin/failures.py)
            if not is_contained(err):
                raise
            (failed if failed is not None else []).append({"to": address, "error": mail.not_made(err)})
    return items, missing
