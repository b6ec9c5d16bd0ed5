"""`post_delivery_d1/_d3/_d7/_d30` (SPEC §6, §6a): due delivered_at + 1, 3, 7, 30 days,
priority 4, the selling advisor; open until a follow-up dated on/after the due date, or
through due + 7 (listed on due+7, gone on due+8)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, lead, make_inputs, sale
from transforms.worklist import build_worklist


def task(worklist: pl.DataFrame, task_type: str) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == task_type)


def delivered(on: str, followups=(), **kw: str):
    return make_inputs(sales=[sale("O1", "2026-08-01", delivered_at=on, **kw)], followups=followups)


def call(on: str) -> dict:
    return fu(on, lead_id=None, phone="13800138001")


@pytest.mark.parametrize(
    ("task_type", "delivered_at", "due", "overdue", "open_until"),
    [
        ("post_delivery_d1", "2026-11-22", date(2026, 11, 23), 0, date(2026, 11, 30)),
        ("post_delivery_d1", "2026-11-21", date(2026, 11, 22), 1, date(2026, 11, 29)),
        ("post_delivery_d1", "2026-11-15", date(2026, 11, 16), 7, date(2026, 11, 23)),  # due + 7 = D: listed
        ("post_delivery_d3", "2026-11-20", date(2026, 11, 23), 0, date(2026, 11, 30)),
        ("post_delivery_d3", "2026-11-19", date(2026, 11, 22), 1, date(2026, 11, 29)),
        ("post_delivery_d3", "2026-11-13", date(2026, 11, 16), 7, date(2026, 11, 23)),
        ("post_delivery_d7", "2026-11-16", date(2026, 11, 23), 0, date(2026, 11, 30)),
        ("post_delivery_d7", "2026-11-15", date(2026, 11, 22), 1, date(2026, 11, 29)),
        ("post_delivery_d7", "2026-11-09", date(2026, 11, 16), 7, date(2026, 11, 23)),
        ("post_delivery_d30", "2026-10-24", date(2026, 11, 23), 0, date(2026, 11, 30)),
        ("post_delivery_d30", "2026-10-23", date(2026, 11, 22), 1, date(2026, 11, 29)),
        ("post_delivery_d30", "2026-10-17", date(2026, 11, 16), 7, date(2026, 11, 23)),
    ],
)
def test_listed_from_due_through_due_plus_7(policy, task_type, delivered_at, due, overdue, open_until):
    got = task(build_worklist(delivered(delivered_at), policy, AS_OF), task_type).select(
        "due_date", "days_overdue", "open_until"
    )
    expected = pl.DataFrame({"due_date": [due], "days_overdue": [overdue], "open_until": [open_until]})
    assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    ("task_type", "delivered_at"),
    [
        ("post_delivery_d1", "2026-11-23 16:00"),  # due tomorrow
        ("post_delivery_d1", "2026-11-14"),  # due + 8 = D
        ("post_delivery_d3", "2026-11-21"),
        ("post_delivery_d3", "2026-11-12"),
        ("post_delivery_d7", "2026-11-17"),
        ("post_delivery_d7", "2026-11-08"),
        ("post_delivery_d30", "2026-10-25"),
        ("post_delivery_d30", "2026-10-16"),
    ],
)
def test_not_listed_before_due_or_after_due_plus_7(policy, task_type, delivered_at):
    assert task(build_worklist(delivered(delivered_at), policy, AS_OF), task_type).is_empty()


@pytest.mark.parametrize(
    ("task_type", "delivered_at", "called_on"),
    [
        ("post_delivery_d1", "2026-11-21", "2026-11-22 09:00"),  # due 11-22
        ("post_delivery_d3", "2026-11-19", "2026-11-22 09:00"),
        ("post_delivery_d7", "2026-11-15", "2026-11-22 09:00"),
        ("post_delivery_d30", "2026-10-23", "2026-11-22 09:00"),
        ("post_delivery_d1", "2026-11-21", "2026-11-23 20:00"),  # after due
    ],
)
def test_a_follow_up_on_or_after_due_closes_it(policy, task_type, delivered_at, called_on):
    inputs = delivered(delivered_at, followups=[call(called_on)])
    assert task(build_worklist(inputs, policy, AS_OF), task_type).is_empty()


@pytest.mark.parametrize(
    ("task_type", "delivered_at", "called_on"),
    [
        ("post_delivery_d1", "2026-11-21", "2026-11-21 23:59"),  # the day before due 11-22
        ("post_delivery_d3", "2026-11-19", "2026-11-21 10:00"),
        ("post_delivery_d7", "2026-11-15", "2026-11-21 10:00"),
        ("post_delivery_d30", "2026-10-23", "2026-11-21 10:00"),
    ],
)
def test_a_follow_up_the_day_before_due_does_not_close_it(policy, task_type, delivered_at, called_on):
    inputs = delivered(delivered_at, followups=[call(called_on)])
    assert task(build_worklist(inputs, policy, AS_OF), task_type)["due_date"].to_list() == [
        date(2026, 11, 22)
    ]


def test_a_call_closing_d1_leaves_d3_open(policy):
    inputs = delivered("2026-11-20", followups=[call("2026-11-21 10:00")])  # d1 due 11-21, d3 due 11-23
    assert build_worklist(inputs, policy, AS_OF)["task_type"].to_list() == ["post_delivery_d3"]


def test_a_follow_up_naming_the_customers_lead_is_a_touch(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-07-01 10:00")],
        sales=[sale("O1", "2026-08-01", lead_id="L1", delivered_at="2026-11-21")],
        followups=[fu("2026-11-22 10:00", "L1")],
    )
    assert task(build_worklist(inputs, policy, AS_OF), "post_delivery_d1").is_empty()


def test_row_goes_to_the_selling_advisor_with_priority_4(policy):
    inputs = delivered("2026-11-22", model="朗逸")
    got = task(build_worklist(inputs, policy, AS_OF), "post_delivery_d1").select(
        "advisor_id", "phone", "due_date", "days_overdue", "priority", "stage", "ref", "orphaned"
    )
    expected = pl.DataFrame(
        {
            "advisor_id": ["S1"],
            "phone": ["+8613800138001"],
            "due_date": [date(2026, 11, 23)],
            "days_overdue": [0],
            "priority": [4],
            "stage": ["won"],
            "ref": ["O1"],
            "orphaned": [False],
        }
    )
    assert_frame_equal(got, expected)


def test_a_departed_sellers_call_goes_to_the_manager(policy):
    inputs = make_inputs(sales=[sale("O1", "2026-08-01", delivered_at="2026-11-22", advisor_id="S2")])
    got = task(build_worklist(inputs, policy, AS_OF), "post_delivery_d1")
    assert got.select("advisor_id", "orphaned", "original_advisor_id").rows() == [("M1", True, "S2")]


def test_delivered_at_counts_whatever_the_status_text(policy):
    inputs = delivered("2026-11-22", status="已退订")
    assert task(build_worklist(inputs, policy, AS_OF), "post_delivery_d1")["ref"].to_list() == ["O1"]


def test_no_delivery_date_no_calls(policy):
    inputs = make_inputs(sales=[sale("O1", "2026-08-01", status="已交车")])
    assert build_worklist(inputs, policy, AS_OF).is_empty()
