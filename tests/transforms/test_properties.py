"""Invariants of the worklist over generated inputs (hypothesis; few examples so the default run stays quick):
no pipeline task for a lost lead; every listed task is due on or before D; shortening a follow-up interval never
removes a task."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.model import Policy
from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.worklist import build_worklist

pytestmark = pytest.mark.property
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PIPELINE = ("first_contact", "followup")

days_back = st.integers(min_value=0, max_value=1200)
grades = st.sampled_from(["S", "A", "B", "C", "D", None])
statuses = st.sampled_from(["线索", "意向", "谈判", "战败", "成交", None])
outcomes = st.sampled_from(["已接通", "未接通", "已到店", "战败", "暂不考虑", None])


def when(days: int, hour: int = 10) -> str:
    return f"{AS_OF - timedelta(days=days):%Y-%m-%d} {hour:02d}:00"


@st.composite
def customers(draw):
    """A handful of customers with leads, follow-ups, orders and repair orders at random dates."""
    leads, followups, sales, service = [], [], [], []
    for i in range(draw(st.integers(min_value=1, max_value=4))):
        phone = f"1380013{i:04d}"
        lead_id = f"L{i}"
        created = draw(days_back)
        row = {"grade": draw(grades), "status": draw(statuses), "birthday": draw(st.sampled_from([None, "1990-11-23",
                                                                                                  "1992-02-29"]))}
        leads.append(lead(lead_id, when(created), phone, **{k: v for k, v in row.items() if v is not None}))
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            ago = draw(st.integers(min_value=0, max_value=created))
            outcome = draw(outcomes)
            followups.append(fu(when(ago, 15), lead_id, **({"outcome": outcome} if outcome else {})))
        if draw(st.booleans()):
            ordered = draw(st.integers(min_value=0, max_value=created))
            kw = {}
            delivered = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=ordered)))
            if delivered is not None:
                kw["delivered_at"] = when(delivered)
            elif draw(st.booleans()):
                kw["planned_delivery_at"] = when(ordered - draw(st.integers(min_value=1, max_value=40)))
            sales.append(sale(f"O{i}", when(ordered), phone, lead_id=lead_id, **kw))
            if delivered is not None and draw(st.booleans()):
                service.append(ro(f"R{i}", when(draw(st.integers(min_value=0, max_value=delivered))), phone,
                                  service_type=draw(st.sampled_from(["首保", "保养", "维修"]))))
    return make_inputs(leads=leads, followups=followups, sales=sales, service=service)


@SETTINGS
@given(inputs=customers())
def test_every_listed_task_is_due_on_or_before_d(policy, inputs):
    worklist = build_worklist(inputs, policy, AS_OF)
    assert (worklist["due_date"] <= AS_OF).all()
    assert (worklist["days_overdue"] >= 0).all()
    assert worklist.filter(pl.col("open_until").is_not_null() & (pl.col("open_until") < AS_OF)).is_empty()


@SETTINGS
@given(inputs=customers())
def test_no_pipeline_task_for_a_lost_lead(policy, inputs):
    worklist = build_worklist(inputs, policy, AS_OF)
    pipeline = worklist.filter(pl.col("task_type").is_in(PIPELINE))
    assert pipeline.filter(pl.col("stage") == "lost").is_empty()
    assert pipeline.filter(pl.col("stage").is_in(["won", "owner"])).is_empty()


def shorter(policy: Policy, by: int) -> Policy:
    rule = policy.tasks.followup
    followup = rule.model_copy(
        update={
            "grade_interval_days": {g: max(1, d - by) for g, d in rule.grade_interval_days.items()},
            "stage_interval_days": {s: max(1, d - by) for s, d in rule.stage_interval_days.items()},
        }
    )
    return policy.model_copy(update={"tasks": policy.tasks.model_copy(update={"followup": followup})})


@SETTINGS
@given(inputs=customers(), by=st.integers(min_value=1, max_value=29))
def test_shortening_a_followup_interval_never_removes_a_task(policy, inputs, by):
    key = ["task_type", "customer_id", "ref"]
    before = build_worklist(inputs, policy, AS_OF).select(key)
    after = build_worklist(inputs, shorter(policy, by), AS_OF).select(key)
    assert before.join(after, on=key, how="anti", nulls_equal=True).is_empty()


@SETTINGS
@given(
    inputs=customers(),
    closed=st.lists(st.integers(min_value=1, max_value=7), max_size=3, unique=True),
)
def test_closed_days_never_list_a_task_due_on_a_closed_day(policy, inputs, closed):
    from policy.model import Calendar

    used = policy.model_copy(update={"calendar": Calendar(closed_weekdays=closed)})
    worklist = build_worklist(inputs, used, AS_OF)
    assert not worklist["due_date"].dt.weekday().is_in(closed).any()
    assert (worklist["due_date"] <= AS_OF).all()
