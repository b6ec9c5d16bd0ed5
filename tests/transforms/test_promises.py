"""Promises and attempts (SPEC §6b, transforms/promises.py). The latest follow-up's next_followup_at after its
own day is kept: a lead's follow-up is due on it, earlier or later than the cadence, held at the follow-up + 90
days; until then the customer's first maintenance, care call, win-back and trade-in wait for it; a complaint, a
delivery confirmation, a birthday and an anniversary never do; a promise to an owner is its own `promised_call`.
An 未接通 is an attempt: it closes no complaint and no revisit. D = 2026-11-23; dates worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.plan import plan_worklist
from transforms.worklist import build_worklist


def tasks(inputs, policy, on: date, task_type: str) -> list[tuple]:
    got = build_worklist(inputs, policy, on).filter(pl.col("task_type") == task_type)
    return got.select("advisor_id", "due_date", "days_overdue", "reason").rows()


def call(on: str, advisor: str = "S1", **kw: str | None) -> dict:
    """A follow-up naming the customer by phone (no lead): as a service advisor logs a call to an owner."""
    return fu(on, lead_id=None, phone="13800138001", advisor_id=advisor) | kw


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# ---- a lead's promise: earlier or later than the cadence


def test_an_s_lead_is_not_called_before_the_agreed_day_and_is_on_it(policy):
    """S grade: the cadence is daily (11-21); the advisor agreed 11-25 with the customer on 11-20."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="S")],
        followups=[fu("2026-11-20 16:00", "L1", next_followup_at="2026-11-25 10:00")],
    )
    for day in days(date(2026, 11, 21), date(2026, 11, 24)):
        assert tasks(inputs, policy, day, "followup") == [], day
    [(advisor, due, overdue, reason)] = tasks(inputs, policy, date(2026, 11, 25), "followup")
    assert (advisor, due, overdue) == ("S1", date(2026, 11, 25), 0)
    assert reason == "线索·S级，上次 11-20 已接通，约定 11-25 再联系"
    assert tasks(inputs, policy, date(2026, 11, 26), "followup")[0][1:3] == (date(2026, 11, 25), 1)  # then overdue


def test_a_booked_visit_says_so(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="A")],
        followups=[fu("2026-11-20 16:00", "L1", outcome="预约到店", next_followup_at="2026-11-28")],
    )
    [(_, due, _, reason)] = tasks(inputs, policy, date(2026, 11, 28), "followup")
    assert due == date(2026, 11, 28) and reason.endswith("上次 11-20 预约到店，约定 11-28 到店")


def test_a_date_after_a_call_nobody_answered_is_the_advisors_plan(policy):
    """Nothing was agreed with the customer: the why says 计划, the date is kept all the same."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="S")],
        followups=[fu("2026-11-20 16:00", "L1", outcome="未接通", next_followup_at="2026-11-23")],
    )
    assert tasks(inputs, policy, AS_OF, "followup") == [
        ("S1", date(2026, 11, 23), 0, "线索·S级，上次 11-20 未接通，计划 11-23 再联系")]


def test_a_promise_further_than_max_promise_days_is_held_there(policy):
    """11-20 + 90 days = 2027-02-18 (10 days of November, 31 of December, 31 of January, 18 of February)."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[fu("2026-11-20 16:00", "L1", next_followup_at="2027-06-01")],
    )
    assert tasks(inputs, policy, date(2027, 2, 17), "followup") == []
    [(_, due, overdue, reason)] = tasks(inputs, policy, date(2027, 2, 18), "followup")
    assert (due, overdue) == (date(2027, 2, 18), 0)
    assert reason.endswith("上次 2026-11-20 已接通，约定 06-01 再联系（超过 90 天，先在 02-18 联系）")


def test_max_promise_days_is_the_policys(policy):
    short = policy.model_copy(update={"promises": policy.promises.model_copy(update={"max_promise_days": 3})})
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[fu("2026-11-20 16:00", "L1", next_followup_at="2026-12-20")],
    )
    assert [r[1] for r in tasks(inputs, short, AS_OF, "followup")] == [date(2026, 11, 23)]


