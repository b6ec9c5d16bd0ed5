"""`followup` (SPEC §6, §6a, §6b): due last touch + the shorter of the grade's (S1 A3 B3 C7 D7)
and the stage's (negotiating 1, intent 3, lead 7) interval, dormant 30; the day the latest
follow-up promised (its next_followup_at) replaces it, earlier or later (tests/transforms/test_promises.py);
priority 3 negotiating or S, 5 A/B, 8 C/D, 9 dormant; the lead's advisor; moved only by a later touch."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.worklist import build_worklist


def followups(worklist: pl.DataFrame) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == "followup")


def one_call(touch: str, grade: str = "C", status: str | None = None, **fu_kw: str | None):
    lead_kw = {"grade": grade} | ({"status": status} if status else {})
    return make_inputs(
        leads=[lead("L1", "2026-08-01 10:00", **lead_kw)], followups=[fu(touch, "L1", **fu_kw)]
    )


@pytest.mark.parametrize(
    ("touch", "due", "overdue"),
    [
        ("2026-11-16 10:00", date(2026, 11, 23), 0),
        ("2026-11-15 18:00", date(2026, 11, 22), 1),
    ],
)
def test_due_today_or_yesterday_is_listed(policy, touch, due, overdue):
    got = followups(build_worklist(one_call(touch), policy, AS_OF)).select("due_date", "days_overdue")
    assert got.rows() == [(due, overdue)]


def test_due_tomorrow_is_not_listed(policy):
    assert followups(build_worklist(one_call("2026-11-17 08:00"), policy, AS_OF)).is_empty()


@pytest.mark.parametrize(
    ("grade", "status", "due", "priority", "stage"),
    [
        ("S", None, date(2026, 11, 17), 3, "lead"),  # min(S 1, lead 7)
        ("A", None, date(2026, 11, 19), 5, "lead"),  # min(A 3, lead 7)
        ("B", None, date(2026, 11, 19), 5, "lead"),
        ("C", None, date(2026, 11, 23), 8, "lead"),  # min(C 7, lead 7)
        ("D", None, date(2026, 11, 23), 8, "lead"),
        ("S", "意向", date(2026, 11, 17), 3, "intent"),
        ("C", "意向", date(2026, 11, 19), 8, "intent"),  # min(C 7, intent 3)
        ("D", "意向", date(2026, 11, 19), 8, "intent"),
        ("D", "谈判", date(2026, 11, 17), 3, "negotiating"),  # min(D 7, negotiating 1); negotiating → 3
        ("B", "谈判", date(2026, 11, 17), 3, "negotiating"),
    ],
)
def test_interval_is_the_shorter_of_grade_and_stage(policy, grade, status, due, priority, stage):
    inputs = one_call("2026-11-16 10:00", grade, status)
    got = followups(build_worklist(inputs, policy, AS_OF)).select("due_date", "priority", "grade", "stage")
    assert_frame_equal(
        got, pl.DataFrame({"due_date": [due], "priority": [priority], "grade": [grade], "stage": [stage]})
    )


@pytest.mark.parametrize(
    ("touch", "due", "overdue"),
    [
        ("2026-10-24 10:00", date(2026, 11, 23), 0),
        ("2026-10-23 10:00", date(2026, 11, 22), 1),
    ],
)
def test_dormant_is_30_days_whatever_the_grade_priority_9(policy, touch, due, overdue):
    inputs = one_call(touch, "S", outcome="暂不考虑")
    got = followups(build_worklist(inputs, policy, AS_OF)).select(
        "due_date", "days_overdue", "priority", "stage"
    )
    assert got.rows() == [(due, overdue, 9, "dormant")]


def test_dormant_due_tomorrow_is_not_listed(policy):
    inputs = one_call("2026-10-25 10:00", "S", outcome="暂不考虑")
    assert followups(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_goes_to_the_leads_advisor_not_the_caller(policy):
    inputs = one_call("2026-11-16 10:00", advisor_id="V1")
    assert followups(build_worklist(inputs, policy, AS_OF))["advisor_id"].to_list() == ["S1"]


def test_last_touch_is_the_later_of_created_at_and_the_follow_ups(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-16 10:00", grade="C")], followups=[fu("2026-11-10 10:00", "L1")]
    )
    assert followups(build_worklist(inputs, policy, AS_OF))["due_date"].to_list() == [date(2026, 11, 23)]


@pytest.mark.parametrize("outcome", ["已接通", "未接通"])
def test_a_later_touch_moves_it(policy, outcome):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[fu("2026-11-10 10:00", "L1"), fu("2026-11-20 10:00", "L1", outcome=outcome)],
    )
    assert followups(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_never_expires_while_overdue(policy):
    got = followups(build_worklist(one_call("2026-09-01 10:00"), policy, AS_OF)).select(
        "due_date", "days_overdue"
    )
    assert got.rows() == [(date(2026, 9, 8), 76)]


@pytest.mark.parametrize(
    ("planned", "due"),
    [
        ("2026-11-20 15:00", [date(2026, 11, 20)]),  # earlier than touch + 7 (11-23)
        ("2026-11-23", [date(2026, 11, 23)]),
        ("2026-11-25", []),  # later: the promise is kept, not the interval (listed on 11-25, test_promises.py)
    ],
)
def test_the_promised_day_of_the_latest_follow_up_replaces_the_interval(policy, planned, due):
    inputs = one_call("2026-11-16 10:00", next_followup_at=planned)
    assert followups(build_worklist(inputs, policy, AS_OF))["due_date"].to_list() == due


def test_a_planned_date_tomorrow_earlier_than_the_interval_is_not_listed(policy):
    inputs = one_call("2026-11-20 10:00", next_followup_at="2026-11-24")  # interval: 11-27
    assert followups(build_worklist(inputs, policy, AS_OF)).is_empty()


@pytest.mark.parametrize(("latest_plan", "on", "due"), [
    (None, AS_OF, date(2026, 11, 23)),  # a later follow-up without a date ends 11-12's promise: 11-16 + 7
    ("2026-11-30", AS_OF, None),  # the latest promise, not 11-12's and not the interval
    ("2026-11-30", date(2026, 11, 30), date(2026, 11, 30)),
])
def test_only_the_latest_follow_ups_plan_counts(policy, latest_plan, on, due):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[
            fu("2026-11-10 10:00", "L1", next_followup_at="2026-11-12"),
            fu("2026-11-16 10:00", "L1", next_followup_at=latest_plan),
        ],
    )
    assert followups(build_worklist(inputs, policy, on))["due_date"].to_list() == ([due] if due else [])


def test_an_earlier_plan_wins_for_a_dormant_lead_too(policy):
    inputs = one_call("2026-11-16 10:00", outcome="暂不考虑", next_followup_at="2026-11-20")  # 30 days: 12-16
    got = followups(build_worklist(inputs, policy, AS_OF)).select(
        "due_date", "days_overdue", "priority", "stage"
    )
    assert got.rows() == [(date(2026, 11, 20), 3, 9, "dormant")]


def test_a_dormant_lead_without_a_plan_waits_30_days(policy):
    inputs = one_call("2026-11-16 10:00", outcome="暂不考虑")
    assert followups(build_worklist(inputs, policy, AS_OF)).is_empty()


@pytest.mark.parametrize(("loaded", "due"), [((1, 2), [date(2026, 11, 22)]), ((2, 1), [])])
def test_the_same_minute_twice_the_row_loaded_later_counts(policy, loaded, due):
    """A call logged twice at the same minute with different next dates (a clerk corrected it in a later file):
    the row loaded later is the latest, whichever way the rows reach the rules — so a re-run of the night
    plans the same call, not one or the other at random. The promised day is kept: 11-22 is due today (11-23);
    11-25 is not yet."""
    base = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", grade="C")],
        followups=[fu("2026-11-20 10:00", "L1", next_followup_at="2026-11-25 10:00"),
                   fu("2026-11-20 10:00", "L1", next_followup_at="2026-11-22 10:00")],
    )
    for rows in (base.followups, base.followups.reverse()):
        order = pl.DataFrame({"next_followup_at": [datetime(2026, 11, 25, 10), datetime(2026, 11, 22, 10)],
                              "__order": list(loaded)})
        numbered = rows.join(order.lazy(), on="next_followup_at", how="left")
        inputs = replace(base, followups=numbered)
        got = followups(build_worklist(inputs, policy, AS_OF))
        assert got["due_date"].to_list() == due
