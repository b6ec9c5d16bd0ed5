"""The chase list is what can still be saved: every open complaint is named, the oldest first; in the other
sections the most saveable first (a lead 3 days late before one 675 days late), work past its stale limit
counted, not named; and no customer is named twice in one digest."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import polars as pl

from policy.model import Policy
from reports.digest import Morning, digest_context, managers
from reports.templating import render
from tests.reports.test_digest import AS_OF, ROSTER, WORKLIST
from transforms.morning import chase_list


def task(advisor_id: str, customer_id: str, name: str, task_type: str, overdue: int, priority: int,
         stale: bool = False, grade: str = "C", reason: str = "…", orphaned: bool = False) -> dict:
    phone = f"+86138001{int(customer_id[1:]):05d}"
    return {"as_of": AS_OF, "advisor_id": advisor_id, "store": "浦东店", "customer_id": customer_id,
            "customer_name": name, "phone": phone, "task_type": task_type,
            "due_date": AS_OF - timedelta(days=overdue), "days_overdue": overdue, "priority": priority,
            "grade": grade, "stage": "lead", "reason": reason, "ref": f"{customer_id}-{task_type}-{overdue}",
            "lead_id": None, "orphaned": orphaned, "original_advisor_id": "S2" if orphaned else advisor_id,
            "open_until": None, "stale": stale}


# 11 open complaints, 388 days old down to today's; 投诉1 has two (two repair orders)
COMPLAINTS = [task("S1", f"C{i}", f"投诉{i}", "complaint", overdue, 1, reason=f"客户投诉：第{i}次投诉内容")
              for i, overdue in enumerate([3, 388, 0, 12, 40, 7, 101, 55, 2, 19, 250], start=1)]
COMPLAINTS.append(task("S1", "C1", "投诉1", "complaint", 30, 1, reason="客户投诉：另一张工单的投诉"))
TASKS = [
    *COMPLAINTS,
    task("S1", "C1", "投诉1", "first_contact", 2, 2),  # 投诉1 again: named under ① only
    task("S1", "C20", "三天", "first_contact", 3, 2),
    task("S1", "C21", "六七五天", "first_contact", 675, 2, stale=True),  # the review's: counted, not named
    task("S3", "C22", "今天", "first_contact", 0, 2),
    task("S1", "C22", "今天", "followup", 4, 5),  # 今天 again: named under ② only
    task("S1", "C30", "热两天", "followup", 2, 3, grade="S"),
    task("S1", "C31", "热四五", "followup", 45, 3, stale=True, grade="A"),
    task("S1", "C30", "热两天", "post_delivery_d3", 1, 4),  # 热两天 again: named under ③ only
    task("S1", "C40", "跟进五天", "followup", 5, 5),
    task("S1", "C41", "关怀一天", "care_call", 1, 8),
    task("S1", "C42", "召回百天", "win_back", 100, 6),
    task("M1", "C50", "转交三天", "followup", 3, 5, orphaned=True),
    task("M1", "C51", "转交久", "first_contact", 40, 2, stale=True, orphaned=True),
    task("M1", "C20", "三天", "followup", 6, 5, orphaned=True),  # 三天 again: named under ② only
]
WORK = pl.DataFrame(TASKS, schema=WORKLIST.schema | {"stale": pl.Boolean})


def _context(policy: Policy) -> dict:
    head = managers(ROSTER)[0]
    return digest_context(head, WORK, ROSTER, set(), AS_OF, False, Morning(chase=chase_list(WORK, policy)))


def test_every_open_complaint_is_named_the_oldest_first(policy: Policy) -> None:
    complaint = _context(policy)["chase"]["complaint"]
    names = [r["customer_name"] for r in complaint["rows"]]
    # by the customer's oldest complaint (投诉1's is 30 days old): 388 days first, today's last
    assert names == [f"投诉{i}" for i in (2, 11, 7, 8, 5, 1, 10, 4, 6, 9, 3)]
    assert (complaint["count"], complaint["more"]) == (11, 0)
    first = next(r for r in complaint["rows"] if r["customer_name"] == "投诉1")
    assert first["text"] == "另一张工单的投诉；第1次投诉内容"  # both of 投诉1's complaints, the older first


def test_the_other_sections_name_the_most_saveable_first_and_count_the_stale(policy: Policy) -> None:
    context = _context(policy)
    first, hot = context["chase"]["first_contact"], context["chase"]["hot_overdue"]
    assert [r["customer_name"] for r in first["rows"]] == ["今天", "三天"]
    assert first["stale"] == 2  # 六七五天 and 转交久: in the manager's review
    assert [r["customer_name"] for r in hot["rows"]] == ["热两天"] and hot["stale"] == 1
    overdue = {a["advisor_id"]: [r["customer_name"] for r in a["rows"]] for a in context["overdue_by_advisor"]}
    assert overdue == {"S1": ["跟进五天", "召回百天", "关怀一天"]}  # the most urgent task, then the most recent
    assert [r["customer_name"] for r in context["orphaned"]] == ["转交三天"]
    assert context["orphaned_stale"] == 1


def test_no_customer_is_named_twice(policy: Policy) -> None:
    context = _context(policy)
    named = [r["customer_name"] for c in context["chase"].values() for r in c["rows"]]
    named += [r["customer_name"] for a in context["overdue_by_advisor"] for r in a["rows"]]
    named += [r["customer_name"] for r in context["orphaned"]]
    assert [n for n, k in Counter(named).items() if k > 1] == []
    for template in ("digest.txt.j2", "digest.html.j2"):
        body = render(template, **context)
        for row in TASKS:  # each customer's masked phone appears at most once in the mail
            assert len(re.findall(re.escape(row["phone"][3:6] + "****" + row["phone"][-4:]), body)) <= 1
        assert "另有" not in body.split("②")[0]  # no complaint cut off
