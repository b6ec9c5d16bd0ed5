"""The nightly flow: drop folder → validated rows → history → worklist → outputs under OUT/<as-of>/ (SPEC §9)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, unmapped

from flows import steps
from genjin import mail
from genjin.folders import Folders
from genjin.history import History
from genjin.policy import load_policy


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    summary: dict[str, Any]


class Stopwatch:
    def __init__(self) -> None:
        self.durations: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.durations[name] = time.perf_counter() - start


@flow(name="genjin-nightly", log_prints=False, validate_parameters=False)
def nightly(folders: Folders, as_of: date, policy_file: Path | None = None,
            settle_seconds: float = 60.0, send: bool = False) -> RunResult:
    clock = Stopwatch()
    policy = load_policy(policy_file)
    history = History(folders.history)
    run_dir = folders.out / as_of.isoformat()
    run_dir.mkdir(parents=True, exist_ok=True)
    with clock.stage("read"):
        paths = steps.scan_drop(folders.drop, settle_seconds)
        reads = steps.read_and_validate.map(paths, history=unmapped(history), as_of=unmapped(as_of))
        loads = [f.result() for f in reads]
        files = steps.account(loads)
    with clock.stage("store"):
        for order, load in enumerate(loads):
            steps.store(load, history, as_of, order)
            steps.write_rejects_file(load, run_dir)
            steps.move_original(load, folders, as_of)
    with clock.stage("worklist"):
        inputs = steps.history_as_of(history, as_of)
        worklist = steps.worklist_for(inputs, policy, as_of)
    with clock.stage("write"):
        advisors = inputs.advisors.collect()
        workbooks = steps.write_worklists(worklist, run_dir, as_of, policy)
        steps.write_kpi_report(inputs, worklist, policy, files, run_dir, as_of)  # the digests attach it
        emails = steps.write_outbox(worklist, advisors, workbooks, run_dir, as_of,
                                    ledger_path=mail.ledger_path(folders.history), send=send)
    summary = steps.write_summary(as_of, files, worklist, emails, clock.durations, run_dir)
    return RunResult(run_dir, summary)
