"""The sample advisor and the sample manager of `genjin demo --nights` (demo/returns.py), on workbooks written
by genjin's own writers: they fill in the cells a person fills in, by header, part of the rows; what they hand
back reads as follow-ups and decisions; the same seed gives the same cells."""

from __future__ import annotations

import random
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import polars as pl

from adapters.ingest import load_file
from adapters.readers import file_time
from demo.returns import decide_review, fill_worklist
from reports.review import write_review_workbook
from reports.workbook import write_advisor_workbook
from schemas.vocab import CHANNELS, OUTCOMES
from tests.reports.test_workbook import TRACKS, customers

DAY = date(2026, 11, 23)
INPUTS = ("跟进时间", "跟进方式", "跟进结果", "下次跟进时间", "沟通内容")
KINDS = [("首次联系", "lead"), ("意向跟进", "intent"), ("意向跟进", "negotiating"), ("投诉处理", "owner"),
         ("首保提醒", "owner"), ("关怀回访", "owner"), ("流失召回", "owner"), ("交车1天回访", "won")]
PLAN = customers(*(
    {"customer_id": f"C{i:02d}", "customer_name": f"客户{i}", "phone": f"+86138001380{i:02d}", "plan_rank": i,
     "tasks": KINDS[i % len(KINDS)][0], "stage": KINDS[i % len(KINDS)][1],
     "lead_id": f"L{i:02d}" if KINDS[i % len(KINDS)][1] in ("lead", "intent", "negotiating") else None}
    for i in range(1, 41)
))


