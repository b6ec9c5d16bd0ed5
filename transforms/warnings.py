"""What ops must hear about a night although nothing failed (issue #13): no roster, a store with no active
manager, tasks whose advisor the roster does not know. Each warning is {code, store, count, zh, en}."""

from __future__ import annotations

from typing import Any

import polars as pl

from transforms.assign import UNASSIGNED

SHOWN_IDS = 8  # advisor ids listed in one warning; the rest are counted


def _ids(ids: list[str]) -> str:
    more = len(ids) - SHOWN_IDS
    return "、".join(ids[:SHOWN_IDS]) + (f" 等 {len(ids)} 人" if more > 0 else "")


def night_warnings(worklist: pl.DataFrame, advisors: pl.DataFrame) -> list[dict[str, Any]]:
    """`worklist`: the night's tasks (with `original_advisor_id`, `orphaned`); `advisors`: the roster rows."""
    roster = advisors.unique("advisor_id", keep="last", maintain_order=True)
    found: list[dict[str, Any]] = []
    if roster.height == 0:
        found.append({
            "code": "no_roster", "store": None, "count": worklist.height,
            "zh": f"没有顾问名单：{worklist.height} 条任务无法分给顾问，全部归入 {UNASSIGNED}.xlsx，"
                  "没有发出顾问邮件和经理日报。请把顾问名单（工号、姓名、门店、岗位、邮箱）放入投放目录。",
            "en": f"no advisor roster: {_tasks(worklist.height)} could not be given to advisors and all went to "
                  f"{UNASSIGNED}.xlsx; no advisor email or manager digest was written. Drop the roster "
                  "(advisor id, name, store, role, email) into the drop folder.",
        })
        return found
    active = pl.col("active").fill_null(True)
    managed = set(roster.filter(active & (pl.col("role") == "manager"))["store"].drop_nulls())
    stores = sorted({*roster["store"].drop_nulls(), *worklist["store"].drop_nulls()} - managed)
    for store in stores:
        n = worklist.filter(pl.col("store") == store).height
        found.append({
            "code": "no_manager", "store": store, "count": n,
            "zh": f"门店「{store}」没有在职经理：离职或不在名单的顾问的任务无人接手，也没有经理日报"
                  f"（该店今晚 {n} 条任务）。请在顾问名单中补上该店的经理（岗位：经理，在职：是）。",
            "en": f"store '{store}' has no active manager: work of departed or unknown advisors has nobody to go "
                  f"to and no digest is written ({_tasks(n)} tonight). Add its manager to the roster "
                  "(role manager, active yes).",
        })
    known = roster["advisor_id"].implode()
    unknown = (
        worklist.filter(pl.col("original_advisor_id").is_not_null() & ~pl.col("original_advisor_id").is_in(known))
        .group_by("store", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("original_advisor_id").unique().sort().alias("ids"),
             (pl.col("advisor_id") == UNASSIGNED).sum().alias("unassigned"))
        .sort("store", nulls_last=True)
    )
    for row in unknown.iter_rows(named=True):
        where = row["store"] or "—"
        ids = _ids(row["ids"])
        lost = (f"，其中 {row['unassigned']} 条无人负责（{UNASSIGNED}.xlsx）" if row["unassigned"] else "，已转交经理")
        lost_en = (f"; {row['unassigned']} of them have nobody ({UNASSIGNED}.xlsx)" if row["unassigned"]
                   else "; they went to the manager")
        found.append({
            "code": "unknown_advisor", "store": row["store"], "count": row["count"],
            "zh": f"门店「{where}」：{row['count']} 条任务的顾问 {ids} 不在顾问名单中{lost}。"
                  "请检查工号是否写错，或把这些顾问加入名单。",
            "en": f"store '{where}': {_tasks(row['count'])} belong{'s' if row['count'] == 1 else ''} to advisors not "
                  f"in the roster ({ids}){lost_en}. "
                  "Check the advisor ids, or add them to the roster.",
        })
    return found


def _tasks(n: int) -> str:
    return f"{n} task" if n == 1 else f"{n} tasks"
