"""What changed from one night to the next (genjin/commands/night_changes.py), on two hand-written nights."""

from __future__ import annotations

import polars as pl

from genjin.commands.night_changes import NightOutputs, change_lines, night_changes


def _tasks(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["customer_id", "task_type", "advisor_id"], orient="row")


def _file(kind: str, loaded: int, not_worked: int = 0, status: str = "loaded") -> dict[str, object]:
    entry: dict[str, object] = {"name": f"{kind}.xlsx", "kind": kind, "rows_in": loaded + not_worked,
                                "rows_loaded": loaded, "rows_rejected": 0, "status": status}
    return entry | ({"rows_not_worked": not_worked} if not_worked else {})


NIGHT1 = NightOutputs(
    {"files": [_file("leads", 300), _file("followups", 2000)],
     "tasks": {"total": 4, "overdue": 2}, "plan": {"customers_in_plan": 3, "customers_stale": 1}},
    _tasks(("C1", "first_contact", "S1"), ("C2", "followup", "S1"), ("C2", "care_call", "V1"),
           ("C3", "win_back", "V1")),
)
NIGHT2 = NightOutputs(
    {"files": [_file("followups", 5, not_worked=2), _file("followups", 3), _file("decisions", 2),
               _file("followups", 9, status="duplicate")],  # a file loaded earlier: nothing of it counts
     "tasks": {"total": 4, "overdue": 3}, "plan": {"customers_in_plan": 2, "customers_stale": 0}},
    # C1 was reached (its first contact is done), C2's care call too; C2's follow-up was reassigned to S2 (the
    # same task); C4 is new, with two tasks
    _tasks(("C2", "followup", "S2"), ("C3", "win_back", "V1"), ("C4", "first_contact", "S1"),
           ("C4", "birthday", "S1")),
)


def test_the_night_says_what_came_back_and_what_moved() -> None:
    changes = night_changes(NIGHT1, NIGHT2)
    assert (changes.new, changes.done) == (2, 2)
    assert change_lines(changes) == [
        "昨晚回收 2 份顾问工作簿：8 条跟进已载入，2 行未填；经理交回 1 张待决定表，决定 2 条",
        "今日计划 2 位客户（昨日 3）",
        "任务 4 条（昨日 4）：新增 2 条，完成或移出 2 条，逾期 3 条（昨日 2）",
        "交经理决定 0 位客户（昨日 1）",
    ]


def test_a_night_with_nothing_dropped_back_says_so() -> None:
    changes = night_changes(NIGHT2, NightOutputs(NIGHT2.summary | {"files": []}, NIGHT2.tasks))
    assert (changes.new, changes.done) == (0, 0)
    assert change_lines(changes)[0] == ("昨晚回收 0 份顾问工作簿：0 条跟进已载入，0 行未填；"
                                        "经理交回 0 张待决定表，决定 0 条")