def _sheet(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def _as_date(value: object) -> date:
    """A 下次跟进时间 cell as a date: an Excel date, or `11月28日` typed on DAY (its year: on or after DAY)."""
    if isinstance(value, datetime):
        return value.date()
    month, day = str(value).removesuffix("日").split("月")
    typed = date(DAY.year, int(month), int(day))
    return typed if typed >= DAY else typed.replace(year=DAY.year + 1)


def test_an_advisor_works_part_of_the_plan_as_people_do(tmp_path: Path) -> None:
    given = write_advisor_workbook(PLAN, DAY, tmp_path / "S1.xlsx", TRACKS)
    done = fill_worklist(given, tmp_path / "back.xlsx", DAY, random.Random(3))
    before, after = _sheet(given), _sheet(tmp_path / "back.xlsx")
    assert len(after) == len(before) == 40
    filled = [r for r in after if r["跟进结果"]]
    blank = [r for r in after if not any(r[h] for h in INPUTS)]
    assert len(filled) + len(blank) == 40 and filled and blank  # every row is worked whole, or left as it was
    for old, new in zip(before, after, strict=True):  # genjin's own columns untouched
        assert {k: v for k, v in new.items() if k not in INPUTS} == {k: v for k, v in old.items() if k not in INPUTS}
    for row in filled:
        assert row["跟进结果"] in OUTCOMES and row["跟进方式"] in CHANNELS and row["沟通内容"]
        assert row["跟进时间"] is None or (isinstance(row["跟进时间"], datetime) and row["跟进时间"].date() == DAY)
        if row["跟进结果"] == "预约到店":  # an appointment has its day
            assert row["下次跟进时间"] is not None
        if row["跟进结果"] == "未接通":  # nobody answered: nothing agreed
            assert row["下次跟进时间"] is None
        if row["下次跟进时间"] is not None:
            assert DAY < _as_date(row["下次跟进时间"]) <= DAY + timedelta(days=60)
    outcomes = {r["跟进结果"] for r in filled}
    assert {"已接通", "未接通", "预约到店"} <= outcomes
    assert any(isinstance(r["下次跟进时间"], str) for r in filled)  # a date typed as text, 11月28日
    assert any(r["跟进时间"] is None for r in filled)  # only an outcome picked: the file's save time counts
    assert (done.rows, done.filled, done.promised) == (40, len(filled),
                                                       sum(r["下次跟进时间"] is not None for r in filled))
    assert file_time(tmp_path / "back.xlsx") == datetime.combine(DAY, time(19, 30))

    load = load_file(tmp_path / "back.xlsx")  # as the next night reads it
    assert load.kind == "followups"
    assert (load.rows_loaded, load.rows_rejected, load.rows_not_worked) == (len(filled), 0, len(blank))

    fill_worklist(given, tmp_path / "again.xlsx", DAY, random.Random(3))
    assert _sheet(tmp_path / "again.xlsx") == after  # seeded: the same cells


def test_cells_are_found_by_their_header_not_their_place(tmp_path: Path) -> None:
    """A layout with the columns in another order (the input columns first) gets the same kind of cells."""
    given = openpyxl.load_workbook(write_advisor_workbook(PLAN, DAY, tmp_path / "S1.xlsx", TRACKS))
    rows = list(given.worksheets[0].iter_rows(values_only=True))
    order = sorted(range(len(rows[0])), key=lambda j: (rows[0][j] not in INPUTS, -j))
    moved = openpyxl.Workbook()
    for row in rows:
        moved.active.append([row[j] for j in order])
    moved.save(tmp_path / "moved.xlsx")
    fill_worklist(tmp_path / "moved.xlsx", tmp_path / "back.xlsx", DAY, random.Random(3))
    after = _sheet(tmp_path / "back.xlsx")
    filled = [r for r in after if r["跟进结果"]]
    assert filled and all(r["跟进结果"] in OUTCOMES and r["跟进方式"] in CHANNELS for r in filled)
    assert [r["客户编号"] for r in after] == [f"C{i:02d}" for i in range(1, 41)]


REVIEW = pl.DataFrame([
    {"section": section, "customer_id": f"C{i:02d}", "customer_name": f"客户{i}", "phone": f"+86138001380{i:02d}",
     "advisor_id": "M1" if section == "handed_over" else "S1", "from_advisor_id": "S2" if section == "handed_over"
     else "S1", "tasks": "意向跟进", "days_overdue": 40, "grade": "C", "stage": "intent",
     "reasons": "【意向跟进】上次联系 10-01", "proposal": proposal, "proposed_advisor_id": "S3" if proposal ==
     "reassign" else None, "proposed_reason": "逾期40天未跟进，经理确认战败" if proposal == "lost" else None,
     "lead_id": f"L{i:02d}", "manager_id": "M1"}
    for i, (section, proposal) in enumerate(
        [("stale", "lost")] * 6 + [("overflow", "reassign")] * 3 + [("handed_over", "reassign")] * 3
        + [("overflow", "keep")] * 4, start=1)
])
NAMES = {"M1": "王经理", "S1": "张三", "S2": "李四", "S3": "周七"}


def _decisions(path: Path) -> list[tuple[object, ...]]:
    return [(r["类别"], r["决定"], r["改派给"], r["战败原因"]) for r in _sheet(path)]


def test_a_manager_decides_some_rows_and_leaves_the_rest(tmp_path: Path) -> None:
    given = write_review_workbook(REVIEW, NAMES, ["S1", "S3"], DAY, tmp_path / "M1.xlsx")
    done = decide_review(given, tmp_path / "back.xlsx", DAY, random.Random(5))
    rows = _decisions(tmp_path / "back.xlsx")
    decided = [r for r in rows if r[1]]
    assert ("转交客户", "改派", "S3 周七", None) in decided  # a departed advisor's customer, to the proposed one
    assert any(r[1] == "战败" and r[3] for r in decided)  # a lead lost, with its reason
    assert any(r[1] == "保持" for r in decided)
    assert len(decided) < len(rows)  # and some rows left undecided
    for _, decision, new_advisor, reason in decided:  # as proposed (a lost one may be kept)
        assert decision == ("改派" if new_advisor else "战败" if reason else "保持") or (reason and decision == "保持")
    assert (done.rows, done.decided) == (16, len(decided))
    load = load_file(tmp_path / "back.xlsx")
    assert load.kind == "decisions" and load.rows_loaded == len(decided)


def test_a_pre_filled_decision_column_is_decided_the_same(tmp_path: Path) -> None:
    """Should the review workbook come with 决定 pre-filled with the proposal, the sample manager still
    decides only the same rows: the others are cleared."""
    given = write_review_workbook(REVIEW, NAMES, ["S1", "S3"], DAY, tmp_path / "M1.xlsx")
    shutil.copy(given, tmp_path / "prefilled.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "prefilled.xlsx")
    ws = wb.worksheets[0]
    col = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        ws.cell(row, col["决定"]).value = ("改派" if ws.cell(row, col["改派给"]).value else
                                          "战败" if ws.cell(row, col["战败原因"]).value else "保持")
    wb.save(tmp_path / "prefilled.xlsx")
    decide_review(given, tmp_path / "blank_back.xlsx", DAY, random.Random(5))
    decide_review(tmp_path / "prefilled.xlsx", tmp_path / "prefilled_back.xlsx", DAY, random.Random(5))
    assert _decisions(tmp_path / "prefilled_back.xlsx") == _decisions(tmp_path / "blank_back.xlsx")
    assert any(r[1] is None for r in _decisions(tmp_path / "prefilled_back.xlsx"))
