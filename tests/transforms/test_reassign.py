"""A reassignment lands (SPEC §6b, transforms/decisions.py `reassign`): from its effective date E a reassigned
customer's tasks are the new advisor's, due no earlier than E, their days overdue, stale clock and carried nights
counting from E, so on the new advisor's first nights the customer is planned like a fresh task and does not come
back into the manager's review; the advisor reads who gave it to them by name. D = 2026-11-23."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from policy.model import load_policy
from tests.conftest import ADVISORS, AS_OF, frame, fu, lead, make_inputs, ro
from transforms.night import prepare
from transforms.plan import plan_night
from transforms.review import review_rows
from transforms.worklist import build_worklist, worklist_from

CUSTOMER = prepare(make_inputs(leads=[lead()]), load_policy(), AS_OF).customers.collect()["customer_id"].item()
ROSTER = [*ADVISORS, {"advisor_id": "S3", "name": "王五", "store": "浦东店", "role": "销售顾问", "active": "是",
                      "manager_id": "M1", "daily_capacity": "12"}]


def decision(on: str, to: str = "S1", by: str | None = "M1", from_: str | None = None) -> dict:
    """A row of the review workbook dropped back: 改派 陈先生 to `to`, from 生效日期 `on`."""
    return {"customer_id": CUSTOMER, "decision": "改派", "decided_at": on, "new_advisor_id": to,
            "decided_by": by, "from_advisor_id": from_}


def stale_lead_of_s2(*decisions: dict):
    """李四 (S2, 在职=否) called 陈先生 (C grade) on 2025-07-10 and no one since: follow-up due 2025-07-17, a year
    and more overdue, on 王经理's (M1) list and long stale."""
    inputs = make_inputs(leads=[lead("L1", "2025-07-01 10:00", grade="C", advisor_id="S2")],
                         followups=[fu("2025-07-10 10:00", "L1", advisor_id="S2")], advisors=ROSTER)
    return replace(inputs, decisions=frame("decisions", decisions)) if decisions else inputs


def planned(inputs, policy, as_of: date = AS_OF) -> pl.DataFrame:
    night = prepare(inputs, policy, as_of)
    return plan_night(worklist_from(night, policy, as_of), night, policy, as_of)


def test_before_the_decision_it_is_the_managers_and_stale(policy):
    got = planned(stale_lead_of_s2(), policy)
    assert got.select("advisor_id", "orphaned", "due_date", "stale", "in_plan").rows() == [
        ("M1", True, date(2025, 7, 17), True, False)]


def test_a_reassigned_customer_is_on_the_new_advisors_plan_the_next_night(policy):
    """王经理 gave 陈先生 to 张三 (S1) on 11-22; the night of 11-23 plans it: due 11-22, one day overdue, not stale."""
    got = planned(stale_lead_of_s2(decision("2026-11-22")), policy)
    assert got.select("advisor_id", "due_date", "days_overdue", "stale", "in_plan", "carried_nights",
                      "reassigned_from").rows() == [("S1", date(2026, 11, 22), 1, False, True, 0, "S2")]
    assert got["reason"].item() == "【改派】经理 王经理 转给您，原顾问 李四已离职 · 线索·C级，上次 2025-07-10 已接通"
    roster = make_inputs(advisors=ROSTER).advisors.collect()
    assert review_rows(got, roster, policy).is_empty()  # it does not come back to the manager


def test_its_stale_clock_counts_from_the_effective_date(policy):
    """followup is stale 30 days overdue: 30 days after 10-24 it is still the new advisor's (10-24 + 30 = 11-23)."""
    assert planned(stale_lead_of_s2(decision("2026-10-24")), policy).select("days_overdue", "stale").rows() == [
        (30, False)]
    assert planned(stale_lead_of_s2(decision("2026-10-23")), policy).select("days_overdue", "stale").rows() == [
        (31, True)]


def test_carried_nights_count_from_the_effective_date(policy):
    """The old plan had the task waiting 400 nights; for the new advisor it waits from 11-22 (one night)."""
    inputs = stale_lead_of_s2(decision("2026-11-22"))
    night = prepare(inputs, policy, AS_OF)
    previous = pl.DataFrame({"night": [date(2026, 11, 22)], "task_type": ["followup"], "ref": ["L1"],
                             "carried_nights": [400]})
    got = plan_night(worklist_from(night, policy, AS_OF), night, policy, AS_OF, previous)
    assert got.select("carried_nights", "escalated").rows() == [(1, False)]


def test_a_decision_takes_effect_on_its_date(policy):
    got = build_worklist(stale_lead_of_s2(decision("2026-11-24")), policy, AS_OF)
    assert got.select("advisor_id", "orphaned").rows() == [("M1", True)]


def test_a_task_due_after_the_effective_date_keeps_its_day(policy):
    """张三's lead, called 11-16 (C grade): due 11-23. Given to 王五 (S3) from 11-20: still due 11-23."""
    inputs = make_inputs(leads=[lead("L1", "2026-11-01 10:00", grade="C")], followups=[fu("2026-11-16 10:00", "L1")],
                         advisors=ROSTER)
    got = build_worklist(replace(inputs, decisions=frame("decisions", [decision("2026-11-20", to="S3")])),
                         policy, AS_OF)
    assert got.select("advisor_id", "due_date", "days_overdue").rows() == [("S3", date(2026, 11, 23), 0)]
    assert got["reason"].item().startswith("【改派】经理 王经理 转给您，原顾问 张三 · ")  # 张三 is still here


def test_the_note_names_people_never_ids(policy):
    """No manager on the decision row: 经理; the old advisor by name."""
    got = build_worklist(stale_lead_of_s2(decision("2026-11-22", by=None)), policy, AS_OF)
    reason = got["reason"].item()
    assert reason.startswith("【改派】经理转给您，原顾问 李四已离职 · ")
    assert not any(word in reason for word in ("S1", "S2", "M1", "reassigned", "/"))


def test_reassigning_to_the_advisor_who_has_it_changes_nothing(policy):
    """张三's lead, untouched since 2025-07-10: "given" to 张三 again it stays stale, no note, its own day."""
    inputs = make_inputs(leads=[lead("L1", "2025-07-01 10:00", grade="C")], followups=[fu("2025-07-10 10:00", "L1")],
                         advisors=ROSTER)
    got = planned(replace(inputs, decisions=frame("decisions", [decision("2026-11-22", to="S1")])), policy)
    assert got.select("advisor_id", "due_date", "stale", "reassigned_from").rows() == [
        ("S1", date(2025, 7, 17), True, None)]
    assert got["reason"].item() == "线索·C级，上次 2025-07-10 已接通"


def test_a_task_of_no_advisor_reassigned_says_so(policy):
    """A repair order with no service advisor: its revisit is the manager's (原顾问 未指定) until given to 赵六 (V1)."""
    inputs = make_inputs(service=[ro("R1", "2026-11-19 09:00", service_advisor_id=None)], advisors=ROSTER)
    cid = prepare(inputs, policy, AS_OF).customers.collect()["customer_id"].item()
    moved = replace(inputs, decisions=frame("decisions", [decision("2026-11-22", to="V1") | {"customer_id": cid}]))
    got = build_worklist(moved, policy, AS_OF)
    assert got.select("advisor_id", "due_date").rows() == [("V1", date(2026, 11, 22))]
    assert got["reason"].item().startswith("【改派】经理 王经理 转给您，原顾问 未指定 · 11-19 进厂")
