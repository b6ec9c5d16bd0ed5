"""`post_service_revisit` (SPEC §6, §6a): due visited_at + 3 days, priority 6, the order's
service advisor; open until a follow-up dated on/after due, or through due + 7. A
service order whose VIN matches a sale belongs to the sale's customer even with another
phone, and shows the sale's phone (SPEC §4, §6a)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, make_inputs, ro, sale
from transforms.worklist import build_worklist

VIN = "LSVAA234567890123"
SALE_PHONE = "13800138001"
OTHER_PHONE = "13900139002"


def revisits(worklist: pl.DataFrame) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == "post_service_revisit")


def call(on: str, phone: str = SALE_PHONE) -> dict:
    return fu(on, lead_id=None, phone=phone)


@pytest.mark.parametrize(
    ("visited_at", "due", "overdue", "open_until"),
    [
        ("2026-11-20 09:00", date(2026, 11, 23), 0, date(2026, 11, 30)),
        ("2026-11-19 17:30", date(2026, 11, 22), 1, date(2026, 11, 29)),
        ("2026-11-13 09:00", date(2026, 11, 16), 7, date(2026, 11, 23)),  # due + 7 = D: still listed
    ],
)
def test_listed_from_due_through_due_plus_7(policy, visited_at, due, overdue, open_until):
    inputs = make_inputs(service=[ro("R1", visited_at)])
    got = revisits(build_worklist(inputs, policy, AS_OF)).select("due_date", "days_overdue", "open_until")
    assert_frame_equal(
        got, pl.DataFrame({"due_date": [due], "days_overdue": [overdue], "open_until": [open_until]})
    )


@pytest.mark.parametrize(
    "visited_at",
    [
        "2026-11-21 08:00",  # due tomorrow
        "2026-11-12 18:00",  # due 11-15: due + 8 = D
    ],
)
def test_not_listed_before_due_or_after_due_plus_7(policy, visited_at):
    inputs = make_inputs(service=[ro("R1", visited_at)])
    assert revisits(build_worklist(inputs, policy, AS_OF)).is_empty()


@pytest.mark.parametrize("called_on", ["2026-11-22 08:00", "2026-11-23 19:00"])
def test_a_follow_up_on_or_after_due_closes_it(policy, called_on):
    inputs = make_inputs(service=[ro("R1", "2026-11-19 09:00")], followups=[call(called_on)])
    assert revisits(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_a_follow_up_the_day_before_due_does_not_close_it(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-19 09:00")], followups=[call("2026-11-21 18:00")])
    assert revisits(build_worklist(inputs, policy, AS_OF))["due_date"].to_list() == [date(2026, 11, 22)]


def test_one_revisit_per_order_each_closed_by_its_own_due_date(policy):
    inputs = make_inputs(
        service=[ro("R1", "2026-11-19 09:00"), ro("R2", "2026-11-20 09:00")],
        followups=[call("2026-11-22 10:00")],
    )
    assert revisits(build_worklist(inputs, policy, AS_OF))["ref"].to_list() == ["R2"]


def test_row_goes_to_the_orders_service_advisor_with_priority_6(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-20 09:00", service_type="保养")])
    got = revisits(build_worklist(inputs, policy, AS_OF)).select(
        "advisor_id", "phone", "due_date", "days_overdue", "priority", "stage", "ref", "orphaned"
    )
    expected = pl.DataFrame(
        {
            "advisor_id": ["V1"],
            "phone": ["+8613800138001"],
            "due_date": [date(2026, 11, 23)],
            "days_overdue": [0],
            "priority": [6],
            "stage": ["owner"],
            "ref": ["R1"],
            "orphaned": [False],
        }
    )
    assert_frame_equal(got, expected)


def test_an_order_without_advisor_goes_to_the_latest_order_that_names_one(policy):
    inputs = make_inputs(
        service=[ro("R1", "2026-10-01 09:00"), ro("R2", "2026-11-20 09:00", service_advisor_id=None)]
    )
    assert revisits(build_worklist(inputs, policy, AS_OF)).select("ref", "advisor_id").rows() == [
        ("R2", "V1")
    ]


def test_with_no_service_advisor_anywhere_the_seller_serves(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2026-05-01", delivered_at="2026-05-10")],
        service=[ro("R1", "2026-11-20 09:00", service_advisor_id=None)],
    )
    assert revisits(build_worklist(inputs, policy, AS_OF))["advisor_id"].to_list() == ["S1"]


def vin_merged(followups=()):
    return make_inputs(
        sales=[sale("O1", "2026-10-01", phone=SALE_PHONE, vin=VIN, delivered_at="2026-11-22")],
        service=[ro("R1", "2026-11-20 09:00", phone=OTHER_PHONE, vin=VIN.lower(), customer_name="陈太太")],
        followups=followups,
    )


def test_a_vin_matched_order_belongs_to_the_sales_customer_and_shows_its_phone(policy):
    worklist = build_worklist(vin_merged(), policy, AS_OF)
    got = worklist.select("task_type", "customer_name", "phone").sort("task_type")
    expected = pl.DataFrame(
        {
            "task_type": ["post_delivery_d1", "post_service_revisit"],
            "customer_name": ["陈先生", "陈先生"],
            "phone": ["+8613800138001", "+8613800138001"],
        }
    )
    assert_frame_equal(got, expected)
    assert worklist["customer_id"].n_unique() == 1


def test_a_follow_up_by_the_service_orders_phone_touches_the_merged_customer(policy):
    worklist = build_worklist(vin_merged([call("2026-11-23 10:00", phone=OTHER_PHONE)]), policy, AS_OF)
    assert worklist.is_empty()


def test_another_vin_is_another_customer(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2026-10-01", phone=SALE_PHONE, vin=VIN, delivered_at="2026-11-22")],
        service=[
            ro("R1", "2026-11-20 09:00", phone=OTHER_PHONE, vin="LSVAA234567890124", customer_name="陈太太")
        ],
    )
    got = revisits(build_worklist(inputs, policy, AS_OF)).select("customer_name", "phone", "stage")
    assert got.rows() == [("陈太太", "+8613900139002", "owner")]
