"""Many workbooks at once, in worker processes: xlsxwriter is pure Python, so threads would queue on the GIL
while a group's ~1,000 advisor workbooks take a minute on one core (issue #8), and its managers' review
workbooks (~90,000 rows on the 20-store benchmark group) another 20 s (issue #17)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from adapters.failures import failure, is_contained
from reports import processes
from reports.review import write_review_workbook
from reports.workbook import write_advisor_workbook

Job = tuple[str, pl.DataFrame, Path]  # advisor_id, their rows (transforms.views.per_customer), where to write
MIN_PER_PROCESS = 100  # below this many workbooks a process's start-up (~1 s of imports) costs more than it saves
ReviewJob = tuple[str, pl.DataFrame, pl.DataFrame, dict[str, str], list[str], Path]  # manager_id, rows, 整批 rows,
# names, staff, path
REVIEW_ROWS_PER_PROCESS = 20_000  # ~4 s of writing (about 0.25 ms a row): worth a process's start-up


Failed = list[dict[str, Any]]  # adapters.failures.failure entries


def _write_all(jobs: Sequence[Job], as_of: date, talk_tracks: Mapping[str, str]) -> tuple[dict[str, Path], Failed]:
    """Each job's workbook; one that fails is left out and said why, and the others are written."""
    written, failed = {}, []
    for advisor_id, rows, path in jobs:
        try:
            written[advisor_id] = write_advisor_workbook(rows, as_of, path, talk_tracks)
        except BaseException as err:
            if not is_contained(err):
                raise
            path.unlink(missing_ok=True)
            failed.append(failure("workbook_failed", *WORKBOOK_FAILED, err, advisor_id=advisor_id))
    return written, failed


WORKBOOK_FAILED = ("此顾问的跟进清单工作簿写出失败，本晚没有他的清单和邮件，其他顾问照常",
                   "this advisor's workbook could not be written: no workbook or email for them tonight; "
                   "the other advisors' went out")


def worker_count(jobs: int, cpus: int | None = None) -> int:
    """How many processes: one per core, each with at least MIN_PER_PROCESS workbooks; 1 means in this one."""
    return processes.worker_count(jobs, MIN_PER_PROCESS, cpus)


def write_advisor_workbooks(jobs: Sequence[Job], as_of: date, talk_tracks: Mapping[str, str],
                            workers: int | None = None, failed: Failed | None = None) -> dict[str, Path]:
    """Each job's workbook; `workers` processes (default: `worker_count`). Returns advisor_id → path, in the
    order of `jobs`, for those written; the advisors whose workbook failed are appended to `failed`."""
    workers = worker_count(len(jobs)) if workers is None else workers
    written: dict[str, Path] = {}
    write = partial(_write_all, as_of=as_of, talk_tracks=talk_tracks)
    for done, not_done in processes.in_processes(write, jobs, workers):
        written |= done
        if failed is not None:
            failed.extend(not_done)
    return {advisor_id: written[advisor_id] for advisor_id, _, _ in jobs if advisor_id in written}


def _write_reviews(jobs: Sequence[ReviewJob], as_of: date) -> dict[str, Path]:
    return {manager: write_review_workbook(rows, names, staff, as_of, path, bulk)
            for manager, rows, bulk, names, staff, path in jobs}


def review_worker_count(rows: int, cpus: int | None = None) -> int:
    """How many processes for review workbooks of `rows` rows in all: one per core, each with at least
    REVIEW_ROWS_PER_PROCESS rows; 1 means in this one."""
    return processes.worker_count(rows, REVIEW_ROWS_PER_PROCESS, cpus)


def write_review_workbooks(jobs: Sequence[ReviewJob], as_of: date, workers: int | None = None) -> dict[str, Path]:
    """Each manager's review workbook (reports/review.py); `workers` processes (default: `review_worker_count`).
    Returns manager_id → path in the order of `jobs`."""
    workers = review_worker_count(sum(rows.height for _, rows, _, _, _, _ in jobs)) if workers is None else workers
    written: dict[str, Path] = {}
    for part in processes.in_processes(partial(_write_reviews, as_of=as_of), jobs, workers):
        written |= part
    return {manager: written[manager] for manager, *_ in jobs}
