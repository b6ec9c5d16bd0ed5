"""Sales grades (SPEC §5, §6a): the newest row carrying a typed grade or a purchase
timeframe decides (follow-ups newest first, then the lead row); on one row the typed
grade wins; a timeframe phrase or a plain date counts days from that row's own date: S ≤
7, A ≤ 15, B ≤ 30, C ≤ 90, D ≤ 180, longer → D, blank or unknown → C; the three latest
follow-ups all 未接通 lower the grade one step (D stays D)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.worklist import build_worklist


def grades(inputs, policy) -> list[str]:
    """The grade the L1 lead's pipeline task (first_contact or followup) carries."""
    worklist = build_worklist(inputs, policy, AS_OF)
    return worklist.filter(pl.col("ref") == "L1")["grade"].to_list()


def with_calls(*calls: dict, **lead_kw: str):
    """An old lead whose follow-up is listed on D whatever the grade (last call ≤ 11-16 + 7)."""
    return make_inputs(leads=[lead("L1", "2026-08-01 10:00", **lead_kw)], followups=list(calls))


@pytest.mark.parametrize(
    ("timeframe", "grade"),
    [
        ("1周内", "S"),
        ("7天内", "S"),
        ("2周内", "A"),
        ("半个月内", "A"),
        ("1个月内", "B"),
        ("3个月内", "C"),
        ("半年内", "D"),
        ("1年内", "D"),
        ("明年", "D"),
        ("再看看", "C"),  # unknown → C
        (None, "C"),  # blank → C
    ],
)
def test_timeframe_phrase_on_the_lead_row(policy, timeframe, grade):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", purchase_timeframe=timeframe)])
    assert grades(inputs, policy) == [grade]


@pytest.mark.parametrize(
    ("timeframe", "grade"),
    [
        ("2026-11-27", "S"),  # 7 days after the lead's 11-20
        ("2026-11-28", "A"),  # 8
        ("2026-12-05", "A"),  # 15
        ("2026-12-06", "B"),  # 16
        ("2026-12-20", "B"),  # 30
        ("2026-12-21", "C"),  # 31
        ("2027-02-18", "C"),  # 90
        ("2027-02-19", "D"),  # 91
        ("2027-05-19", "D"),  # 180
        ("2027-05-20", "D"),  # 181: longer than 180 → D
        ("2026/11/28", "A"),
        ("2026.12.6", "B"),
        ("2026年11月27日", "S"),
    ],
)
def test_timeframe_as_a_plain_date_counts_days_from_the_row(policy, timeframe, grade):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", purchase_timeframe=timeframe)])
    assert grades(inputs, policy) == [grade]


def test_a_date_on_a_follow_up_counts_from_the_follow_ups_own_date(policy):
    inputs = with_calls(fu("2026-11-01 10:00", purchase_timeframe="2026-11-08"))  # 7 days, not 99 from 08-01
    assert grades(inputs, policy) == ["S"]


@pytest.mark.parametrize(
    ("row", "grade"),
    [
        ({"grade": "C", "purchase_timeframe": "1周内"}, "C"),
        ({"grade": "S", "purchase_timeframe": "半年内"}, "S"),
        ({"grade": "b级", "purchase_timeframe": "1周内"}, "B"),
    ],
)
def test_typed_grade_beats_timeframe_on_the_lead_row(policy, row, grade):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", **row)])
    assert grades(inputs, policy) == [grade]


def test_typed_grade_beats_timeframe_on_a_follow_up_row(policy):
    inputs = with_calls(fu("2026-11-01 10:00", grade="D", purchase_timeframe="1周内"), grade="S")
    assert grades(inputs, policy) == ["D"]


@pytest.mark.parametrize(
    ("call", "grade"),
    [
        ({"grade": "A"}, "A"),
        ({"purchase_timeframe": "1周内"}, "S"),  # a newer timeframe beats an older typed grade
        ({}, "D"),  # a follow-up carrying nothing leaves the lead's grade
    ],
)
def test_the_newest_follow_up_carrying_a_value_beats_the_lead_row(policy, call, grade):
    assert grades(with_calls(fu("2026-11-01 10:00", **call), grade="D"), policy) == [grade]


def test_the_newest_follow_up_carrying_a_value_beats_older_ones(policy):
    inputs = with_calls(
        fu("2026-11-10 10:00"),  # newest, carries nothing
        fu("2026-11-01 10:00", grade="B"),
        fu("2026-10-20 10:00", grade="S"),
        grade="D",
    )
    assert grades(inputs, policy) == ["B"]


def unreached(on: str, **kw: str) -> dict:
    return fu(on, outcome="未接通", **kw)


THREE_UNREACHED = (
    unreached("2026-11-01 10:00"),
    unreached("2026-11-02 10:00"),
    unreached("2026-11-03 10:00"),
)


@pytest.mark.parametrize(
    ("lead_kw", "grade"),
    [
        ({"grade": "S"}, "A"),
        ({"grade": "B"}, "C"),
        ({"grade": "C"}, "D"),
        ({"grade": "D"}, "D"),  # D stays D
        ({"purchase_timeframe": "1周内"}, "A"),
        ({}, "D"),  # default C, one lower
    ],
)
def test_three_latest_unreached_lower_one_grade(policy, lead_kw, grade):
    assert grades(with_calls(*THREE_UNREACHED, **lead_kw), policy) == [grade]


def test_demotion_applies_to_a_grade_typed_on_the_latest_unreached_call(policy):
    inputs = with_calls(*THREE_UNREACHED[:2], unreached("2026-11-03 10:00", grade="A"), grade="D")
    assert grades(inputs, policy) == ["B"]


def test_demotion_sets_the_followup_priority(policy):
    worklist = build_worklist(with_calls(*THREE_UNREACHED, grade="B"), policy, AS_OF)  # B → C: every 7 days
    got = worklist.filter(pl.col("task_type") == "followup").select("grade", "priority", "due_date")
    assert got.rows() == [("C", 8, date(2026, 11, 10))]


@pytest.mark.parametrize(
    "calls",
    [
        THREE_UNREACHED[1:],  # only two
        (unreached("2026-11-01 10:00"), fu("2026-11-02 10:00"), unreached("2026-11-03 10:00")),
        (*THREE_UNREACHED, fu("2026-11-04 10:00")),  # answered last
        (fu("2026-11-04 10:00", outcome="预约到店"), *THREE_UNREACHED),  # file order is not time
    ],
)
def test_no_demotion_unless_the_three_latest_are_all_unreached(policy, calls):
    assert grades(with_calls(*calls, grade="B"), policy) == ["B"]


def test_older_answered_calls_do_not_stop_the_demotion(policy):
    inputs = with_calls(fu("2026-10-31 10:00"), *THREE_UNREACHED, grade="B")
    assert grades(inputs, policy) == ["C"]
