"""`complaint` (SPEC §6, §6a): a service order with complaint = yes, a complaint text, or
csat < 60 (< 3 on the 1–5 scale, read per value); due its visit date, priority 1, the
advisor of the order that carries it; open until a follow-up dated on or after the visit
date; never expires; the one task a do_not_contact customer still gets."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import ADVISORS, AS_OF, fu, lead, make_inputs, ro
from transforms.worklist import build_worklist

ROSTER = [
    *ADVISORS,
    {"advisor_id": "V2", "name": "钱七", "store": "浦东店", "role": "服务顾问", "active": "是"},
]


def complaints(worklist: pl.DataFrame) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == "complaint")


def call(on: str) -> dict:
    return fu(on, lead_id=None, phone="13800138001")


@pytest.mark.parametrize(
    "order",
    [
        {"csat": "2"},
        {"csat": "2.5"},  # 1–5 scale: below 3
        {"csat": "59"},
        {"csat": "59.5"},  # 0–100 scale: below 60
        {"complaint": "是"},
        {"complaint": "Y"},
        {"complaint": "否", "csat": "1"},
        {"complaint_text": "空调异响没修好"},
    ],
)
def test_a_complaint_or_low_csat_makes_one(policy, order):
    inputs = make_inputs(service=[ro("R1", "2026-11-22 09:00", **order)])
    assert complaints(build_worklist(inputs, policy, AS_OF))["ref"].to_list() == ["R1"]


@pytest.mark.parametrize(
    "order",
    [
        {},
        {"csat": "3"},
        {"csat": "5"},
        {"csat": "60"},
        {"csat": "100"},
        {"complaint": "否"},
        {"complaint_text": "  "},
    ],
)
def test_a_satisfied_customer_makes_none(policy, order):
    inputs = make_inputs(service=[ro("R1", "2026-11-22 09:00", **order)])
    assert complaints(build_worklist(inputs, policy, AS_OF)).is_empty()


@pytest.mark.parametrize(
    ("visited_at", "due", "overdue"),
    [
        ("2026-11-23 08:00", date(2026, 11, 23), 0),
        ("2026-11-22 17:00", date(2026, 11, 22), 1),
        ("2026-09-01 09:00", date(2026, 9, 1), 83),  # never expires
    ],
)
def test_due_on_the_visit_date(policy, visited_at, due, overdue):
    inputs = make_inputs(service=[ro("R1", visited_at, csat="2")])
    got = complaints(build_worklist(inputs, policy, AS_OF)).select("due_date", "days_overdue", "open_until")
    expected = pl.DataFrame(
        {"due_date": [due], "days_overdue": [overdue], "open_until": [None]},
        schema={"due_date": pl.Date, "days_overdue": pl.Int64, "open_until": pl.Date},
    )
    assert_frame_equal(got, expected)


def test_a_visit_after_the_as_of_date_is_not_known_yet(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-24 08:00", csat="1")])
    assert complaints(build_worklist(inputs, policy, AS_OF)).is_empty()


@pytest.mark.parametrize(
    "called_on",
    [
        "2026-11-20 08:00",  # same date, before the visit's time: dates are compared (SPEC §6a)
        "2026-11-20 18:00",
        "2026-11-21 10:00",
    ],
)
def test_a_follow_up_on_or_after_the_visit_date_closes_it(policy, called_on):
    inputs = make_inputs(service=[ro("R1", "2026-11-20 09:00", csat="2")], followups=[call(called_on)])
    assert complaints(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_a_follow_up_the_day_before_the_visit_does_not_close_it(policy):
    inputs = make_inputs(
        service=[ro("R1", "2026-11-20 09:00", csat="2")], followups=[call("2026-11-19 18:00")]
    )
    assert complaints(build_worklist(inputs, policy, AS_OF))["due_date"].to_list() == [date(2026, 11, 20)]


def test_priority_1_for_the_orders_advisor_and_first_on_the_list(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-10 10:00", phone="13700137003")],
        service=[ro("R1", "2026-11-22 09:00", complaint="是")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    assert worklist["task_type"].to_list() == ["complaint", "first_contact"]
    got = complaints(worklist).select(
        "advisor_id", "due_date", "days_overdue", "priority", "stage", "ref", "orphaned"
    )
    expected = pl.DataFrame(
        {
            "advisor_id": ["V1"],
            "due_date": [date(2026, 11, 22)],
            "days_overdue": [1],
            "priority": [1],
            "stage": ["owner"],
            "ref": ["R1"],
            "orphaned": [False],
        }
    )
    assert_frame_equal(got, expected)


def test_goes_to_the_advisor_of_the_order_that_carries_it(policy):
    inputs = make_inputs(
        service=[
            ro("R1", "2026-11-18 09:00", csat="40"),
            ro("R2", "2026-11-20 09:00", service_advisor_id="V2"),
        ],
        advisors=ROSTER,
    )
    assert complaints(build_worklist(inputs, policy, AS_OF)).select("ref", "advisor_id").rows() == [
        ("R1", "V1")
    ]


def test_a_do_not_contact_customer_still_gets_the_complaint_only(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-20 10:00", do_not_contact="是")],
        service=[ro("R1", "2026-11-20 09:00", csat="1")],
    )
    assert build_worklist(inputs, policy, AS_OF)["task_type"].to_list() == ["complaint"]
