"""`first_contact` (SPEC §6): due created_at + 1 h (S/A), 24 h (B/C), 48 h (D) as a date,
priority 2, the lead's advisor, open until any follow-up is logged; never expires."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.worklist import build_worklist


def first_contacts(worklist: pl.DataFrame) -> pl.DataFrame:
    return worklist.filter(pl.col("task_type") == "first_contact")


@pytest.mark.parametrize(
    ("grade", "created_at", "due", "overdue"),
    [
        ("S", "2026-11-22 22:00", date(2026, 11, 22), 1),
        ("S", "2026-11-22 23:30", date(2026, 11, 23), 0),
        ("A", "2026-11-23 22:59", date(2026, 11, 23), 0),
        ("B", "2026-11-21 23:30", date(2026, 11, 22), 1),
        ("B", "2026-11-22 23:30", date(2026, 11, 23), 0),
        ("C", "2026-11-22 23:59", date(2026, 11, 23), 0),
        ("D", "2026-11-21 00:00", date(2026, 11, 23), 0),
        ("D", "2026-11-21 23:30", date(2026, 11, 23), 0),
        ("D", "2026-11-20 23:30", date(2026, 11, 22), 1),
    ],
)
def test_due_is_created_at_plus_the_grades_hours_as_a_date(policy, grade, created_at, due, overdue):
    inputs = make_inputs(leads=[lead("L1", created_at, grade=grade)])
    got = first_contacts(build_worklist(inputs, policy, AS_OF)).select("due_date", "days_overdue", "grade")
    assert_frame_equal(got, pl.DataFrame({"due_date": [due], "days_overdue": [overdue], "grade": [grade]}))


@pytest.mark.parametrize(
    ("grade", "created_at"),
    [
        ("S", "2026-11-23 23:30"),  # due 11-24 00:30
        ("A", "2026-11-23 23:00"),  # due 11-24 00:00
        ("B", "2026-11-23 00:00"),  # due 11-24 00:00
        ("C", "2026-11-23 10:00"),
        ("D", "2026-11-22 00:00"),  # due 11-24 00:00
    ],
)
def test_due_tomorrow_is_not_listed(policy, grade, created_at):
    inputs = make_inputs(leads=[lead("L1", created_at, grade=grade)])
    assert first_contacts(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_listed_row_priority_2_for_the_leads_advisor(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-22 23:30", grade="B")])
    got = first_contacts(build_worklist(inputs, policy, AS_OF)).select(
        "as_of",
        "advisor_id",
        "store",
        "customer_name",
        "phone",
        "due_date",
        "days_overdue",
        "priority",
        "grade",
        "stage",
        "ref",
        "lead_id",
        "orphaned",
    )
    expected = pl.DataFrame(
        {
            "as_of": [date(2026, 11, 23)],
            "advisor_id": ["S1"],
            "store": ["浦东店"],
            "customer_name": ["陈先生"],
            "phone": ["+8613800138001"],
            "due_date": [date(2026, 11, 23)],
            "days_overdue": [0],
            "priority": [2],
            "grade": ["B"],
            "stage": ["lead"],
            "ref": ["L1"],
            "lead_id": ["L1"],
            "orphaned": [False],
        }
    )
    assert_frame_equal(got, expected)


def test_never_expires_while_nobody_calls(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-09-01 10:00", grade="B")])
    got = first_contacts(build_worklist(inputs, policy, AS_OF)).select("due_date", "days_overdue")
    assert got.rows() == [(date(2026, 9, 2), 82)]


@pytest.mark.parametrize(
    "contacted_at",
    [
        "2026-11-20 10:30",  # before the due date: any follow-up closes it
        "2026-11-21 09:00",  # on the due date
        "2026-11-23 23:59",  # late, on D itself: rows dated on D count
    ],
)
def test_any_follow_up_closes_it(policy, contacted_at):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-20 10:00", grade="C")],
        followups=[fu(contacted_at, "L1", outcome="未接通")],
    )
    assert first_contacts(build_worklist(inputs, policy, AS_OF)).is_empty()


def test_a_follow_up_dated_after_the_as_of_date_does_not_close_it(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-20 10:00", grade="C")], followups=[fu("2026-11-24 09:00", "L1")]
    )
    got = first_contacts(build_worklist(inputs, policy, AS_OF)).select("ref", "due_date")
    assert got.rows() == [("L1", date(2026, 11, 21))]


def test_a_lead_with_no_follow_up_gets_first_contact_only(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-01 10:00", grade="S")])
    assert build_worklist(inputs, policy, AS_OF)["task_type"].to_list() == ["first_contact"]


@pytest.mark.parametrize(("status", "stage"), [("意向", "intent"), ("谈判", "negotiating"), ("线索", "lead")])
def test_open_pipeline_stages_get_it(policy, status, stage):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", status=status)])
    assert first_contacts(build_worklist(inputs, policy, AS_OF))["stage"].to_list() == [stage]


@pytest.mark.parametrize("status", ["战败", "成交"])
def test_lost_or_won_leads_get_none(policy, status):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", status=status)])
    assert build_worklist(inputs, policy, AS_OF).is_empty()


def test_a_follow_up_naming_the_phone_closes_the_customers_latest_lead_only(policy):
    inputs = make_inputs(
        leads=[lead("L2", "2026-11-20 10:00", grade="S"), lead("L1", "2026-11-10 10:00")],  # file order ≠ age
        followups=[fu("2026-11-21 10:00", lead_id=None, phone="+86 138-0013-8001")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    assert first_contacts(worklist)["ref"].to_list() == ["L1"]
    assert worklist.filter(pl.col("task_type") == "followup")["ref"].to_list() == ["L2"]


def test_a_follow_up_naming_another_lead_does_not_close_it(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-10 10:00"), lead("L2", "2026-11-20 10:00")],
        followups=[fu("2026-11-21 10:00", "L1")],
    )
    assert first_contacts(build_worklist(inputs, policy, AS_OF))["ref"].to_list() == ["L2"]


def test_a_phone_follow_up_counts_for_the_latest_lead_at_the_time_of_the_call(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00"), lead("L2", "2026-11-20 10:00")],
        followups=[fu("2026-11-05 10:00", lead_id=None, phone="13800138001")],  # L2 did not exist yet
    )
    got = build_worklist(inputs, policy, AS_OF).select("task_type", "ref", "due_date").sort("task_type")
    assert got.rows() == [("first_contact", "L2", date(2026, 11, 21)), ("followup", "L1", date(2026, 11, 12))]


def test_a_phone_call_logged_before_the_lead_was_entered_counts_for_it(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-19 10:00")],
        followups=[fu("2026-11-19 09:30", lead_id=None, phone="13800138001")],
    )
    assert first_contacts(build_worklist(inputs, policy, AS_OF)).is_empty()