@pytest.mark.parametrize("said", ["2026-11-16 18:00", "2026-11-10", "2026-11-16"])
def test_a_date_on_or_before_the_follow_up_is_no_promise(policy, said):
    """C grade, touched 11-16: the cadence (7 days) makes it due 11-23, and the why promises nothing."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[fu("2026-11-16 10:00", "L1", next_followup_at=said)],
    )
    assert tasks(inputs, policy, AS_OF, "followup") == [("S1", date(2026, 11, 23), 0, "线索·C级，上次 11-16 已接通")]


# ---- the customer's other tasks wait for the promised day


def delivered_owner(*followups: dict, **sale_kw: str) -> object:
    """Delivered 2026-06-01 (an owner by 11-23): first maintenance due 06-01 + 150 = 10-29, not yet done."""
    return make_inputs(
        sales=[sale("O1", "2026-05-20", delivered_at="2026-06-01", model="卡罗拉") | sale_kw],
        followups=list(followups),
    )


def test_an_appointment_snoozes_first_maintenance_to_its_day(policy):
    inputs = delivered_owner(call("2026-11-20 11:00", outcome="预约到店", next_followup_at="2026-11-28"))
    assert tasks(inputs, policy, date(2026, 11, 19), "first_maintenance")[0][1] == date(2026, 10, 29)  # before
    for day in days(date(2026, 11, 20), date(2026, 11, 27)):
        assert tasks(inputs, policy, day, "first_maintenance") == [], day
    assert tasks(inputs, policy, date(2026, 11, 28), "first_maintenance") == [
        ("S1", date(2026, 11, 28), 0, "约定 11-28 到店做首保；卡罗拉 06-01 交车，还没做首保")
    ]


def test_a_later_follow_up_without_a_date_ends_the_wait(policy):
    inputs = delivered_owner(call("2026-11-20 11:00", outcome="预约到店", next_followup_at="2026-11-28"),
                             call("2026-11-22 11:00"))
    assert tasks(inputs, policy, AS_OF, "first_maintenance") == [
        ("S1", date(2026, 10, 29), 25, "卡罗拉 06-01 交车，还没做首保")
    ]


def test_a_task_due_after_the_promised_day_keeps_its_day(policy):
    """Delivered 2026-07-01: first maintenance due 11-28, after the promised 11-25."""
    inputs = delivered_owner(call("2026-11-20 11:00", next_followup_at="2026-11-25"), delivered_at="2026-07-01")
    assert tasks(inputs, policy, date(2026, 11, 25), "first_maintenance") == []
    assert [r[1] for r in tasks(inputs, policy, date(2026, 11, 28), "first_maintenance")] == [date(2026, 11, 28)]


def test_a_trade_in_window_that_closes_before_the_promised_day_is_not_listed(policy):
    """Delivered 2023-11-01: trade-in due 2026-11-01 − 30 days = 10-02, open through 12-01. A promise made 11-20
    for 12-10 holds it past its window; one for 11-30 moves it there."""
    late = delivered_owner(call("2026-11-20 11:00", next_followup_at="2026-12-10"), delivered_at="2023-11-01",
                           ordered_at="2023-10-01")
    assert all(tasks(late, policy, day, "trade_in") == [] for day in days(date(2026, 11, 20), date(2026, 12, 12)))
    soon = delivered_owner(call("2026-11-20 11:00", next_followup_at="2026-11-30"), delivered_at="2023-11-01",
                           ordered_at="2023-10-01")
    [(_, due, _, reason)] = tasks(soon, policy, date(2026, 11, 30), "trade_in")
    assert due == date(2026, 11, 30) and reason.startswith("约定 11-30 再联系；卡罗拉 2023-11-01 交车")


def test_complaint_delivery_confirm_and_birthday_are_never_moved_by_a_promise(policy):
    """The customer agreed on 11-18 to be called on 11-30; then: a complaint on the 11-20 visit, a delivery
    planned for 11-24 (confirm on 11-23), a birthday on 11-23 — all on 11-23 as without the promise."""
    inputs = make_inputs(
        sales=[sale("O1", "2026-11-01", planned_delivery_at="2026-11-24", birthday="1990-11-23")],
        service=[ro("R1", "2026-11-20 09:00", csat="1")],
        followups=[call("2026-11-18 10:00", next_followup_at="2026-11-30")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    got = dict(worklist.select("task_type", "due_date").iter_rows())
    assert got == {"complaint": date(2026, 11, 20), "delivery_confirm": date(2026, 11, 23),
                   "birthday": date(2026, 11, 23), "post_service_revisit": date(2026, 11, 23)}
    assert not worklist["reason"].str.contains("约定").any()


# ---- promised_call: a promise to a customer with no open lead


def owner_called(*followups: dict) -> object:
    """A service-only customer (an owner) last in on 09-01: care call due 09-01 + 90 = 11-30 (before any call)."""
    return make_inputs(service=[ro("R1", "2026-09-01 09:00", service_type="保养")], followups=list(followups))


def test_a_promise_to_an_owner_is_a_promised_call_of_the_advisor_who_made_it(policy):
    inputs = owner_called(call("2026-11-20 15:00", "V1", summary="客户说下周带车来做保养，到时再约",
                               next_followup_at="2026-11-25"))
    assert tasks(inputs, policy, date(2026, 11, 24), "promised_call") == []
    worklist = build_worklist(inputs, policy, date(2026, 11, 25)).filter(pl.col("task_type") == "promised_call")
    assert worklist.select("advisor_id", "due_date", "days_overdue", "priority", "stage", "reason").rows() == [
        ("V1", date(2026, 11, 25), 0, 4, "owner", "11-20 约定 11-25 再联系 “客户说下周带车来做保养，到时再约”")
    ]
    assert tasks(inputs, policy, date(2026, 12, 1), "promised_call")[0][1:3] == (date(2026, 11, 25), 6)  # open


def test_a_promised_call_is_open_until_a_later_touch(policy):
    inputs = owner_called(call("2026-11-20 15:00", "V1", next_followup_at="2026-11-25"), call("2026-11-25 10:00", "V1"))
    assert tasks(inputs, policy, date(2026, 11, 26), "promised_call") == []


def test_a_lead_carries_its_own_promise_not_a_promised_call(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-01 10:00", grade="C")],
                         followups=[fu("2026-11-20 16:00", "L1", next_followup_at="2026-11-25")])
    worklist = build_worklist(inputs, policy, date(2026, 11, 25))
    assert worklist["task_type"].to_list() == ["followup"]


# ---- an attempt is not a contact


@pytest.mark.parametrize(("outcome", "open_"), [("未接通", True), ("已接通", False)])
def test_an_unanswered_call_closes_no_complaint(policy, outcome, open_):
    inputs = make_inputs(service=[ro("R1", "2026-11-20 09:00", csat="1")],
                         followups=[call("2026-11-21 10:00", "V1", outcome=outcome)])
    assert bool(tasks(inputs, policy, AS_OF, "complaint")) is open_


@pytest.mark.parametrize(("outcome", "open_"), [("未接通", True), ("已接通", False)])
def test_an_unanswered_call_closes_no_post_delivery_call_or_revisit(policy, outcome, open_):
    """Delivered 11-19: the day-1 call due 11-20; a visit 11-19: the revisit due 11-22. Called 11-22."""
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", delivered_at="2026-11-19")],
                         service=[ro("R1", "2026-11-19 09:00")],
                         followups=[call("2026-11-22 10:00", outcome=outcome)])
    assert bool(tasks(inputs, policy, AS_OF, "post_delivery_d1")) is open_
    assert bool(tasks(inputs, policy, AS_OF, "post_service_revisit")) is open_


@pytest.mark.parametrize(("outcome", "due"), [("未接通", date(2026, 11, 30)), ("已接通", date(2027, 2, 18))])
def test_an_unanswered_call_does_not_move_a_care_call(policy, outcome, due):
    """Last in 09-01: care call due 11-30; a call that reached the owner 11-20 moves it to 11-20 + 90."""
    inputs = owner_called(call("2026-11-20 15:00", "V1", outcome=outcome))
    assert [r[1] for r in tasks(inputs, policy, due, "care_call")] == [due]
    assert tasks(inputs, policy, due - timedelta(days=1), "care_call") == []


def test_an_unanswered_call_is_still_a_first_contact_and_a_touch_of_the_cadence(policy):
    """C grade lead created 11-10: an 未接通 on 11-16 ends first contact, and the cadence counts from it."""
    inputs = make_inputs(leads=[lead("L1", "2026-11-10 10:00", grade="C")],
                         followups=[fu("2026-11-16 10:00", "L1", outcome="未接通")])
    assert build_worklist(inputs, policy, AS_OF).select("task_type", "due_date").rows() == [
        ("followup", date(2026, 11, 23))]


# ---- a promise is kept when the day is full


def test_a_follow_up_promised_for_today_is_planned_before_hot_leads_when_the_day_is_full(policy):
    """Capacity 2, three leads due on 11-23: an S lead (daily cadence, due 11-22) and an A lead (3 days, due
    11-22) are 尽快跟进; the B lead was told on 11-20 "I'll call you on the 23rd". By the cadence alone the B
    lead is 常规跟进 and waits behind both; it is due on its promised day, so it is 立即处理 and planned."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", phone="13800138001", grade="S"),
               lead("L2", "2026-11-01 10:00", phone="13800138002", grade="A"),
               lead("L3", "2026-11-01 10:00", phone="13800138003", grade="B")],
        followups=[fu("2026-11-21 10:00", "L1"), fu("2026-11-19 10:00", "L2"),
                   fu("2026-11-20 10:00", "L3", next_followup_at="2026-11-23")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    assert dict(worklist.select("lead_id", "promised").iter_rows()) == {"L1": False, "L2": False, "L3": True}
    roster = pl.DataFrame({"advisor_id": ["S1"], "role": ["sales"], "daily_capacity": [2.0]})
    planned = plan_worklist(worklist, roster, policy, AS_OF)
    got = planned.select("lead_id", "urgency", "in_plan").rows()
    assert sorted(got) == [("L1", "hot_lead", True), ("L2", "hot_lead", False), ("L3", "act_now", True)]
