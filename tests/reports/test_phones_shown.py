"""Phones in the files people open (worklist.csv, the manager's review workbook), of every mobile block: the
outputs the email, digest, robot and workbook tests do not cover. The forms are written out by hand."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl

from reports.review import write_review_workbook
from reports.worklist_csv import write_worklist_csv
from tests.conftest import AS_OF
from transforms.worklist import WORKLIST_COLUMNS

# stored (E.164) → as an advisor reads it → masked, as a manager reads it
PHONES = {
    "+8614512347822": ("145 1234 7822", "145****7822"),
    "+8616612345678": ("166 1234 5678", "166****5678"),
    "+8619459690635": ("194 5969 0635", "194****0635"),
    "+8615412345678": ("154 1234 5678", "154****5678"),
    "+861065529988": ("010 6552 9988", "****9988"),
    "+85291234567": ("'+85291234567", "****4567"),  # E.164 keeps its +, guarded so that Excel reads it as text
}


def test_every_phone_in_worklist_csv_reads_as_it_is_written(tmp_path: Path) -> None:
    base = dict.fromkeys(WORKLIST_COLUMNS) | {"as_of": AS_OF, "advisor_id": "S1", "task_type": "followup",
                                             "due_date": AS_OF, "days_overdue": 0, "priority": 5}
    worklist = pl.DataFrame([base | {"customer_id": f"C{i}", "phone": p} for i, p in enumerate(PHONES)])
    path = write_worklist_csv(worklist, tmp_path / "worklist.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["phone"] for r in rows] == [shown for shown, _ in PHONES.values()]


def test_the_review_workbook_masks_every_phone_to_its_ends(tmp_path: Path) -> None:
    rows = pl.DataFrame([
        {"manager_id": "M1", "section": "stale", "store": "浦东店", "advisor_id": "S1", "from_advisor_id": None,
         "customer_id": f"C{i}", "customer_name": f"客户{i}", "phone": phone, "lead_id": f"L{i}",
         "tasks": "意向跟进", "reasons": "意向·A级，上次 2025-10-30 已试驾", "due_date": date(2026, 10, 1),
         "days_overdue": 53, "priority": 5, "grade": "A", "stage": "intent", "carried_nights": 0,
         "proposal": "keep", "proposed_advisor_id": None, "proposed_reason": None}
        for i, phone in enumerate(PHONES)
    ])
    book = write_review_workbook(rows, {"S1": "张三"}, ["S1"], AS_OF, tmp_path / "M1.xlsx")
    ws = openpyxl.load_workbook(book).worksheets[0]
    header = [c.value for c in ws[1]]
    shown = [row[header.index("电话")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert shown == [masked for _, masked in PHONES.values()]
