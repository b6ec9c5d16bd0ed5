"""`genjin demo --nights 3`, run as a newcomer runs it: three nights of the sample stores, the sample advisors'
and managers' workbooks dropped back between them. What the advisors and the manager handed back (read from the
archived files) shows up the next night, and what the terminal says about each night is counted again here
from the two nights' worklist.csv and the archived workbooks."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from transforms.labels import TASK_LABELS

NIGHTS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
BY_LABEL = {label: task_type for task_type, label in TASK_LABELS.items()}
# tasks a reached customer no longer has the next morning (SPEC §6): closed by the contact, or (a lead's
# follow-up) due again only after its interval, at least 3 days unless the lead is S or negotiating
CLOSED_BY_CONTACT = {"complaint", "first_contact", "followup", "post_delivery_d1", "post_delivery_d3",
                     "post_delivery_d7", "post_delivery_d30", "post_service_revisit", "care_call", "win_back"}
# tasks that stay until someone works them (or their window closes much later)
LASTING = {"first_contact", "followup", "care_call", "win_back", "first_maintenance"}

pytestmark = pytest.mark.slow  # three nights of the demo's three stores, each with its KPI charts


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("week")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {"HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "demo", "--dir", str(home / "demo"), "--as-of", "2026-11-23",
         "--nights", "3"],
        cwd=home, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for noise in ("Traceback", "ERROR", "Warning"):
        assert noise not in proc.stdout + proc.stderr
    return home / "demo", proc.stdout


def _worklist(root: Path, night: date) -> list[dict[str, str]]:
    with (root / "out" / night.isoformat() / "worklist.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _rows(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def _handed_back(root: Path, night: date, prefix: str) -> dict[str, list[dict[str, object]]]:
    """The workbooks dropped back before `night`, as the night archived them."""
    return {p.name: _rows(p) for p in sorted((root / "archive" / night.isoformat()).glob(f"{prefix}_*.xlsx"))}


def _returned(root: Path, night: date) -> list[dict[str, object]]:
    return [r for rows in _handed_back(root, night, "跟进清单").values() for r in rows]


def _decided(root: Path, night: date) -> list[dict[str, object]]:
    return [r for rows in _handed_back(root, night, "待决定").values() for r in rows]


def _filled(row: dict[str, object]) -> bool:
    return any(row[h] not in (None, "") for h in ("跟进时间", "跟进结果", "下次跟进时间", "沟通内容"))


def _next_date(value: object, worked: date) -> date | None:
    """A 下次跟进时间 cell as a date: an Excel date, or `11月28日` (on or after the day it was typed)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    month, day = re.fullmatch(r"(\d+)月(\d+)日", str(value)).groups()  # type: ignore[union-attr]
    typed = date(worked.year, int(month), int(day))
    return typed if typed >= worked else typed.replace(year=worked.year + 1)


def _types(row: dict[str, object]) -> set[str]:
    return {BY_LABEL[label] for label in str(row["跟进事项"]).split("、")}


def _keys(tasks: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(t["customer_id"], t["task_type"]) for t in tasks}


def test_each_night_keeps_its_outputs_under_its_date(week: tuple[Path, str]) -> None:
    root, _ = week
    for night in NIGHTS:
        out = root / "out" / night.isoformat()
        assert json.loads((out / "run.json").read_text(encoding="utf-8"))["as_of"] == night.isoformat()
        assert _worklist(root, night)
        assert list((out / "worklists").glob("*.xlsx")) and list((out / "reviews").glob("*.xlsx"))
        assert (out / "report.html").is_file()
    for night in NIGHTS[1:]:  # what was handed back in the day, archived by the night that read it
        assert len(_handed_back(root, night, "跟进清单")) >= 15 and len(_handed_back(root, night, "待决定")) == 3


def test_a_reached_customer_is_not_due_the_next_morning_unless_promised(week: tuple[Path, str]) -> None:
    root, _ = week
    checked = promised_tomorrow = promised_later = 0
    for night in NIGHTS[1:]:
        worked = night - timedelta(days=1)
        tasks = _worklist(root, night)
        listed = _keys(tasks)
        for row in _returned(root, night):
            customer, promise = str(row["客户编号"]), _next_date(row["下次跟进时间"], worked)
            # a lead followed up every 3 days or less often (a dormant one, reached again, takes the stage it had
            # under 暂不考虑: it may be negotiating)
            slow = row["级别"] != "S" and row["阶段"] not in ("谈判", "暂不考虑")
            is_lead = bool({"first_contact", "followup"} & _types(row))
            if row["跟进结果"] == "已接通" and promise is None and slow:
                gone = _types(row) & CLOSED_BY_CONTACT | ({"followup"} if is_lead else set())
                assert not {(customer, t) for t in gone} & listed, row
                checked += 1
            if is_lead and row["跟进结果"] in ("已接通", "预约到店") and promise == night:  # "call me tomorrow"
                due = [t["due_date"] for t in tasks if (t["customer_id"], t["task_type"]) == (customer, "followup")]
                assert due == [night.isoformat()], row
                promised_tomorrow += 1
            if is_lead and row["跟进结果"] in ("已接通", "预约到店") and promise and promise > night and slow:
                assert (customer, "followup") not in listed, row
                promised_later += 1
    assert checked >= 30 and promised_tomorrow >= 1 and promised_later >= 10


