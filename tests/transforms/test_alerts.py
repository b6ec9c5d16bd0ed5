"""transforms/alerts.py: which leads alert whom, and when (issue #18). Deadlines computed by hand from the
default policy: S/A 1 h, B/C 24 h, D 48 h; alerts for due_hours < 24 (S, A)."""

from __future__ import annotations

from datetime import datetime, time

import polars as pl
import pytest

from policy.model import Hours
from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.alerts import advisor_alerts, group_summary, hot_leads, is_quiet, manager_alerts
from transforms.night import prepare

NOW = datetime(2026, 11, 23, 10, 30)


def hot(inputs, policy, now=NOW):
    return hot_leads(prepare(inputs, policy, AS_OF), policy, now)


def test_only_s_and_a_leads_without_a_follow_up_are_hot(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-23 10:00", "13800000001", grade="S", source="汽车之家", model_interest="汉 EV"),
               lead("L2", "2026-11-23 10:05", "13800000002", grade="A"),
               lead("L3", "2026-11-23 10:10", "13800000003", grade="B"),  # 24 h: tomorrow's worklist
               lead("L4", "2026-11-23 10:15", "13800000004", grade="S"),  # called already
               lead("L5", "2026-11-23 10:20", "13800000005", grade="A", do_not_contact="是")],
        followups=[fu("2026-11-23 10:20", "L4")],
    )
    got = hot(inputs, policy).collect()
    assert got["lead_id"].to_list() == ["L1", "L2"]
    first = got.row(0, named=True)
    assert first["call_by"] == datetime(2026, 11, 23, 11, 0)
    assert (first["customer_name"], first["phone"], first["source"], first["model_interest"]) == (
        "陈先生", "+8613800000001", "汽车之家", "汉 EV")
    assert got["call_by"][1] == datetime(2026, 11, 23, 11, 5)


def test_a_lead_due_more_than_a_day_ago_is_left_to_the_worklist(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-22 09:00", "13800000001", grade="S"),  # due 11-22 10:00
                                lead("L2", "2026-11-22 09:31", "13800000002", grade="S")])  # due 11-22 10:31
    assert hot(inputs, policy).collect()["lead_id"].to_list() == ["L2"]


def test_a_lead_after_closing_is_due_an_hour_after_opening(policy):
    hours = policy.model_copy(update={"hours": Hours(open=time(9, 0), close=time(21, 0))})
    inputs = make_inputs(leads=[lead("L1", "2026-11-22 22:30", grade="S")])
    assert hot(inputs, hours).collect()["call_by"].to_list() == [datetime(2026, 11, 23, 10, 0)]


def test_a_longer_alert_window_takes_b_and_c_too(policy):
    wide = policy.model_copy(update={"alerts": policy.alerts.model_copy(update={"within_hours": 48})})
    inputs = make_inputs(leads=[lead("L1", "2026-11-23 10:00", "13800000001", grade="C"),
                                lead("L2", "2026-11-23 10:00", "13800000002", grade="D")])
    assert hot(inputs, wide).collect()["lead_id"].to_list() == ["L1"]


def test_advisor_alert_goes_to_the_advisor_or_their_manager_when_they_left(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-23 10:00", "13800000001", grade="S"),
                                lead("L2", "2026-11-23 10:00", "13800000002", grade="S", advisor_id="S2")])
    got = advisor_alerts(hot(inputs, policy), inputs.advisors).collect()
    assert got.select("lead_id", "recipient_id", "kind").rows() == [("L1", "S1", "advisor"), ("L2", "M1", "advisor")]


def test_manager_hears_of_a_lead_only_once_its_time_has_run_out(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-23 10:00", "13800000001", grade="S"),
                                lead("L2", "2026-11-23 10:30", "13800000002", grade="A")])
    leads = hot(inputs, policy, datetime(2026, 11, 23, 10, 59))
    at = {t: manager_alerts(leads, inputs.advisors, datetime(2026, 11, 23, *t)).collect() for t in
          [(10, 59), (11, 0), (11, 45)]}
    assert at[(10, 59)].is_empty()
    assert at[(11, 0)].select("lead_id", "recipient_id", "kind").rows() == [("L1", "M1", "manager")]
    assert at[(11, 45)]["lead_id"].to_list() == ["L1", "L2"]


def test_a_follow_up_dropped_in_time_stops_the_manager_alert(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-23 10:00", grade="S")], followups=[fu("2026-11-23 10:40")])
    assert manager_alerts(hot(inputs, policy), inputs.advisors, datetime(2026, 11, 23, 12)).collect().is_empty()


@pytest.mark.parametrize(("moment", "quiet"), [
    (time(21, 29), False), (time(21, 30), True), (time(23, 59), True), (time(0, 0), True), (time(7, 59), True),
    (time(8, 0), False), (time(12, 0), False),
])
def test_quiet_hours_wrap_past_midnight(policy, moment, quiet):
    assert is_quiet(moment, policy) is quiet


def test_group_summary_counts_per_advisor():
    worklist = pl.DataFrame({
        "store": ["浦东店"] * 5 + ["静安店"],
        "advisor_id": ["S1", "S1", "S1", "V1", "V1", "S9"],
        "task_type": ["first_contact", "first_contact", "followup", "complaint", "care_call", "followup"],
        "days_overdue": [2, 0, 1, 0, 0, 0],
    })
    got = group_summary(worklist)
    assert got.rows() == [
        ("浦东店", "S1", 3, 2, 0, 1),
        ("浦东店", "V1", 2, 0, 1, 0),
        ("静安店", "S9", 1, 0, 0, 0),
    ]
