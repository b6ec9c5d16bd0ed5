"""Stages (SPEC §5, §6a), first match wins: owner (delivered ≥ 90 days before D) → won (an
order not 已退订, dated ≤ D) → lost (status 战败 or last outcome 战败) → dormant (last outcome
暂不考虑) → negotiating (status 谈判, or 已到店/已试驾/已报价 with D − date ≤ 14) → intent (status 意向)
→ lead. Won, owner and lost leads get no pipeline task; dormant ones a followup every 30
days."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.worklist import build_worklist


def pipeline(inputs, policy) -> list[tuple]:
    """(task_type, stage, due_date, priority) of the L1 lead's pipeline tasks."""
    worklist = build_worklist(inputs, policy, AS_OF)
    return (
        worklist.filter(pl.col("lead_id") == "L1").select("task_type", "stage", "due_date", "priority").rows()
    )


def with_calls(*calls: dict, **lead_kw: str):
    return make_inputs(leads=[lead("L1", "2026-08-01 10:00", grade="C", **lead_kw)], followups=list(calls))


@pytest.mark.parametrize("outcome", ["已到店", "已试驾", "已报价"])
def test_a_visit_exactly_14_days_ago_makes_negotiating(policy, outcome):
    inputs = with_calls(fu("2026-11-09 23:59", outcome=outcome))
    assert pipeline(inputs, policy) == [("followup", "negotiating", date(2026, 11, 10), 3)]


@pytest.mark.parametrize("outcome", ["已到店", "已试驾", "已报价"])
def test_a_visit_15_days_ago_does_not(policy, outcome):
    inputs = with_calls(fu("2026-11-08 00:00", outcome=outcome))
    assert pipeline(inputs, policy) == [("followup", "lead", date(2026, 11, 15), 8)]


def test_the_visit_need_not_be_the_last_outcome(policy):
    inputs = with_calls(fu("2026-11-09 10:00", outcome="已到店"), fu("2026-11-20 10:00", outcome="已接通"))
    assert pipeline(inputs, policy) == [("followup", "negotiating", date(2026, 11, 21), 3)]


@pytest.mark.parametrize(("status", "stage"), [("谈判", "negotiating"), ("意向", "intent"), ("线索", "lead")])
def test_stage_from_the_lead_status(policy, status, stage):
    inputs = with_calls(fu("2026-11-01 10:00"), status=status)
    assert [row[1] for row in pipeline(inputs, policy)] == [stage]


@pytest.mark.parametrize(
    ("calls", "status"),
    [
        ((fu("2026-11-01 10:00"),), "战败"),
        ((fu("2026-11-01 10:00", outcome="战败"),), None),
        (
            (fu("2026-11-15 10:00", outcome="已试驾"), fu("2026-11-20 10:00", outcome="战败")),
            "谈判",
        ),  # beats negotiating
    ],
)
def test_lost_leads_get_no_task(policy, calls, status):
    inputs = with_calls(*calls, **({"status": status} if status else {}))
    assert build_worklist(inputs, policy, AS_OF).is_empty()


def test_only_the_last_outcome_makes_lost(policy):
    inputs = with_calls(fu("2026-11-01 10:00", outcome="战败"), fu("2026-11-10 10:00", outcome="已接通"))
    assert pipeline(inputs, policy) == [("followup", "lead", date(2026, 11, 17), 8)]


def test_last_outcome_dormant_beats_a_negotiating_status(policy):
    inputs = with_calls(fu("2026-10-20 10:00", outcome="暂不考虑"), status="谈判")
    assert pipeline(inputs, policy) == [("followup", "dormant", date(2026, 11, 19), 9)]


def test_a_later_answered_call_wakes_a_dormant_lead(policy):
    inputs = with_calls(fu("2026-09-01 10:00", outcome="暂不考虑"), fu("2026-11-10 10:00", outcome="已接通"))
    assert pipeline(inputs, policy) == [("followup", "lead", date(2026, 11, 17), 8)]


@pytest.mark.parametrize(
    "order",
    [
        sale("O1", "2026-11-20", lead_id="L1"),
        sale("O1", "2026-11-20"),  # by phone: the customer's latest lead created before the order
        sale("O1", "2026-11-20 10:00", lead_id="L1", status="已订车"),
    ],
)
def test_a_live_order_makes_won_no_pipeline_task(policy, order):
    inputs = make_inputs(
        leads=[lead("L1", "2026-08-01 10:00")], followups=[fu("2026-11-01 10:00")], sales=[order]
    )
    assert build_worklist(inputs, policy, AS_OF).is_empty()


def test_a_lead_status_won_gets_no_task(policy):
    assert build_worklist(with_calls(fu("2026-11-01 10:00"), status="成交"), policy, AS_OF).is_empty()


@pytest.mark.parametrize(
    "order",
    [
        sale("O1", "2026-11-20", lead_id="L1", status="已退订"),
        sale("O1", "2026-11-24", lead_id="L1"),  # dated after D: not known yet
    ],
)
def test_a_cancelled_or_future_order_keeps_the_lead_in_the_pipeline(policy, order):
    inputs = make_inputs(
        leads=[lead("L1", "2026-08-01 10:00", grade="C")], followups=[fu("2026-11-16 10:00")], sales=[order]
    )
    assert pipeline(inputs, policy) == [("followup", "lead", date(2026, 11, 23), 8)]


@pytest.mark.parametrize(
    ("delivered_at", "stage"),
    [
        ("2026-08-25", "owner"),  # D − delivered = 90
        ("2026-08-26", "won"),  # 89
    ],
)
def test_owner_from_90_days_after_delivery(policy, delivered_at, stage):
    inputs = make_inputs(
        sales=[sale("O1", "2026-08-01", delivered_at=delivered_at)],
        service=[ro("R1", "2026-11-22 09:00", csat="1")],
    )
    worklist = build_worklist(inputs, policy, AS_OF)
    assert worklist.filter(pl.col("task_type") == "complaint")["stage"].to_list() == [stage]


def test_a_service_customer_with_no_sale_is_an_owner(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-22 09:00", complaint="是")])
    assert build_worklist(inputs, policy, AS_OF).filter(pl.col("task_type") == "complaint")[
        "stage"
    ].to_list() == ["owner"]


def test_an_owner_with_a_new_lead_gets_pipeline_tasks_too(policy):
    inputs = make_inputs(
        leads=[lead("L0", "2025-12-01 10:00"), lead("L1", "2026-11-20 10:00")],
        sales=[sale("O1", "2025-12-20", lead_id="L0", delivered_at="2026-01-10")],
    )
    assert pipeline(inputs, policy) == [("first_contact", "lead", date(2026, 11, 21), 2)]
