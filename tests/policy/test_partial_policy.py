"""A store's policy file holds only what it changes (`extends`), laid over the shipped default or another base;
complete policies of earlier releases keep working; unknown keys are refused by name with the nearest known one,
in Chinese and English. D = 2026-11-23."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from policy.model import Policy, PolicyError, load_policy
from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.worklist import build_worklist

POLICIES = Path("policy")
C_EVERY_5 = 'extends = "default"\n[tasks.followup]\ngrade_interval_days = { C = 5 }\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def followup_due(policy: Policy, grade: str, last_call: str) -> list[date]:
    inputs = make_inputs(leads=[lead("L1", "2026-06-01 10:00", grade=grade)], followups=[fu(last_call)])
    got = build_worklist(inputs, policy, AS_OF).filter(pl.col("task_type") == "followup")
    return got["due_date"].to_list()


def test_a_two_line_policy_changes_one_interval_and_keeps_the_rest(tmp_path):
    policy = load_policy(write(tmp_path, "store.toml", C_EVERY_5))
    assert policy.tasks.followup.grade_interval_days == {"S": 1, "A": 3, "B": 3, "C": 5, "D": 7}  # README table
    shipped = load_policy()
    assert policy.model_copy(update={"tasks": shipped.tasks}) == shipped  # nothing else moved
    # a C lead called on 11-18 is due on 11-23 under the store's policy, on 11-25 (not yet listed) by default
    assert followup_due(policy, "C", "2026-11-18 10:00") == [date(2026, 11, 23)]
    assert followup_due(shipped, "C", "2026-11-18 10:00") == []


def test_a_partial_section_keeps_the_default_keys_beside_it(tmp_path):
    policy = load_policy(write(tmp_path, "store.toml", 'extends = "default"\n[plan]\nescalate_after_nights = 5\n'))
    assert policy.plan.escalate_after_nights == 5
    assert [c.name for c in policy.plan.urgency] == [c.name for c in load_policy().plan.urgency]
    assert policy.plan.default_capacity == {"sales": 40, "service": 40, "manager": 20}


def test_a_policy_extends_a_shipped_one_or_a_file_beside_it(tmp_path):
    honda_a10 = 'extends = "honda_ohabc"\n[tasks.followup.grade_interval_days]\nA = 10\n'
    policy = load_policy(write(tmp_path, "honda_store.toml", honda_a10))
    assert policy.grades.order == ["O", "H", "A", "B", "C"]
    assert policy.tasks.followup.grade_interval_days == {"O": 7, "H": 7, "A": 10, "B": 30, "C": 90}
    assert followup_due(policy, "A", "2026-11-13 10:00") == [date(2026, 11, 23)]  # honda alone: 15 days

    (tmp_path / "stores").mkdir()
    write(tmp_path, "group.toml", 'extends = "default"\n[plan.default_capacity]\nsales = 30\n')
    store = write(tmp_path / "stores", "pudong.toml", 'extends = "../group.toml"\n[plan]\nfallback_capacity = 10\n')
    policy = load_policy(store)
    assert policy.plan.default_capacity == {"sales": 30, "service": 40, "manager": 20}
    assert policy.plan.fallback_capacity == 10


def test_every_complete_policy_of_today_reads_as_before():
    """Read strictly, as the policy model alone reads a complete file, and through the loader: the same policy —
    honda's follow-up table keeps only its own grades and stages, none of the default's."""
    for path in sorted(POLICIES.glob("*.toml")):
        assert load_policy(path) == Policy.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))), path
    honda = load_policy(POLICIES / "honda_ohabc.toml")
    assert set(honda.tasks.followup.grade_interval_days) == {"O", "H", "A", "B", "C"}


def test_a_complete_copy_from_an_older_release_gets_a_newer_section_from_the_default(tmp_path):
    """A store's full copy made before a section existed (here: without [tasks.post_service_revisit], a section
    with required keys) still loads; the section comes from the shipped default."""
    text = (POLICIES / "default.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    del data["tasks"]["post_service_revisit"]
    start = text.index("[tasks.post_service_revisit]")
    end = text.index("\n[", start + 1)
    old_copy = write(tmp_path, "copied_2025.toml", text[:start] + text[end + 1:])
    assert "post_service_revisit" not in tomllib.loads(old_copy.read_text(encoding="utf-8"))["tasks"]
    with pytest.raises(Exception, match="post_service_revisit"):
        Policy.model_validate(tomllib.loads(old_copy.read_text(encoding="utf-8")))  # a strict read refuses it
    assert load_policy(old_copy) == load_policy()


@pytest.mark.parametrize(
    ("text", "key", "nearest"),
    [
        ('extends = "default"\n[tasks.first_maintenance]\nofset_days = 100\n', "tasks.first_maintenance.ofset_days",
         "offset_days"),
        ('extends = "default"\n[grads]\norder = ["S"]\n', "grads", "grades"),
        ('extends = "default"\n[[plan.urgency]]\nname = "all"\nlable = "全部"\n', "plan.urgency.0.lable", "label"),
    ],
)
def test_an_unknown_key_is_refused_by_name_with_the_nearest_known_one(tmp_path, text, key, nearest):
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, "store.toml", text))
    message = str(err.value)
    assert f"{key}: 未知的键（是否想写 {nearest}？） / unknown key (did you mean {nearest}?)" in message


def test_a_wrong_value_is_told_in_chinese_and_english(tmp_path):
    text = 'extends = "default"\n[plan]\nescalate_after_nights = -1\ndefault_capacity = { sales = "四十" }\n'
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, "store.toml", text))
    message = str(err.value)
    assert "plan.escalate_after_nights: 应不小于 0 / Input should be greater than or equal to 0" in message
    assert "plan.default_capacity.sales: 应为整数 / Input should be a valid integer" in message
    assert "Field required" not in message


def test_a_file_of_changes_without_extends_is_told_how_to_say_so(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, "store.toml", C_EVERY_5.removeprefix('extends = "default"\n')))
    assert "no value for grades ['A', 'B', 'D', 'S']" in str(err.value)
    assert 'extends = "default"' in str(err.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('extends = "honda"\n', "找不到基础策略 / base policy not found: 'honda' (shipped: day_sequence, default, "
                                "honda_ohabc, three_signals"),
        ('extends = "loop.toml"\n', "循环引用 / extends in a circle"),
        ("extends = 3\n", "extends: 应为策略名或文件路径"),
    ],
)
def test_a_base_that_cannot_be_used_is_refused(tmp_path, text, said):
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, "loop.toml", text))
    assert said in str(err.value)


def test_genjin_run_refuses_a_bad_partial_policy_before_it_starts(tmp_path):
    (tmp_path / "drop").mkdir()
    bad = write(tmp_path, "store.toml", 'extends = "default"\n[tasks.followup]\ngrade_intervals = { C = 5 }\n')
    proc = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "run", "--drop", str(tmp_path / "drop"), "--policy", str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "tasks.followup.grade_intervals: 未知的键（是否想写 grade_interval_days？）" in proc.stderr
    assert not (tmp_path / "history").exists()
