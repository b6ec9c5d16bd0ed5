"""Closed days and opening hours (SPEC §6, §6a): a due date on a closed day moves to the next open day, every
task, birthdays included; with store hours set, a lead arriving after closing is measured from the next opening.
2026-11-23 is a Monday."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import polars as pl
import pytest

from policy.model import Calendar, Hours, Policy, load_policy
from tests.conftest import AS_OF, lead, make_inputs, sale
from transforms.worklist import build_worklist


def with_calendar(policy: Policy, **kw) -> Policy:
    return policy.model_copy(update={"calendar": Calendar.model_validate(kw)})


def due_dates(inputs, policy: Policy, task_type: str, as_of: date) -> list[tuple]:
    got = build_worklist(inputs, policy, as_of).filter(pl.col("task_type") == task_type)
    return got.select("due_date", "days_overdue").rows()


def confirm(planned: str):
    return make_inputs(sales=[sale("O1", "2026-10-01", planned_delivery_at=planned)])


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 11, 22), []),  # Sunday: due is Monday 11-23, closed → Tuesday
        (date(2026, 11, 23), []),
        (date(2026, 11, 24), [(date(2026, 11, 24), 0)]),
        (date(2026, 11, 25), [(date(2026, 11, 24), 1)]),
    ],
)
def test_a_due_date_on_a_closed_weekday_moves_to_the_next_open_day(policy, as_of, expected):
    closed_mondays = with_calendar(policy, closed_weekdays=[1])
    assert due_dates(confirm("2026-11-24"), closed_mondays, "delivery_confirm", as_of) == expected


def test_an_open_day_stays(policy):
    closed_mondays = with_calendar(policy, closed_weekdays=[1])
    assert due_dates(confirm("2026-11-23"), closed_mondays, "delivery_confirm", date(2026, 11, 22)) == [
        (date(2026, 11, 22), 0)  # Sunday, the last open day before the closed Monday
    ]


def test_no_calendar_no_move(policy):
    assert due_dates(confirm("2026-11-24"), policy, "delivery_confirm", AS_OF) == [(date(2026, 11, 23), 0)]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 11, 23), []),
        (date(2026, 11, 24), [(date(2026, 11, 24), date(2026, 11, 24))]),  # that (moved) day only
        (date(2026, 11, 25), []),
    ],
)
def test_a_birthday_on_a_closed_day_moves_too(policy, as_of, expected):
    closed_mondays = with_calendar(policy, closed_weekdays=[1])
    inputs = make_inputs(sales=[sale("O1", "2026-11-01", birthday="1990-11-23")])
    got = build_worklist(inputs, closed_mondays, as_of).filter(pl.col("task_type") == "birthday")
    assert got.select("due_date", "open_until").rows() == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 10, 4), []),  # Oct 5–7 are holidays in the CN calendar
        (date(2026, 10, 7), []),
        (date(2026, 10, 8), [(date(2026, 10, 8), 0)]),
    ],
)
def test_cn_public_holidays_move_due_dates(policy, as_of, expected):
    cn = with_calendar(policy, public_holidays="CN")
    assert due_dates(confirm("2026-10-06"), cn, "delivery_confirm", as_of) == expected  # due 10-05


def test_a_holiday_run_followed_by_a_closed_weekday(policy):
    # closed Sundays and 11-20 … 11-21 (Fri, Sat) → a due date of 11-20 moves past Sunday to Monday 11-23
    cal = with_calendar(policy, closed_weekdays=[7], closed_dates=["2026-11-20", "2026-11-21"])
    assert due_dates(confirm("2026-11-21"), cal, "delivery_confirm", AS_OF) == [(date(2026, 11, 23), 0)]


def test_calendar_from_a_policy_file(tmp_path: Path):
    text = Path("policy/default.toml").read_text(encoding="utf-8")
    text = text.replace('public_holidays = "none"', 'public_holidays = "CN"')
    path = tmp_path / "cn.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_policy(path)
    assert date(2026, 10, 1) in loaded.calendar.closed_dates
    assert date(2026, 10, 4) not in loaded.calendar.closed_dates  # a Sunday: not a listed holiday
    assert date(2026, 11, 23) not in loaded.calendar.closed_dates


# ---- opening hours for first_contact


def with_hours(policy: Policy) -> Policy:
    return policy.model_copy(update={"hours": Hours(open=time(9), close=time(21))})


@pytest.mark.parametrize(
    ("created_at", "grade", "hours_on", "expected_due"),
    [
        ("2026-11-21 23:30", "B", False, date(2026, 11, 22)),  # 23:30 + 24 h
        ("2026-11-21 23:30", "B", True, date(2026, 11, 23)),  # next opening 11-22 09:00 + 24 h
        ("2026-11-22 23:30", "S", False, date(2026, 11, 23)),  # 23:30 + 1 h = 00:30 next day
        ("2026-11-22 23:30", "S", True, date(2026, 11, 23)),  # 11-23 09:00 + 1 h
        ("2026-11-22 20:30", "B", True, date(2026, 11, 23)),  # inside hours: 20:30 + 24 h
        ("2026-11-22 21:00", "B", True, date(2026, 11, 23)),  # at closing: still inside
        ("2026-11-22 21:01", "B", True, None),  # after closing: 11-23 09:00 + 24 h = 11-24
        ("2026-11-22 07:00", "B", True, date(2026, 11, 23)),  # before opening: 09:00 + 24 h
    ],
)
def test_first_contact_measured_from_the_next_opening(policy, created_at, grade, hours_on, expected_due):
    inputs = make_inputs(leads=[lead("L1", created_at, grade=grade)])
    used = with_hours(policy) if hours_on else policy
    got = build_worklist(inputs, used, AS_OF).filter(pl.col("task_type") == "first_contact")
    assert got["due_date"].to_list() == ([] if expected_due is None else [expected_due])


def test_hours_from_a_policy_file(tmp_path: Path):
    text = Path("policy/default.toml").read_text(encoding="utf-8")
    text = text.replace('# [hours]\n# open = "09:00"\n# close = "21:00"', '[hours]\nopen = "09:00"\nclose = "21:00"')
    path = tmp_path / "hours.toml"
    path.write_text(text, encoding="utf-8")
    assert load_policy(path).hours == Hours(open=time(9), close=time(21))
