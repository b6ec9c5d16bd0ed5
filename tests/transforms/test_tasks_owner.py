"""Tasks of buyers and owners (SPEC §6, §6a): `delivery_confirm`, `first_maintenance`, `care_call` / `win_back`,
`trade_in`, `birthday`, `anniversary`. D = 2026-11-23 (a Monday); expected dates worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.worklist import build_worklist


def task(worklist: pl.DataFrame, task_type: str) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == task_type)


def listed(inputs, policy, task_type: str, as_of: date = AS_OF) -> list[tuple]:
    got = task(build_worklist(inputs, policy, as_of), task_type)
    return got.select("advisor_id", "due_date", "days_overdue", "priority").rows()


def call(on: str) -> dict:
    return fu(on, lead_id=None, phone="13800138001")


# ---- delivery_confirm: planned_delivery_at − 1 day while not delivered, selling advisor, priority 3


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        ("2026-11-24 10:00", [("S1", date(2026, 11, 23), 0, 3)]),  # due today
        ("2026-11-25", []),  # due tomorrow
        ("2026-11-20", [("S1", date(2026, 11, 19), 4, 3)]),  # planned day passed, still not delivered
    ],
)
def test_delivery_confirm_the_day_before_the_planned_delivery(policy, planned, expected):
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", planned_delivery_at=planned)])
    assert listed(inputs, policy, "delivery_confirm") == expected


@pytest.mark.parametrize(
    "kw",
    [
        {"planned_delivery_at": "2026-11-24", "delivered_at": "2026-11-22"},  # delivered
        {"planned_delivery_at": "2026-11-24", "status": "已退订"},  # cancelled
        {},  # no planned date
    ],
)
def test_no_delivery_confirm(policy, kw):
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", **kw)])
    assert listed(inputs, policy, "delivery_confirm") == []


def test_delivery_confirm_reason_and_ref(policy):
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", planned_delivery_at="2026-11-24", model="朗逸")])
    got = task(build_worklist(inputs, policy, AS_OF), "delivery_confirm")
    assert got.select("ref", "stage", "reason").rows() == [
        ("O1", "won", "朗逸 计划 11-24 交车，确认时间和证件")
    ]


# ---- first_maintenance: delivered_at + 150 days while no 首保 order, service advisor, priority 6


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        ("2026-06-26", [("S1", date(2026, 11, 23), 0, 6)]),
        ("2026-06-27", []),  # due 11-24
        ("2026-06-25", [("S1", date(2026, 11, 22), 1, 6)]),
    ],
)
def test_first_maintenance_150_days_after_delivery(policy, delivered_at, expected):
    inputs = make_inputs(sales=[sale("O1", "2026-06-01", delivered_at=delivered_at)])
    assert listed(inputs, policy, "first_maintenance") == expected


def test_first_maintenance_goes_to_the_service_advisor(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2026-06-01", delivered_at="2026-06-26")],
        service=[ro("R1", "2026-08-01 09:00", service_type="维修")],
    )
    assert listed(inputs, policy, "first_maintenance") == [("V1", date(2026, 11, 23), 0, 6)]


def test_a_first_maintenance_order_closes_it(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2026-06-01", delivered_at="2026-06-25")],
        service=[ro("R1", "2026-11-23 09:00", service_type="首保")],
    )
    assert listed(inputs, policy, "first_maintenance") == []


def test_no_first_maintenance_anniversary_or_trade_in_for_service_only_customers(policy):
    inputs = make_inputs(service=[ro("R1", "2023-06-25 09:00", service_type="维修")])
    types = set(build_worklist(inputs, policy, AS_OF)["task_type"])
    assert types == {"win_back"}


# ---- care_call / win_back: owners only, never together


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        ("2026-08-25", [("S1", date(2026, 11, 23), 0, 8)]),  # D − 90: an owner, care call due today
        ("2026-08-26", []),  # 89 days: still won, no care call
    ],
)
def test_care_call_at_delivery_plus_90_for_a_never_serviced_owner(policy, delivered_at, expected):
    inputs = make_inputs(sales=[sale("O1", "2026-08-01", delivered_at=delivered_at)])
    assert listed(inputs, policy, "care_call") == expected


@pytest.mark.parametrize(
    ("visited_at", "expected"),
    [
        ("2026-08-25 10:00", [("V1", date(2026, 11, 23), 0, 8)]),
        ("2026-08-26 10:00", []),
        ("2026-08-24 10:00", [("V1", date(2026, 11, 22), 1, 8)]),
    ],
)
def test_care_call_at_last_service_visit_plus_90(policy, visited_at, expected):
    inputs = make_inputs(
        sales=[sale("O1", "2026-01-01", delivered_at="2026-01-05")], service=[ro("R1", visited_at)]
    )
    assert listed(inputs, policy, "care_call") == expected


@pytest.mark.parametrize(
    ("called_on", "expected"),
    [
        ("2026-08-24 18:00", [("V1", date(2026, 11, 22), 1, 8)]),
        ("2026-08-26 18:00", []),  # a touch moves it to 11-24
    ],
)
def test_a_follow_up_moves_the_care_call(policy, called_on, expected):
    inputs = make_inputs(
        sales=[sale("O1", "2026-01-01", delivered_at="2026-01-05")],
        service=[ro("R1", "2026-06-01 10:00")],
        followups=[call(called_on)],
    )
    assert listed(inputs, policy, "care_call") == expected


@pytest.mark.parametrize(
    ("delivered_at", "care", "win_back"),
    [
        ("2025-11-23", [], [("S1", date(2026, 11, 23), 0, 6)]),  # 365 days: lapsed
        ("2025-11-24", [("S1", date(2026, 2, 22), 274, 8)], []),  # 364 days: still a care call, never dropped
    ],
)
def test_win_back_once_365_days_without_service_never_both(policy, delivered_at, care, win_back):
    inputs = make_inputs(sales=[sale("O1", "2025-11-01", delivered_at=delivered_at)])
    assert listed(inputs, policy, "care_call") == care
    assert listed(inputs, policy, "win_back") == win_back


@pytest.mark.parametrize(
    ("called_on", "expected"),
    [
        ("2026-08-20 10:00", [("V1", date(2026, 11, 18), 5, 6)]),  # 08-20 + 90 = 11-18, later than 06-01
        ("2026-09-01 10:00", []),  # 09-01 + 90 = 11-30
        ("2026-08-25 10:00", [("V1", date(2026, 11, 23), 0, 6)]),  # 08-25 + 90 = 11-23
    ],
)
def test_win_back_due_at_the_later_of_lapse_and_last_follow_up_plus_90(policy, called_on, expected):
    inputs = make_inputs(
        sales=[sale("O1", "2024-05-01", delivered_at="2024-06-01")],
        service=[ro("R1", "2025-06-01 10:00")],  # + 365 = 2026-06-01
        followups=[call(called_on)],
    )
    assert listed(inputs, policy, "win_back") == expected
    assert listed(inputs, policy, "care_call") == []


def test_no_care_call_for_a_won_or_lead_customer(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-01-01 10:00", phone="13800138002")],
        sales=[sale("O1", "2026-01-01")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    assert task(worklist, "care_call").is_empty()
    assert task(worklist, "win_back").is_empty()


# ---- trade_in: delivered_at + 3 calendar years − 30 days, open through due + 60, selling advisor, priority 7


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        ("2023-12-23", [(date(2026, 11, 23), 0, date(2027, 1, 22))]),
        ("2023-12-24", []),  # due 11-24
        ("2023-10-24", [(date(2026, 9, 24), 60, date(2026, 11, 23))]),  # last day of the window
        ("2023-10-23", []),  # window closed 11-22
    ],
)
def test_trade_in_window(policy, delivered_at, expected):
    inputs = make_inputs(sales=[sale("O1", "2023-10-01", delivered_at=delivered_at)])
    got = task(build_worklist(inputs, policy, AS_OF), "trade_in")
    assert got.select("due_date", "days_overdue", "open_until").rows() == expected
    assert set(got["advisor_id"]) <= {"S1"} and set(got["priority"]) <= {7}


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(date(2027, 1, 28), []), (date(2027, 1, 29), [date(2027, 1, 29)])],  # 2027-02-28 − 30
)
def test_trade_in_from_29_february(policy, as_of, expected):
    inputs = make_inputs(sales=[sale("O1", "2024-02-01", delivered_at="2024-02-29")])
    assert task(build_worklist(inputs, policy, as_of), "trade_in")["due_date"].to_list() == expected


# ---- birthday / anniversary: that day only, won and owner customers


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        ("1990-11-23", [("S1", date(2026, 11, 23), 0, 7)]),
        ("1990-11-22", []),  # yesterday: that day only
        ("1990-11-24", []),
    ],
)
def test_birthday_of_a_won_customer_goes_to_the_seller(policy, born, expected):
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", birthday=born)])
    assert listed(inputs, policy, "birthday") == expected


def test_birthday_of_an_owner_goes_to_the_service_advisor(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2025-01-01", delivered_at="2025-01-10", birthday="1985-11-23")],
        service=[ro("R1", "2026-10-01 09:00")],
    )
    assert listed(inputs, policy, "birthday") == [("V1", date(2026, 11, 23), 0, 7)]


def test_no_birthday_for_a_lead(policy):
    inputs = make_inputs(leads=[lead("L1", birthday="1990-11-23")])
    assert listed(inputs, policy, "birthday") == []


def test_the_newest_row_with_a_birthday_wins(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-01-01 10:00", birthday="1990-11-23")],
        sales=[sale("O1", "2026-11-01", birthday="1990-11-24")],
    )
    assert listed(inputs, policy, "birthday") == []
    assert listed(inputs, policy, "birthday", date(2026, 11, 24)) == [("S1", date(2026, 11, 24), 0, 7)]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2027, 2, 28), [date(2027, 2, 28)]),  # no 29 Feb in 2027
        (date(2027, 3, 1), []),
        (date(2028, 2, 28), []),
        (date(2028, 2, 29), [date(2028, 2, 29)]),
    ],
)
def test_birthday_on_29_february(policy, as_of, expected):
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", birthday="1992-02-29")])
    assert task(build_worklist(inputs, policy, as_of), "birthday")["due_date"].to_list() == expected


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        ("2025-11-23", [("S1", date(2026, 11, 23), 0, 7)]),  # first anniversary
        ("2024-11-23", [("S1", date(2026, 11, 23), 0, 7)]),
        ("2025-11-22", []),
        ("2026-11-23", []),  # delivered today: not an anniversary
    ],
)
def test_anniversary(policy, delivered_at, expected):
    inputs = make_inputs(sales=[sale("O1", delivered_at[:10], delivered_at=delivered_at)])
    assert listed(inputs, policy, "anniversary") == expected


def test_anniversary_of_a_29_february_delivery(policy):
    inputs = make_inputs(sales=[sale("O1", "2024-02-01", delivered_at="2024-02-29")])
    assert listed(inputs, policy, "anniversary", date(2026, 2, 28)) == [("S1", date(2026, 2, 28), 0, 7)]
    assert listed(inputs, policy, "anniversary", date(2026, 3, 1)) == []


def test_do_not_contact_owner_gets_none_of_them(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2023-10-01 10:00", do_not_contact="是", birthday="1990-11-23")],
        sales=[sale("O1", "2023-11-01", lead_id="L1", delivered_at="2023-11-23", birthday="1990-11-23")],
    )
    assert build_worklist(inputs, policy, AS_OF).is_empty()


def test_owner_tasks_in_the_worklist_shape(policy):
    inputs = make_inputs(sales=[sale("O1", "2025-11-01", delivered_at="2025-11-23", model="朗逸")])
    got = build_worklist(inputs, policy, AS_OF).select("task_type", "advisor_id", "priority", "stage", "open_until")
    expected = pl.DataFrame(
        {
            "task_type": ["first_maintenance", "win_back", "anniversary"],  # 首保 due 2026-04-22, still open
            "advisor_id": ["S1", "S1", "S1"],
            "priority": [6, 6, 7],
            "stage": ["owner", "owner", "owner"],
            "open_until": [None, None, date(2026, 11, 23)],
        }
    )
    assert_frame_equal(got, expected)


def test_win_back_without_a_touch_stays_listed(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2024-05-01", delivered_at="2024-06-01")], service=[ro("R1", "2025-06-01 10:00")]
    )
    assert listed(inputs, policy, "win_back") == [("V1", date(2026, 6, 1), 175, 6)]
