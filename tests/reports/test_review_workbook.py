"""The review workbook a manager decides in: 决定 pre-filled with each proposal (dropped back unchanged, every
proposal holds), a cleared 决定 undecided; the 整批决定 sheet, one row for many customers, 决定 left for the
manager to choose."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import polars as pl

from adapters.ingest import load_file
from reports.digest import Morning, digest_context, managers
from reports.review import COLUMNS, SECTION_LABELS, write_review_workbook
from reports.templating import render
from reports.workbook import lines_in
from tests.reports.test_digest import WORKLIST
from transforms.review import BULK_SCHEMA

AS_OF = date(2026, 11, 23)
NAMES = {"M1": "王经理", "S1": "张三", "S2": "李四", "S3": "周七"}


def _row(customer: str, section: str, proposal: str, to: str | None = None, reason: str | None = None) -> dict:
    return {"manager_id": "M1", "section": section, "store": "浦东店", "role": "sales", "advisor_id": "S1",
            "from_advisor_id": "S1", "customer_id": customer, "customer_name": f"客户{customer}",
            "phone": "+8613800138000", "lead_id": f"L{customer}", "tasks": "意向跟进", "reasons": "…",
            "due_date": date(2026, 11, 1), "days_overdue": 22, "priority": 5, "grade": "B", "stage": "intent",
            "carried_nights": 0, "live": True, "proposal": proposal, "proposed_advisor_id": to,
            "proposed_reason": reason, "review_rank": 1, "today": True}


ROWS = pl.DataFrame([
    _row("C1", "overflow", "reassign", to="S3"),
    _row("C2", "stale", "lost", reason="逾期39天未跟进，经理确认战败"),
    _row("C3", "stale", "keep"),
])
BULK = pl.DataFrame([
    {"manager_id": "M1", "store": "浦东店", "kind": "book", "from_advisor_id": "S2", "customers": 4, "size": 57,
     "proposal": "reassign", "proposed_advisor_id": "S3", "idle_days": None, "proposed_reason": None,
     "departed": True},
    {"manager_id": "M1", "store": "浦东店", "kind": "idle", "from_advisor_id": "S1", "customers": 9, "size": 80,
     "proposal": "lost", "proposed_advisor_id": None, "idle_days": 90,
     "proposed_reason": "超过90天没有跟进，经理整批确认战败", "departed": False},
], schema=BULK_SCHEMA)


def _sheet(path: Path, title: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[title]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _set(path: Path, title: str, column: str, values: dict[int, object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[title]
    col = [c.value for c in ws[1]].index(column) + 1
    for row, value in values.items():
        ws.cell(row, col).value = value
    wb.save(path)


def test_decisions_are_pre_filled_and_hold_when_dropped_back_unchanged(tmp_path: Path) -> None:
    path = write_review_workbook(ROWS, NAMES, ["S1", "S3"], AS_OF, tmp_path / "M1.xlsx", BULK)
    rows = _sheet(path, "待决定 11-23")
    assert [(r["客户编号"], r["建议"], r["决定"]) for r in rows] == [
        ("C1", "改派给 周七（S3）", "改派"), ("C2", "战败：逾期39天未跟进，经理确认战败", "战败"),
        ("C3", "保持，请督促跟进", "保持")]
    load = load_file(path)
    main = next(s for s in load.sheets if s.sheet == "待决定 11-23")
    assert main.loaded.select("customer_id", "decision", "new_advisor_id", "lost_reason").rows() == [
        ("C1", "reassign", "S3", None), ("C2", "lost", None, "逾期39天未跟进，经理确认战败"),
        ("C3", "keep", None, None)]
    assert (load.rows_rejected, load.undecided) == (0, {"M1": 2})  # the two 整批 rows, not chosen


def test_a_cleared_decision_is_undecided(tmp_path: Path) -> None:
    path = write_review_workbook(ROWS, NAMES, ["S1", "S3"], AS_OF, tmp_path / "M1.xlsx")
    _set(path, "待决定 11-23", "决定", {3: None})  # C2: not today
    load = load_file(path)
    assert load.sheets[0].loaded["customer_id"].to_list() == ["C1", "C3"]
    assert (load.rows_rejected, load.undecided) == (0, {"M1": 1})


def test_the_bulk_sheet_says_how_many_and_reads_back_as_bulk_rows(tmp_path: Path) -> None:
    path = write_review_workbook(ROWS, NAMES, ["S1", "S3"], AS_OF, tmp_path / "M1.xlsx", BULK)
    rows = _sheet(path, "整批决定")
    assert [(r["类别"], r["顾问"], r["涉及"], r["决定"], r["整批"]) for r in rows] == [
        ("离职顾问全部客户", "李四（已离职）", "名下全部客户 57 位（其中 4 位今天有待办，在“待决定”里）", None, "是"),
        ("久未跟进的线索", "张三（S1）", "超过 90 天没有跟进的线索 80 条（按今天算）", None, "是"),
    ]
    _set(path, "整批决定", "决定", {2: "改派", 3: "战败"})
    _set(path, "整批决定", "未跟进天数", {3: 120})  # the manager goes further back than proposed
    load = load_file(path)
    bulk = next(s for s in load.sheets if s.sheet == "整批决定")
    assert bulk.loaded.select("bulk", "decision", "from_advisor_id", "new_advisor_id", "idle_days",
                              "decided_by").rows() == [
        (True, "reassign", "S2", "S3", None, "M1"), (True, "lost", "S1", None, 120.0, "M1")]
    assert load.rows_rejected == 0


def test_the_digest_offers_the_bulk_rows() -> None:
    roster = pl.DataFrame([{"advisor_id": a, "name": n, "store": "浦东店", "role": r, "email": f"{a}@dealer.cn",
                            "manager_id": None if a == "M1" else "M1", "active": a != "S2"}
                           for a, n, r in [("M1", "王经理", "manager"), ("S1", "张三", "sales"),
                                           ("S2", "李四", "sales"), ("S3", "周七", "sales")]])
    head = next(m for m in managers(roster) if m.advisor_id == "M1")
    worklist = pl.DataFrame(schema=WORKLIST.schema)
    review = digest_context(head, worklist, roster, set(), AS_OF, False, Morning(bulk=BULK))["review"]
    assert [(b["who"], b["size"], b["to"]) for b in review["bulk"]] == [("李四（已离职）", 57, "周七")]
    assert (review["idle"]["days"], [(b["who"], b["size"]) for b in review["idle"]["rows"]]) == (90, [("张三", 80)])
    text = render("digest.txt.j2", **digest_context(head, worklist, roster, set(), AS_OF, False, Morning(bulk=BULK)))
    assert "李四（已离职） 名下全部客户 57 位 → 改派给 周七" in text
    assert "超过 90 天没有跟进的线索 → 标记战败：张三 80 条" in text


def test_the_category_and_the_headers_a_manager_reads_fit_their_column_on_one_line() -> None:
    """超出每日上限 ran into the customer's name and 逾期天数 wrapped out of its header cell (night 2 of a 3x1,500
    group, printed through LibreOffice)."""
    width = {c.header: c.width for c in COLUMNS}
    assert [label for label in SECTION_LABELS.values() if lines_in(label, width["类别"]) > 1] == []
    assert [c.header for c in COLUMNS if c.kind != "key" and lines_in(c.header, c.width) > 1] == []


def test_a_book_nobody_has_room_for_asks_the_manager_to_choose(tmp_path: Path) -> None:
    full = BULK.head(1).with_columns(pl.lit(None, pl.String).alias("proposed_advisor_id"))
    path = write_review_workbook(ROWS, NAMES, ["S1", "S3"], AS_OF, tmp_path / "M1.xlsx", full)
    [row] = _sheet(path, "整批决定")
    assert (row["建议"], row["改派给"]) == ("同岗位没有空余名额的顾问，请选接手顾问", None)
    roster = pl.DataFrame([{"advisor_id": a, "name": n, "store": "浦东店", "role": r, "email": f"{a}@dealer.cn",
                            "manager_id": None if a == "M1" else "M1", "active": a != "S2"}
                           for a, n, r in [("M1", "王经理", "manager"), ("S1", "张三", "sales"),
                                           ("S2", "李四", "sales"), ("S3", "周七", "sales")]])
    head = next(m for m in managers(roster) if m.advisor_id == "M1")
    context = digest_context(head, pl.DataFrame(schema=WORKLIST.schema), roster, set(), AS_OF, False,
                             Morning(bulk=full))
    text = render("digest.txt.j2", **context)
    assert "李四（已离职） 名下全部客户 57 位 → 同岗位没有空余名额的顾问，请选接手顾问" in text
