"""The advisor's daily plan (issue #15, transforms/plan.py): capacity, order, one row per customer, stale work,
carried nights over consecutive nights (stored in the history, adapters/history.py), escalation. Worklists are
written by hand; every expected plan below is worked out from the default policy's [plan] section."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from adapters.history import History
from policy.model import Policy
from reports.worklist_csv import write_worklist_csv
from tests.conftest import AS_OF
from transforms.plan import PLAN_COLUMNS, advisor_plans, plan_counts, plan_worklist, todays_plan
from transforms.views import per_customer
from transforms.worklist import WORKLIST_COLUMNS

PRIORITY = {"complaint": 1, "first_contact": 2, "followup": 5, "post_delivery_d3": 4, "birthday": 7,
            "trade_in": 7, "care_call": 8, "win_back": 6, "first_maintenance": 6}


def task(customer: str, task_type: str, *, advisor: str = "S1", overdue: int = 0, closes_in: int | None = None,
         grade: str | None = None, ref: str | None = None, priority: int | None = None,
         as_of: date = AS_OF) -> dict:
    """One worklist row as transforms.worklist builds it (the columns the plan reads, the rest filled)."""
    return {
        "as_of": as_of, "advisor_id": advisor, "store": "浦东店", "customer_id": customer,
        "customer_name": f"客户{customer}", "phone": "+8613800138001", "task_type": task_type,
        "due_date": as_of - timedelta(days=overdue), "days_overdue": overdue,
        "priority": PRIORITY[task_type] if priority is None else priority, "grade": grade, "stage": "lead",
        "reason": f"{task_type} of {customer}", "ref": ref or f"{customer}-{task_type}", "lead_id": None,
        "orphaned": False, "original_advisor_id": advisor,
        "open_until": None if closes_in is None else as_of + timedelta(days=closes_in),
    }


SCHEMA = {"as_of": pl.Date, "due_date": pl.Date, "open_until": pl.Date, "days_overdue": pl.Int64,
          "priority": pl.Int64, "grade": pl.String, "lead_id": pl.String}


def worklist(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema_overrides=SCHEMA)


def roster(*rows: tuple[str, str, float | None]) -> pl.DataFrame:
    return pl.DataFrame([{"advisor_id": a, "role": role, "daily_capacity": cap} for a, role, cap in rows],
                        schema={"advisor_id": pl.String, "role": pl.String, "daily_capacity": pl.Float64})


def ranks(planned: pl.DataFrame, policy: Policy, advisor: str = "S1") -> list[str]:
    """The advisor's customers in today's plan, in plan order (the workbook's rows)."""
    plan = per_customer(todays_plan(planned, policy))
    return plan.filter(pl.col("advisor_id") == advisor)["customer_id"].to_list()


def with_plan(policy: Policy, **changes: object) -> Policy:
    return policy.model_copy(update={"plan": policy.plan.model_copy(update=changes)})


# The order of one advisor's day, by hand from default.toml: act_now (complaint, first_contact) by priority;
# closing (revisits and greetings whose window ends within 7 days) by days to the window's end; hot_lead (an S or
# A lead's follow-up) by value, then priority; can_wait by
# value (S = high_value = 1, regular = 3, C = 4, lost = 5), then priority. Customer ids run against that order,
# so the id (the last tie-break) decides nothing here.
DAY = worklist(
    task("C1", "win_back", overdue=100),  # lost owner (5): last, though the longest forgotten
    task("C2", "followup", overdue=20, grade="C", priority=8),  # value 4
    task("C3", "trade_in", overdue=2, closes_in=40),  # window far off: can_wait, regular owner (3)
    task("C4", "care_call", overdue=10),  # high_value owner (1), priority 8
    task("C5", "followup", overdue=3, grade="S", priority=3),  # value 1, priority 3
    task("C6", "post_delivery_d3", overdue=2, closes_in=5),  # closing in 5 days
    task("C7", "birthday", closes_in=0),  # closing today
    task("C8", "first_contact", overdue=1, grade="B"),  # act_now, priority 2
    task("C9", "complaint", overdue=2),  # act_now, priority 1
)
SEGMENTS = pl.DataFrame({"customer_id": ["C1", "C3", "C4"], "segment": ["lost", "regular", "high_value"]})
ORDER = ["C9", "C8", "C7", "C6", "C5", "C4", "C3", "C2", "C1"]


def test_the_day_is_ordered_by_what_waiting_loses(policy: Policy) -> None:
    planned = plan_worklist(DAY, roster(("S1", "sales", 40)), policy, AS_OF, segments=SEGMENTS)
    assert ranks(planned, policy) == ORDER
    by_customer = dict(planned.select("customer_id", "urgency").iter_rows())
    assert by_customer == {"C9": "act_now", "C8": "act_now", "C7": "closing", "C6": "closing", "C5": "hot_lead",
                           "C4": "can_wait", "C3": "can_wait", "C2": "can_wait", "C1": "can_wait"}
    assert planned.columns == [*DAY.columns, *PLAN_COLUMNS]
    assert planned["customer_id"].to_list() == DAY["customer_id"].to_list()  # the worklist's own order is kept


@pytest.mark.parametrize(("capacity", "planned_customers"), [
    (0, []),
    (1, ["C9"]),
    (9, ORDER),  # exactly the number of customers
    (50, ORDER),
])
def test_capacity_boundaries(policy: Policy, capacity: int, planned_customers: list[str]) -> None:
    planned = plan_worklist(DAY, roster(("S1", "sales", capacity)), policy, AS_OF, segments=SEGMENTS)
    assert ranks(planned, policy) == planned_customers
    # what does not fit keeps its place in the queue: the rank is there, only in_plan is false
    assert sorted(planned["plan_rank"].to_list()) == list(range(1, 10))
    assert plan_counts(planned)["customers_waiting"] == 9 - len(planned_customers)


def test_ties_are_broken_by_customer_id_whatever_the_row_order(policy: Policy) -> None:
    rows = [task(c, "followup", overdue=5, grade="B", priority=5) for c in ("K7", "K2", "K9", "K1")]
    expected = ["K1", "K2", "K7", "K9"]
    for seed in range(3):
        random.Random(seed).shuffle(rows)
        planned = plan_worklist(worklist(*rows), roster(("S1", "sales", 3)), policy, AS_OF)
        assert ranks(planned, policy) == expected[:3]


def test_a_customer_with_several_tasks_is_one_row_counted_once(policy: Policy) -> None:
    wl = worklist(
        task("A", "care_call", overdue=5),
        task("B", "followup", overdue=1, grade="A", priority=5),
        task("A", "complaint", overdue=1),
        task("A", "post_delivery_d3", overdue=1, closes_in=6),
        task("C", "followup", overdue=1, grade="D", priority=8),
    )
    planned = plan_worklist(wl, roster(("S1", "sales", 2)), policy, AS_OF)
    assert ranks(planned, policy) == ["A", "B"]  # A by its complaint (act_now), B (A grade) before C (D grade)
    assert planned.filter(pl.col("customer_id") == "A")["plan_rank"].to_list() == [1, 1, 1]
    assert planned["in_plan"].to_list() == [True, True, True, True, False]
    plan = per_customer(todays_plan(planned, policy))
    assert plan.height == 2
    assert plan.row(0, named=True)["tasks"] == "投诉处理、交车3天回访、关怀回访"  # most urgent task first
    assert plan.row(0, named=True)["urgency"] == "act_now"


def test_capacity_comes_from_the_roster_else_the_role_default(policy: Policy) -> None:
    wl = worklist(*[task(f"{a}{i:02d}", "followup", advisor=a, grade="B", priority=5)
                    for a in ("S1", "V1", "M1", "X9") for i in range(45)])
    team = roster(("S1", "sales", 3), ("V1", "service", None), ("M1", "manager", None))
    planned = plan_worklist(wl, team, policy, AS_OF)
    in_plan = dict(planned.group_by("advisor_id").agg(pl.col("in_plan").sum()).iter_rows())
    # default.toml: service 40, manager 20; X9 is not in the roster: fallback_capacity 30
    assert in_plan == {"S1": 3, "V1": 40, "M1": 20, "X9": 30}
    ignoring = plan_worklist(wl, team, with_plan(policy, roster_capacity=False), AS_OF)
    assert ignoring.filter(pl.col("advisor_id") == "S1")["in_plan"].sum() == 40  # the sales default


def test_stale_work_leaves_the_plan_but_stays_in_worklist_csv(policy: Policy, tmp_path: Path) -> None:
    wl = worklist(
        task("A", "first_contact", overdue=8, grade="C"),  # stale_after_days first_contact = 7: stale
        task("B", "first_contact", overdue=7, grade="C"),  # on the limit: still the advisor's
        task("C", "win_back", overdue=181),  # win_back 180: stale
        task("C", "birthday", closes_in=0),  # … but C's birthday today stays in the plan
        task("D", "complaint", overdue=400),  # complaints are never stale (no limit in the policy)
    )
    planned = plan_worklist(wl, roster(("S1", "sales", 40)), policy, AS_OF)
    assert planned["stale"].to_list() == [True, False, True, False, False]
    assert planned["plan_rank"].to_list() == [None, 2, None, 3, 1]
    assert planned["in_plan"].to_list() == [False, True, False, True, True]
    assert ranks(planned, policy) == ["D", "B", "C"]
    counts = plan_counts(planned)
    assert (counts["customers_stale"], counts["tasks_stale"], counts["customers_in_plan"]) == (1, 2, 3)
    path = write_worklist_csv(planned, tmp_path / "worklist.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*WORKLIST_COLUMNS, *PLAN_COLUMNS]  # SPEC §9 first, the plan's at the end
    assert [(r["customer_id"], r["task_type"], r["stale"], r["in_plan"], r["plan_rank"]) for r in rows] == [
        ("A", "first_contact", "true", "false", ""), ("B", "first_contact", "false", "true", "2"),
        ("C", "win_back", "true", "false", ""), ("C", "birthday", "false", "true", "3"),
        ("D", "complaint", "false", "true", "1"),
    ]
    assert {r["phone"] for r in rows} == {"138 0013 8001"}


def night(history: History, as_of: date, rows: list[dict], policy: Policy, capacity: int = 1) -> pl.DataFrame:
    """One night as the flow runs it: the plan from the last stored plan before the night, then stored."""
    planned = plan_worklist(worklist(*rows), roster(("S1", "sales", capacity)), policy, as_of,
                            previous=history.previous_plan(as_of))
    history.record_plan(planned, as_of)
    return planned


def carried(planned: pl.DataFrame) -> dict[str, tuple[int, bool]]:
    return {r["ref"]: (r["carried_nights"], r["escalated"]) for r in planned.iter_rows(named=True)}


def test_carried_nights_over_consecutive_nights_and_escalation(policy: Policy, tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    d1, d2, d3, d5 = (AS_OF + timedelta(days=n) for n in (0, 1, 2, 4))
    # night 1: X planned (capacity 1), Y waits
    first = night(history, d1, [task("X", "complaint", as_of=d1), task("Y", "care_call", as_of=d1)], policy)
    assert carried(first) == {"X-complaint": (0, False), "Y-care_call": (0, False)}
    assert first["in_plan"].to_list() == [True, False]
    # night 2: X was planned and not done: carried; Y still waits: carried; Z is new
    rows2 = [task("X", "complaint", as_of=d2), task("Y", "care_call", as_of=d2), task("Z", "birthday", as_of=d2)]
    second = night(history, d2, rows2, policy)
    assert carried(second) == {"X-complaint": (1, False), "Y-care_call": (1, False), "Z-birthday": (0, False)}
    # a re-run of night 2 reads the same night 1 and replaces its own stored plan: the same counts
    assert carried(night(history, d2, rows2, policy)) == carried(second)
    # night 3: X was done (gone from the worklist); Y is carried again
    third = night(history, d3, [task("Y", "care_call", as_of=d3)], policy)
    assert carried(third) == {"Y-care_call": (2, False)}
    # no run on night 4: night 5 counts the nights since night 3's plan — 4 > escalate_after_nights (3)
    fifth = night(history, d5, [task("Y", "care_call", as_of=d5), task("X", "complaint", as_of=d5)], policy)
    assert carried(fifth) == {"Y-care_call": (4, True), "X-complaint": (0, False)}  # X came back: anew
    assert plan_counts(fifth)["tasks_escalated"] == 1
    # backfill: night 2 run again after nights 3 and 5 were stored still counts from night 1 only
    assert carried(night(history, d2, rows2, policy)) == carried(second)


def test_the_escalation_limit_is_the_policys(policy: Policy, tmp_path: Path) -> None:
    strict = with_plan(policy, escalate_after_nights=0)
    history = History(tmp_path / "history")
    night(history, AS_OF, [task("Y", "care_call")], strict, capacity=0)
    next_night = night(history, AS_OF + timedelta(days=1), [task("Y", "care_call", as_of=AS_OF + timedelta(days=1))],
                       strict, capacity=0)
    assert carried(next_night) == {"Y-care_call": (1, True)}


def test_an_s_or_a_lead_is_labelled_for_a_salesperson_however_overdue(policy: Policy) -> None:
    """To a salesperson S means buying this week: its follow-up, 12 days overdue, is 尽快跟进 and comes before a
    high-value owner's care call, which the old 可安排 class put first by priority."""
    day = worklist(
        task("H1", "care_call", overdue=1),  # high_value owner (1), priority 8
        task("S12", "followup", overdue=12, grade="S", priority=5),
        task("A3", "followup", overdue=3, grade="A", priority=5),
        task("B9", "followup", overdue=9, grade="B", priority=5),
    )
    segments = pl.DataFrame({"customer_id": ["H1"], "segment": ["high_value"]})
    planned = plan_worklist(day, roster(("S1", "sales", 40)), policy, AS_OF, segments=segments)
    assert ranks(planned, policy) == ["S12", "A3", "H1", "B9"]
    labels = dict(advisor_plans(planned, policy).select("customer_id", "urgency_label").iter_rows())
    assert labels == {"S12": "尽快跟进", "A3": "尽快跟进", "H1": "常规跟进", "B9": "常规跟进"}


def test_a_policy_without_a_catch_all_class_is_refused(policy: Policy) -> None:
    from pydantic import ValidationError

    data = policy.plan.model_dump()
    data["urgency"] = data["urgency"][:2]
    with pytest.raises(ValidationError, match="last class must take every task"):
        type(policy.plan).model_validate(data)
    data["urgency"] = [*data["urgency"][:2], data["urgency"][-1] | {"grades": ["S"]}]
    with pytest.raises(ValidationError, match="last class must take every task"):
        type(policy.plan).model_validate(data)
