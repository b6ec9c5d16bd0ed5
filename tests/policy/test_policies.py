"""The shipped alternative policies (SPEC §5), end to end through build_worklist, and policy validation: a bad
policy file stops the run with a message naming the key. D = 2026-11-23."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from policy.model import PolicyError, load_policy
from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.worklist import build_worklist

POLICIES = Path("policy")


@pytest.fixture(scope="module")
def honda():
    return load_policy(POLICIES / "honda_ohabc.toml")


@pytest.fixture(scope="module")
def three_signals():
    return load_policy(POLICIES / "three_signals.toml")


@pytest.fixture(scope="module")
def day_sequence():
    return load_policy(POLICIES / "day_sequence.toml")


def followups(policy, grade: str, calls: list[str]) -> list[tuple]:
    inputs = make_inputs(leads=[lead("L1", "2026-06-01 10:00", grade=grade)], followups=[fu(c) for c in calls])
    got = build_worklist(inputs, policy, AS_OF).filter(pl.col("task_type") == "followup")
    return got.select("grade", "due_date", "days_overdue", "priority").rows()


@pytest.mark.parametrize(
    ("grade", "last_call", "expected"),
    [
        ("H", "2026-11-16 10:00", [("H", date(2026, 11, 23), 0, 3)]),  # weekly
        ("H", "2026-11-17 10:00", []),
        ("A", "2026-11-08 10:00", [("A", date(2026, 11, 23), 0, 5)]),  # every 15 days
        ("A", "2026-11-09 10:00", []),
        ("B", "2026-10-24 10:00", [("B", date(2026, 11, 23), 0, 8)]),  # monthly (30 days)
        ("B", "2026-10-25 10:00", []),
        ("C", "2026-08-25 10:00", [("C", date(2026, 11, 23), 0, 8)]),  # every 3 months (90 days)
        ("C", "2026-08-26 10:00", []),
    ],
)
def test_honda_ohabc(honda, grade, last_call, expected):
    assert followups(honda, grade, [last_call]) == expected


def test_honda_o_and_h_grades_are_read_from_the_crm(honda):
    inputs = make_inputs(leads=[lead("L1", "2026-11-23 08:00", grade="H")])
    got = build_worklist(inputs, honda, AS_OF).filter(pl.col("task_type") == "first_contact")
    assert got.select("grade", "due_date").rows() == [("H", date(2026, 11, 23))]


def test_the_default_policy_ignores_a_grade_it_does_not_list(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-22 08:00", grade="H")])  # H is not S/A/B/C/D
    got = build_worklist(inputs, policy, AS_OF).filter(pl.col("task_type") == "first_contact")
    assert got["grade"].to_list() == ["C"]  # the default grade


@pytest.mark.parametrize(
    ("grade", "last_call", "expected"),
    [
        ("A", "2026-11-20 10:00", [("A", date(2026, 11, 23), 0, 3)]),  # 3 signals: every 3 days
        ("A", "2026-11-21 10:00", []),
        ("B", "2026-11-16 10:00", [("B", date(2026, 11, 23), 0, 5)]),  # 2: every 7
        ("B", "2026-11-17 10:00", []),
        ("C", "2026-11-08 10:00", [("C", date(2026, 11, 23), 0, 8)]),  # 1: every 15
        ("C", "2026-11-09 10:00", []),
    ],
)
def test_three_signals(three_signals, grade, last_call, expected):
    assert followups(three_signals, grade, [last_call]) == expected


def calls_ending(n: int, last: str) -> list[str]:
    """n follow-ups, the last on `last`, the others a month earlier."""
    return [f"2026-10-{i + 1:02d} 10:00" for i in range(n - 1)] + [last]


@pytest.mark.parametrize(
    ("n", "last_call", "due"),
    [
        (1, "2026-11-22 10:00", date(2026, 11, 23)),  # 1
        (2, "2026-11-22 10:00", date(2026, 11, 23)),  # 1
        (3, "2026-11-21 10:00", date(2026, 11, 23)),  # 2
        (4, "2026-11-20 10:00", date(2026, 11, 23)),  # 3
        (5, "2026-11-16 10:00", date(2026, 11, 23)),  # 7
        (6, "2026-11-16 10:00", date(2026, 11, 23)),  # 7
        (7, "2026-11-08 10:00", date(2026, 11, 23)),  # 15
        (8, "2026-11-20 10:00", date(2026, 11, 23)),  # then 3
        (9, "2026-11-16 10:00", date(2026, 11, 23)),  # 7
        (10, "2026-11-20 10:00", date(2026, 11, 23)),  # 3
        (11, "2026-11-16 10:00", date(2026, 11, 23)),  # 7
        (3, "2026-11-22 10:00", None),  # 2 days: due 11-24
        (7, "2026-11-09 10:00", None),  # 15 days: due 11-24
        (8, "2026-11-21 10:00", None),  # 3 days: due 11-24
    ],
)
def test_day_sequence(day_sequence, n, last_call, due):
    got = followups(day_sequence, "S", calls_ending(n, last_call))
    assert [row[1] for row in got] == ([] if due is None else [due])


def test_day_sequence_keeps_dormant_at_30_days(day_sequence):
    inputs = make_inputs(
        leads=[lead("L1", "2026-06-01 10:00")],
        followups=[fu("2026-10-24 10:00", outcome="暂不考虑")],
    )
    got = build_worklist(inputs, day_sequence, AS_OF).filter(pl.col("task_type") == "followup")
    assert got.select("stage", "due_date").rows() == [("dormant", date(2026, 11, 23))]


# ---- validation: a bad policy stops the run and names the key


def bad_policy(tmp_path: Path, old: str, new: str) -> Path:
    text = (POLICIES / "default.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("priority = 3\ndays_before = 1", "priority = 3\ndays_before = -1", "tasks.delivery_confirm.days_before"),
        ("offset_days = 150", "offset_days = 150\nofset = 1", "tasks.first_maintenance.ofset"),
        ('public_holidays = "none"', 'public_holidays = "US"', "calendar.public_holidays"),
        ("closed_weekdays = []", "closed_weekdays = [8]", "calendar.closed_weekdays"),
        ("closed_weekdays = []", "closed_weekdays = [1, 2, 3, 4, 5, 6, 7]", "closed every day"),
        ('# [hours]\n# open = "09:00"\n# close = "21:00"', '[hours]\nopen = "21:00"\nclose = "09:00"', "hours"),
        ('# [hours]\n# open = "09:00"', '[hours]\nopen = "9 am"', "hours.open"),
        ("due_hours = { S = 1, A = 1, B = 24, C = 24, D = 48 }", "due_hours = { S = 1 }", "due_hours"),
        ("stage_interval_days = {", "sequence_days = [1, 0]\nstage_interval_days = {", "sequence_days"),
        ('order = ["S", "A", "B", "C", "D"]', 'order = ["S", "A", "B", "C"]', "grades.order"),
        ("followup = 30  ", "folowup = 30  ", "folowup"),  # a misspelt task type in [plan.stale_after_days]
    ],
)
def test_a_bad_policy_names_the_key(tmp_path, old, new, named):
    with pytest.raises(PolicyError) as err:
        load_policy(bad_policy(tmp_path, old, new))
    assert named in str(err.value)
    assert "invalid policy" in str(err.value)


def test_not_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[tasks\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(path)


def test_every_shipped_policy_loads():
    for path in sorted(POLICIES.glob("*.toml")):
        assert load_policy(path).tasks.trade_in.years == 3
