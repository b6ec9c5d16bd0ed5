"""Every date an advisor reads in a why says its year when it is not the as-of's year: a visit 386 days ago is
`2025-10-30`, not `10-30` (which reads as three weeks ago); a date of this year keeps the short `11-28`."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.conftest import fu, lead, make_inputs, ro, sale
from transforms.worklist import build_worklist

AS_OF = date(2026, 11, 20)


def why(worklist: pl.DataFrame, task_type: str) -> str:
    return worklist.filter(pl.col("task_type") == task_type)["reason"].item()


def test_a_complaint_from_last_year_says_its_year(policy):
    inputs = make_inputs(service=[ro("R1", "2025-10-30 09:00", csat="55")])
    assert why(build_worklist(inputs, policy, AS_OF), "complaint").startswith("2025-10-30 进厂（工单 R1）满意度 55 分")


def test_a_complaint_of_this_year_keeps_month_and_day(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-18 09:00", csat="55")])
    assert why(build_worklist(inputs, policy, AS_OF), "complaint").startswith("11-18 进厂")


def test_a_lead_left_last_year_says_its_year_and_time(policy):
    inputs = make_inputs(leads=[lead("L1", "2025-07-13 19:12", source="车展")])
    assert why(build_worklist(inputs, policy, AS_OF), "first_contact").startswith("车展 2025-07-13 19:12 留资")


def test_a_follow_up_last_year_says_its_year(policy):
    inputs = make_inputs(leads=[lead("L1", "2025-12-01 10:00")], followups=[fu("2025-12-28 10:00", outcome="已接通")])
    assert "上次 2025-12-28 已接通" in why(build_worklist(inputs, policy, AS_OF), "followup")


def test_an_owner_win_back_two_years_on_says_the_year_of_the_visit(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2023-03-01", delivered_at="2023-03-10")],
        service=[ro("R1", "2024-09-05 09:00", service_type="保养")],
    )
    assert why(build_worklist(inputs, policy, AS_OF), "win_back").startswith("上次进厂 2024-09-05")
