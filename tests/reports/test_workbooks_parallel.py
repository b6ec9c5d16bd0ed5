"""Many advisors' workbooks in worker processes (reports/workbooks_parallel.py, issue #8): the same workbooks as
written one by one in this process, each where its job said."""

from __future__ import annotations

from datetime import date

import openpyxl
import polars as pl

from reports.workbooks_parallel import (
    review_worker_count,
    worker_count,
    write_advisor_workbooks,
    write_review_workbooks,
)
from transforms.views import per_customer

AS_OF = date(2026, 11, 23)
TRACKS = {"followup": "先问候，再确认需求，约定下次联系。"}


def _worklist(advisors: int) -> pl.DataFrame:
    rows = []
    for a in range(advisors):
        for c in range(3):
            rows.append({
                "as_of": AS_OF, "advisor_id": f"A{a:02}", "store": "S1", "customer_id": f"C{a:02}{c}",
                "customer_name": f"=客户{a}-{c}", "phone": f"+861380000{a:02}{c}", "task_type": "followup",
                "due_date": date(2026, 11, 20 + c), "days_overdue": 3 - c, "priority": 2, "grade": "A",
                "stage": "intent", "reason": "计划回访", "ref": f"L{a}{c}", "lead_id": f"L{a}{c}",
                "orphaned": False, "original_advisor_id": None, "open_until": None,
            })
    return pl.DataFrame(rows)


def _cells(path) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [row for ws in book.worksheets for row in ws.iter_rows(values_only=True)]


def test_processes_write_what_one_process_writes(tmp_path):
    rows = per_customer(_worklist(5))
    def jobs(folder):
        folder.mkdir()
        return [(a, g, folder / f"{a}.xlsx") for (a,), g in rows.group_by("advisor_id", maintain_order=True)]

    one = write_advisor_workbooks(jobs(tmp_path / "one"), AS_OF, TRACKS, workers=1)
    two = write_advisor_workbooks(jobs(tmp_path / "two"), AS_OF, TRACKS, workers=2)
    assert list(two) == list(one) == [f"A{a:02}" for a in range(5)]
    for advisor_id, path in two.items():
        assert path == tmp_path / "two" / f"{advisor_id}.xlsx"
        assert _cells(path) == _cells(one[advisor_id])
        names = {v for row in _cells(path) for v in row if isinstance(v, str) and v.startswith("=客户")}
        assert names == {f"=客户{int(advisor_id[1:])}-{c}" for c in range(3)}  # each advisor only their rows


def test_worker_count():
    assert worker_count(20, cpus=2) == 1  # a store's few advisors: no processes to start
    assert worker_count(250, cpus=2) == 2
    assert worker_count(1000, cpus=8) == 8
    assert worker_count(1000, cpus=1) == 1


def _review_rows(managers: int) -> pl.DataFrame:
    """Review rows as transforms.review.review_rows gives them: two stale customers per manager."""
    return pl.DataFrame([
        {"manager_id": f"M{m}", "section": "stale", "store": f"S{m}", "advisor_id": f"A{m}", "from_advisor_id": None,
         "customer_id": f"C{m}{c}", "customer_name": f"=客户{m}-{c}", "phone": f"+86138000000{m}{c}",
         "lead_id": f"L{m}{c}", "tasks": "首次联系", "reasons": "计划回访\n逾期未联系", "due_date": date(2026, 11, 1),
         "days_overdue": 22 - c, "priority": 2, "grade": "A", "stage": "intent", "carried_nights": 0,
         "proposal": "lost", "proposed_advisor_id": None, "proposed_reason": "久未跟进"}
        for m in range(4) for c in range(2)
    ])


def test_review_workbooks_in_processes_are_those_written_here(tmp_path):
    rows = _review_rows(4)
    names = {f"A{m}": f"顾问{m}" for m in range(4)}

    def jobs(folder):
        folder.mkdir()
        return [(m, part, part.clear(), names, [f"A{m[1:]}"], folder / f"{m}.xlsx")
                for (m,), part in rows.group_by("manager_id", maintain_order=True)]

    one = write_review_workbooks(jobs(tmp_path / "one"), AS_OF, workers=1)
    two = write_review_workbooks(jobs(tmp_path / "two"), AS_OF, workers=2)
    assert list(two) == list(one) == ["M0", "M1", "M2", "M3"]
    for manager, path in two.items():
        assert path == tmp_path / "two" / f"{manager}.xlsx"
        assert _cells(path) == _cells(one[manager])
        customers = {v for row in _cells(path) for v in row if isinstance(v, str) and v.startswith("=客户")}
        assert customers == {f"=客户{manager[1:]}-{c}" for c in range(2)}  # each manager only their rows


def test_review_worker_count():
    assert review_worker_count(5_000, cpus=2) == 1  # a store's few dozen rows: written here
    assert review_worker_count(90_000, cpus=2) == 2
    assert review_worker_count(90_000, cpus=1) == 1
