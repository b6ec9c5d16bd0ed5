"""Many advisors' workbooks at once, in worker processes: xlsxwriter is pure Python, so threads would queue on
the GIL while a group's ~1,000 workbooks take a minute on one core (issue #8)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import polars as pl

from reports.workbook import write_advisor_workbook

Job = tuple[str, pl.DataFrame, Path]  # advisor_id, their rows (transforms.views.per_customer), where to write
MIN_PER_PROCESS = 100  # below this many workbooks a process's start-up (~1 s of imports) costs more than it saves


def _write_all(jobs: Sequence[Job], as_of: date, talk_tracks: Mapping[str, str] | None) -> dict[str, Path]:
    return {advisor_id: write_advisor_workbook(rows, as_of, path, talk_tracks) for advisor_id, rows, path in jobs}


def worker_count(jobs: int, cpus: int | None = None) -> int:
    """How many processes: one per core, each with at least MIN_PER_PROCESS workbooks; 1 means in this one."""
    return max(1, min(cpus or os.cpu_count() or 1, jobs // MIN_PER_PROCESS))


def write_advisor_workbooks(jobs: Sequence[Job], as_of: date, talk_tracks: Mapping[str, str] | None = None,
                            workers: int | None = None) -> dict[str, Path]:
    """Each job's workbook; `workers` processes (default: `worker_count`). Returns advisor_id → path, in the
    order of `jobs`. Processes are spawned, not forked: the caller runs Prefect's threads."""
    workers = worker_count(len(jobs)) if workers is None else workers
    if workers <= 1:
        return _write_all(jobs, as_of, talk_tracks)
    shares = [jobs[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        written: dict[str, Path] = {}
        for part in pool.map(_write_all, shares, [as_of] * workers, [talk_tracks] * workers):
            written |= part
    return {advisor_id: written[advisor_id] for advisor_id, _, _ in jobs}