def test_the_managers_decisions_hold_the_next_night(week: tuple[Path, str]) -> None:
    root, _ = week
    night1, night2 = NIGHTS[0], NIGHTS[1]
    before, after = _worklist(root, night1), _worklist(root, night2)
    decided = _decided(root, night2)
    lost = [r for r in decided if r["决定"] == "战败"]
    assert lost
    for row in lost:  # the lead is lost: nobody follows it up any more
        assert not {(str(row["客户编号"]), t) for t in ("first_contact", "followup")} & _keys(after), row
    reassigned = [r for r in decided if r["决定"] == "改派"]
    assert any(r["类别"] == "转交客户" for r in reassigned)  # a departed advisor's customer among them
    moved = 0
    for row in reassigned:
        new = str(row["改派给"]).split()[0]
        holders = {row["原顾问工号"]} | ({row["经理工号"]} if row["类别"] == "转交客户" else set())
        held = {t["task_type"] for t in before if t["customer_id"] == row["客户编号"] and t["advisor_id"] in holders}
        tonight = [t for t in after if t["customer_id"] == row["客户编号"] and t["task_type"] in held]
        assert all(t["advisor_id"] == new for t in tonight), (row, tonight)
        moved += len(tonight)
    assert moved >= 5

    decided_customers = {r["客户编号"] for r in decided if r["决定"]}
    worked = {r["客户编号"] for r in _returned(root, night2) if _filled(r)}
    unchanged = 0
    for row in decided:
        customer = row["客户编号"]
        if row["决定"] or customer in decided_customers or customer in worked:
            continue
        was = {(t["task_type"], t["advisor_id"]) for t in before if t["customer_id"] == customer
               and t["task_type"] in LASTING}
        assert was <= {(t["task_type"], t["advisor_id"]) for t in after if t["customer_id"] == customer}, row
        unchanged += len(was)
    assert unchanged >= 20  # a row left blank changes nothing


def _said(stdout: str, night: int) -> dict[str, int]:
    """The numbers the terminal gave for night `night` (2 or 3) under 与昨晚相比."""
    block = stdout.split(f"━━ 第 {night} 晚")[1].split("━━ 第")[0].split("与昨晚相比")[1]
    patterns = {
        "workbooks": r"昨晚回收 (\d+) 份顾问工作簿", "followups": r"(\d+) 条跟进已载入", "not_worked": r"(\d+) 行未填",
        "reviews": r"经理交回 (\d+) 张待决定表", "decisions": r"决定 (\d+) 条\n", "planned": r"今日计划 (\d+) 位客户",
        "planned_before": r"位客户（昨日 (\d+)）", "tasks": r"任务 (\d+) 条", "tasks_before": r"条（昨日 (\d+)）：",
        "new": r"新增 (\d+) 条", "done": r"完成或移出 (\d+) 条", "overdue": r"逾期 (\d+) 条",
        "overdue_before": r"逾期 \d+ 条（昨日 (\d+)）", "stale": r"交经理决定 (\d+) 位客户",
        "stale_before": r"交经理决定 \d+ 位客户（昨日 (\d+)）",
    }
    return {k: int(re.search(p, block).group(1)) for k, p in patterns.items()}  # type: ignore[union-attr]


def _per_advisor_customer(tasks: list[dict[str, str]], column: str, every: bool) -> int:
    flags: dict[tuple[str, str], list[bool]] = {}
    for t in tasks:
        flags.setdefault((t["advisor_id"], t["customer_id"]), []).append(t[column] == "true")
    return sum((all if every else any)(v) for v in flags.values())


def test_the_terminal_says_what_changed_with_numbers_that_hold(week: tuple[Path, str]) -> None:
    root, stdout = week
    for k in (2, 3):
        night, last = NIGHTS[k - 1], NIGHTS[k - 2]
        tonight, yesterday = _worklist(root, night), _worklist(root, last)
        workbooks = _handed_back(root, night, "跟进清单")
        returned = [r for rows in workbooks.values() for r in rows]
        old, new = _keys(yesterday), _keys(tonight)
        expected = {
            "workbooks": len(workbooks),
            "followups": sum(_filled(r) for r in returned),
            "not_worked": sum(not _filled(r) for r in returned),
            "reviews": len(_handed_back(root, night, "待决定")),
            "decisions": sum(bool(r["决定"]) for r in _decided(root, night)),
            "planned": _per_advisor_customer(tonight, "in_plan", every=False),
            "planned_before": _per_advisor_customer(yesterday, "in_plan", every=False),
            "tasks": len(tonight), "tasks_before": len(yesterday),
            "new": sum(1 for t in tonight if (t["customer_id"], t["task_type"]) not in old),
            "done": sum(1 for t in yesterday if (t["customer_id"], t["task_type"]) not in new),
            "overdue": sum(int(t["days_overdue"]) > 0 for t in tonight),
            "overdue_before": sum(int(t["days_overdue"]) > 0 for t in yesterday),
            "stale": _per_advisor_customer(tonight, "stale", every=True),
            "stale_before": _per_advisor_customer(yesterday, "stale", every=True),
        }
        assert _said(stdout, k) == expected
        assert expected["followups"] > 50 and expected["decisions"] > 5 and expected["done"] > 20
    assert "一周回顾" in stdout
