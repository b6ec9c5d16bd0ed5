"""The store manager's morning digest (SPEC §1, §9, issue #16). It leads with today's chase list — open
complaints, new leads past their first-contact time, hot leads overdue — then each advisor's load against
their daily capacity, the work awaiting the manager's decision (the review workbook, attached), who returned
yesterday's workbook and how much of it they filled, decisions that could not hold; then the team's totals,
overdue work per advisor, the orphaned customers now on the manager's own list, advisors whose worklist could
not be emailed, report.html attached. Phones are masked but for the first three and last four digits
(138****8000); price never appears. A manager's digest holds only their team's work (transforms/routing.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import polars as pl

from adapters import mail
from adapters.archive import safe_name
from adapters.failures import is_contained
from reports.kpi_json import store_report_path
from reports.recipients import XLSX, Recipient, attach, attachment_name, by_advisor, file_part, new_message
from reports.templating import render
from schemas.phones import masked_phone
from schemas.vocab import DECISION_LABELS
from transforms.labels import NO_ADVISOR, day_text
from transforms.morning import CHASE, handed_over, once, overdue_customers
from transforms.review import SECTIONS
from transforms.routing import manager_teams
from transforms.views import bare_reason

OVERDUE_PER_ADVISOR = 5  # the most saveable overdue customers of each advisor shown in the digest
CHASE_SHOWN = 10  # rows of each chase-list section shown (every complaint is); the rest counted
ROW = "__row"  # the worklist's row number while it is split by advisor


@dataclass(frozen=True)
class Manager:
    advisor_id: str
    name: str
    store: str
    email: str | None
    team: tuple[str, ...]  # advisor_ids of the active sales and service advisors who report to this manager


def managers(roster: pl.DataFrame) -> list[Manager]:
    """Each active manager with their team (transforms/routing.py: the rule that also routes orphaned work)."""
    return [
        Manager(r["advisor_id"], r["name"] or r["advisor_id"], r["store"], r["email"], tuple(r["team"]))
        for r in manager_teams(roster.lazy()).collect().iter_rows(named=True)
    ]


@dataclass(frozen=True)
class Morning:
    """What the digest reads besides the worklist, worked out in transforms/ (flows/steps.manager_morning).
    Each frame may be empty; `Morning()` is a digest without these sections' data."""

    chase: pl.DataFrame | None = None  # transforms.morning.chase_list
    capacity: pl.DataFrame | None = None  # transforms.review.capacities
    review: pl.DataFrame | None = None  # transforms.review.review_rows
    bulk: pl.DataFrame | None = None  # the 整批 rows offered (transforms.review.bulk_proposals)
    applied: pl.DataFrame | None = None  # tonight's 整批 decisions that hold (transforms.bulk_decisions.applied)
    undecided: Mapping[str, int] = field(default_factory=dict)  # manager_id → tonight's review rows left undecided
    returned: pl.DataFrame | None = None  # transforms.morning.returned_workbooks
    refused: pl.DataFrame | None = None  # tonight's refused decisions (transforms.decisions.refused)
    reviews: Mapping[str, Path] = field(default_factory=dict)  # manager_id → the review workbook
    hot_grades: tuple[str, ...] = ("S", "A")  # policy.review.hot_grades
    escalate_after: int = 3  # policy.plan.escalate_after_nights


