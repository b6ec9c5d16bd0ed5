"""The night's warnings for ops (issue #13): no roster, a store with no active manager, tasks whose advisor
the roster does not know."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from adapters.history import History
from adapters.ingest import load_file
from policy.model import Policy
from tests.flows.test_loop_back import LEADS, _xlsx
from transforms.warnings import near_match, night_warnings
from transforms.worklist import build_worklist

ROSTER = pl.DataFrame({
    "advisor_id": ["S1", "M1", "S2", "M2"], "name": ["张三", "王经理", "李四", "赵经理"],
    "store": ["浦东店", "浦东店", "静安店", "静安店"], "role": ["sales", "manager", "sales", "manager"],
    "active": [True, True, True, False],  # 静安店's only manager has left
})


def _tasks(*rows: tuple[str, str, str, bool]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["store", "advisor_id", "original_advisor_id", "orphaned"], orient="row")


def test_no_roster_is_one_warning_that_says_what_happened_and_what_to_do() -> None:
    tasks = _tasks(("浦东店", "UNASSIGNED", "S1", True), ("静安店", "UNASSIGNED", "S2", True))
    (w,) = night_warnings(tasks, ROSTER.clear())
    assert (w["code"], w["count"]) == ("no_roster", 2)
    assert "没有顾问名单" in w["zh"] and "UNASSIGNED.xlsx" in w["zh"] and "顾问名单" in w["zh"]
    assert "no advisor roster" in w["en"]


def test_a_store_without_an_active_manager_and_unknown_advisors() -> None:
    tasks = _tasks(
        ("浦东店", "S1", "S1", False),
        ("浦东店", "M1", "S9", True), ("浦东店", "M1", "S9", True), ("浦东店", "M1", "S8", True),
        ("静安店", "UNASSIGNED", "S7", True),
        ("静安店", "S2", "S2", False),
    )
    found = night_warnings(tasks, ROSTER)
    assert [(w["code"], w["store"], w["count"]) for w in found] == [
        ("no_manager", "静安店", 2),
        ("unknown_advisor", "浦东店", 3),
        ("unknown_advisor", "静安店", 1),
    ]
    assert "S8、S9" in found[1]["zh"] and "已转交经理" in found[1]["zh"]
    assert "1 条无人负责" in found[2]["zh"]


def test_a_clean_roster_gives_no_warning() -> None:
    roster = ROSTER.with_columns(pl.lit(True).alias("active"))
    assert night_warnings(_tasks(("浦东店", "S1", "S1", False)), roster) == []


def test_a_night_from_real_files_without_a_roster(tmp_path: Path, policy: Policy) -> None:
    """Real files on disk, through the history and the worklist: leads but no roster → the no-roster warning."""
    night = date(2026, 11, 23)
    history = History(tmp_path / "history")
    history.record(load_file(_xlsx(tmp_path / "leads.xlsx", LEADS)), night, 0)
    inputs = history.inputs(night)
    worklist = build_worklist(inputs, policy, night)
    (w,) = night_warnings(worklist, inputs.advisors.collect())
    assert (w["code"], w["count"]) == ("no_roster", 3)
    assert set(worklist["advisor_id"]) == {"UNASSIGNED"}


TYPO_ROSTER = pl.DataFrame({
    "advisor_id": ["S001X01", "S001X02", "S001M01", "S002X01"], "name": ["张秀霞", "李明", "王经理", "赵强"],
    "store": ["浦东店", "浦东店", "浦东店", "静安店"], "role": ["sales", "sales", "manager", "sales"],
    "active": [True, True, True, True],
})


def test_an_unknown_advisor_id_names_the_roster_advisor_it_looks_like_a_typo_of() -> None:
    tasks = _tasks(("浦东店", "S001M01", "S001XO1", True), ("浦东店", "S001M01", "S001XO1", True),  # O for 0
                   ("浦东店", "S001M01", "S001X0l", True),  # l for 1
                   ("浦东店", "S001M01", "S001X0", True),  # one away from S001X01 and S001X02: no guess
                   ("浦东店", "S001M01", "S002XO1", True),  # a look-alike of another store's advisor
                   ("浦东店", "S001M01", "S002X09", True))  # one edit from another store's: not suggested
    (w,) = [w for w in night_warnings(tasks, TYPO_ROSTER) if w["code"] == "unknown_advisor"]
    assert (w["code"], w["store"], w["count"]) == ("unknown_advisor", "浦东店", 6)
    assert ("顾问 S001X0、S001X0l（是否为 S001X01 张秀霞？）、S001XO1（是否为 S001X01 张秀霞？）、"
            "S002X09、S002XO1（是否为 S002X01 赵强？） 不在顾问名单中") in w["zh"]
    assert "S001XO1 (did you mean S001X01 张秀霞?)" in w["en"] and "S002X09 (" not in w["en"]


def test_a_near_match_is_one_edit_or_a_look_alike_and_only_when_it_is_the_only_one() -> None:
    known = ["S001X01", "S001X02", "S001X03", "M001"]
    assert near_match("S001XO1", known) == "S001X01"  # O/0
    assert near_match("S00IX03", known) == "S001X03"  # I/1
    assert near_match("S001X10", known) == "S001X01"  # two neighbours swapped
    assert near_match("S001X1", known) == "S001X01"  # a digit dropped
    assert near_match("S001X04", known) is None  # one edit from three of them
    assert near_match("M01", known) is None  # too short to guess
    assert near_match("A999", known) is None