def _masked(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.with_columns(masked_phone("phone").alias("phone")).to_dicts()


def _names(roster: pl.DataFrame) -> dict[str, str]:
    return dict(roster.select("advisor_id", pl.col("name").fill_null(pl.col("advisor_id"))).iter_rows())


def digest_context(head: Manager, worklist: pl.DataFrame, roster: pl.DataFrame,
                   without_email: Collection[str], as_of: date, report_attached: bool,
                   morning: Morning | None = None) -> dict[str, Any]:
    work = worklist.filter(pl.col("advisor_id").is_in((head.advisor_id, *head.team)))
    return _context(head, work, roster, _names(roster), without_email, as_of, report_attached, morning or Morning())


def _of(frame: pl.DataFrame | None, column: str, ids: Collection[str]) -> pl.DataFrame | None:
    """The rows of `frame` whose `column` is one of `ids`; None for a section without data."""
    return None if frame is None or frame.is_empty() else frame.filter(pl.col(column).is_in(list(ids)))


def _dicts(frame: pl.DataFrame | None, where: pl.Expr | bool = True) -> list[dict[str, Any]]:
    return [] if frame is None else frame.filter(where).to_dicts()


def _sections(rows: list[dict[str, Any]]) -> dict[str, int]:
    sections = [row["section"] for row in rows]
    return {s: sections.count(s) for s in SECTIONS}


def _bulk_text(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A 整批 row offered or applied, in the manager's words."""
    who = row["from_advisor_id"]
    kind = row.get("kind") or ("book" if row["decision"] == "reassign" else "idle")
    gone = kind == "book" or row.get("departed")
    name = (f"{names[who]}（已离职）" if who in names else f"{who}（不在名单）") if gone else names.get(who, who)
    if kind == "book":
        to = row.get("proposed_advisor_id") or row.get("new_advisor_id")
        return {"kind": kind, "who": name, "what": "名下全部客户", "unit": "位",
                "to": names.get(to, to) if to else None}
    return {"kind": kind, "who": name, "what": f"超过 {int(row['idle_days'])} 天没有跟进的线索", "unit": "条",
            "to": None}


def _review(head: Manager, morning: Morning, names: dict[str, str], as_of: date) -> dict[str, Any]:
    """⑤: how many customers await the manager's decision — today's workbook rows by kind, the rest waiting for
    later days by kind — the 整批 rows offered, and what came back last night: rows left undecided and the 整批
    decisions applied (how many each moved)."""
    review = _dicts(_of(morning.review, "manager_id", [head.advisor_id]))
    today = [row for row in review if row.get("today", True)]
    later = [row for row in review if not row.get("today", True)]
    offered = [row | _bulk_text(row, names) for row in _dicts(_of(morning.bulk, "manager_id", [head.advisor_id]))]
    idle = [row for row in offered if row["kind"] == "idle"]  # one line: the same days for every advisor
    applied = [row | _bulk_text(row, names) | {"since": day_text(row["decided_at"], as_of)}
               for row in _dicts(_of(morning.applied, "decided_by", [head.advisor_id]))]
    return {
        **_sections(review), "total": len(review),
        "today": {**_sections(today), "total": len(today)},
        "later": {**_sections(later), "total": len(later)},
        "file": f"{head.advisor_id}.xlsx" if head.advisor_id in morning.reviews else None,
        "bulk": [row for row in offered if row["kind"] == "book"],
        "idle": {"rows": idle, "days": idle[0]["idle_days"] if idle else None},
        "applied": applied, "undecided": morning.undecided.get(head.advisor_id, 0),
    }


def _morning(head: Manager, morning: Morning, names: dict[str, str], as_of: date) -> dict[str, Any]:
    """The sections the digest leads with (issue #16) but the chase list, for the manager and their team only."""

    def named(rows: list[dict[str, Any]], key: str = "name") -> list[dict[str, Any]]:
        return [row | {key: names.get(row["advisor_id"], row["advisor_id"])} for row in rows]

    capacity = _of(morning.capacity, "advisor_id", head.team)
    if capacity is not None:
        capacity = capacity.sort(["waiting", "stale", "in_plan"], descending=True, maintain_order=True)
    returned = _of(morning.returned, "advisor_id", head.team)
    refused = _dicts(_of(morning.refused, "decided_by", [head.advisor_id]))
    return {
        "load": named(_dicts(capacity)),
        "review": _review(head, morning, names, as_of),
        "returned": named(_dicts(returned, pl.col("filled") > 0)),
        "returned_nothing": named(_dicts(returned, (pl.col("filled") == 0) & (pl.col("planned") > 0))),
        "refused": [row | {"decision_label": DECISION_LABELS.get(row["decision"], row["decision"]),
                           "bulk_of": names.get(row["from_advisor_id"], row["from_advisor_id"])
                           if row.get("bulk") else None}
                    for row in refused],
        "hot_grades": "/".join(morning.hot_grades),
        "escalate_after": morning.escalate_after,
    }


NO_CHASE = pl.DataFrame(schema={"chase": pl.String, "advisor_id": pl.String, "customer_id": pl.String,
                                 "phone": pl.String, "listed": pl.Boolean, "reasons": pl.List(pl.String)})


def _chase(listed: pl.DataFrame, stale: int, shown: int | None, names: dict[str, str]) -> dict[str, Any]:
    """One chase section: the first `shown` of its `listed` rows named (None: all), the rest counted, and how
    many past their stale limit the review has."""
    head = (listed if shown is None else listed.head(shown)).with_columns(masked_phone("phone").alias("phone"))
    named = [row | {"advisor": names.get(row["advisor_id"], row["advisor_id"]),
                    "text": "；".join(dict.fromkeys(bare_reason(r) for r in row["reasons"]))}
             for row in head.to_dicts()]
    return {"rows": named, "count": listed.height, "more": listed.height - len(named), "stale": stale}


def _context(head: Manager, work: pl.DataFrame, roster: pl.DataFrame, names: dict[str, str],
             without_email: Collection[str], as_of: date, report_attached: bool,
             morning: Morning) -> dict[str, Any]:
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
    # no customer twice: the chase list's sections, the advisors' overdue customers (the manager's own overdue
    # work is on their own worklist and under 转交), the customers handed over to the manager — in that order
    chase_rows = _of(morning.chase, "advisor_id", members)
    parts = [NO_CHASE if chase_rows is None else chase_rows.filter(pl.col("chase") == c) for c in CHASE]
    overdue = overdue_customers(work).filter(pl.col("advisor_id") != head.advisor_id)
    orphaned = handed_over(work, head.advisor_id)
    named = once([*(part.filter(pl.col("listed")) for part in parts), overdue, orphaned.filter(pl.col("listed"))])
    chase = {c: _chase(kept, part.filter(~pl.col("listed")).height, None if c == "complaint" else CHASE_SHOWN,
                       names)  # every complaint is named
             for c, part, kept in zip(CHASE, parts, named, strict=False)}
    overdue_of, none_overdue = by_advisor(named[len(CHASE)]), overdue.clear()
    overdue_by_advisor = []
    for person in people.filter((pl.col("overdue") > 0) & ~pl.col("is_self")).iter_rows(named=True):
        rows = overdue_of.get(person["advisor_id"], none_overdue)
        shown = _masked(rows.head(OVERDUE_PER_ADVISOR))
        if shown:
            overdue_by_advisor.append(person | {"rows": shown, "more": rows.height - len(shown)})

    def was(advisor_id: str) -> str:
        return names.get(advisor_id, f"{advisor_id}（不在名单）")

    kept = named[-1]
    orphaned_rows = [row | {"was": "、".join(was(a) for a in row["originals"] if a) or NO_ADVISOR}
                     for row in _masked(kept.head(CHASE_SHOWN))]
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
        "chase": chase,
        "overdue_by_advisor": overdue_by_advisor,
        "orphaned": orphaned_rows,
        "orphaned_more": kept.height - len(orphaned_rows),
        "orphaned_stale": orphaned.filter(~pl.col("listed")).height,
        "without_email": [
            row | {"not_sent": row["advisor_id"] in without_email} for row in missing.to_dicts()
        ],
        "report_attached": report_attached,
        "report_name": attachment_name("KPI 报告", as_of, head.store, ".html"),
    } | _morning(head, morning, names, as_of)


def digest_subject(context: dict[str, Any]) -> str:
    """One sentence, what needs the manager first (a phone's inbox shows the first twenty-odd characters):
    `【团队日报】王建国 11-23：投诉 2 起待处理，逾期 130 项（共 161 项），待您决定 56 人，转交给您 18 位`."""
    totals, chase = context["totals"], context.get("chase", {})
    parts = []
    if complaints := chase.get("complaint", {}).get("count"):
        parts.append(f"投诉 {complaints} 起待处理")
    parts.append(f"逾期 {totals['overdue']} 项（共 {totals['tasks']} 项）")
    review = context.get("review", {})
    if decide := review.get("today", {}).get("total", review.get("total")):  # the rows in today's sheet
        parts.append(f"待您决定 {decide} 人")
    if totals["orphaned"]:
        parts.append(f"转交给您 {totals['orphaned']} 位")
    day = date.fromisoformat(context["as_of"])
    return f"【团队日报】{context['name']} {day:%m-%d}：" + "，".join(parts)


Parts = dict[tuple[Path, str], EmailMessage]  # (file, attachment name) → its part, made once a night


def digest_message(to: Recipient, context: dict[str, Any], report: Path | None, as_of: date,
                   sender: str, review: Path | None = None, parts: Parts | None = None) -> mail.Outgoing:
    """`parts`: the report attachments made for earlier digests, kept across the night's digests (a store's
    report goes to each of its managers) and added to."""
    msg = new_message("digest", to, digest_subject(context), as_of, sender)
    msg.set_content(render("digest.txt.j2", **context))
    msg.add_alternative(render("digest.html.j2", **context), subtype="html")
    if report is not None:
        parts = {} if parts is None else parts
        key = (report, context["report_name"])
        if key not in parts:
            parts[key] = file_part(report, "text", "html", context["report_name"])
        attach(msg, parts[key])
    if review is not None:
        msg.add_attachment(review.read_bytes(), maintype=XLSX[0], subtype=XLSX[1],
                           filename=attachment_name("待决定", as_of, to.name, ".xlsx"))
    filename = f"digest/{safe_name(to.advisor_id)}.eml"
    return mail.Outgoing("digest", to.advisor_id, to.email, as_of, msg, filename)


def digest_mail(worklist: pl.DataFrame, roster: pl.DataFrame, without_email: Collection[str], report: Path,
                as_of: date, sender: str, failed: list[dict[str, str]] | None = None,
                morning: Morning | None = None) -> tuple[list[mail.Outgoing], list[str]]:
    """A digest for each active manager who has a team or work of their own; the second list holds the
    managers without a usable email address. `roster` has one row per advisor; `without_email` are the
    advisors whose worklist could not be emailed."""
    attached = report if report.is_file() else None
    parts = by_advisor(worklist.with_row_index(ROW))  # split once; each team's rows put back in order below
    names = _names(roster)
    morning = morning or Morning()
    items, missing = [], []
    attachments: Parts = {}  # each report's part, made once
    for head in managers(roster):
        if not head.team and head.advisor_id not in parts:
            continue
        address = (head.email or "").strip()
        if not mail.is_address(address):
            missing.append(head.advisor_id)
            continue
        team = [parts[a] for a in dict.fromkeys((head.advisor_id, *head.team)) if a in parts]
        work = pl.concat(team).sort(ROW).drop(ROW) if team else worklist.clear()
        own = store_report_path(report.parent, head.store)  # a group manager's store has none: the group's
        kpis = own if own.is_file() else attached
        to = Recipient(head.advisor_id, head.name, address)
        try:
            context = _context(head, work, roster, names, without_email, as_of, kpis is not None, morning)
            items.append(digest_message(to, context, kpis, as_of, sender, morning.reviews.get(head.advisor_id),
                                        attachments))
        except BaseException as err:  # this manager's digest only (adapters/failures.py)
            if not is_contained(err):
                raise
            (failed if failed is not None else []).append({"to": address, "error": mail.not_made(err)})
    return items, missing
