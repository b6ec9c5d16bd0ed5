"""The nightly flow: drop folder → validated rows → history → worklist → outputs under OUT/<as-of>/ (SPEC §9)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, unmapped

from flows import steps
from genjin import mail, publish
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


CRASH_AT = "GENJIN_TEST_CRASH_AT"
CRASH_POINTS = ("after_read", "after_rows_first_file", "after_store_first_file", "after_archive_first_file",
                "during_outputs", "before_publish")


def crash_point(name: str) -> None:
    """Test hook, for tests/test_idempotency.py only: with GENJIN_TEST_CRASH_AT=<name> in the environment the
    process kills itself with SIGKILL here, as a power cut or `kill -9` would. Points (in run order):
    after_read, after_rows_first_file (rows appended, no ledger row yet), after_store_first_file (ledger row
    written, original not moved), after_archive_first_file, during_outputs (some outputs written in the
    partial folder), before_publish. Unset in production: a no-op."""
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@flow(name="genjin-nightly", log_prints=False, validate_parameters=False)
def nightly(folders: Folders, as_of: date, policy_file: Path | None = None,
            settle_seconds: float = 60.0, send: bool = False) -> RunResult:
    """One night. Safe to run again for the same as-of, and after a run killed at any point: the night's files
    are the drop folder's plus those already moved for this night, the ledger keeps rows from being recorded
    twice, and the outputs are built aside and swapped in whole (genjin/publish.py). The caller holds the
    run lock (genjin/lock.py; `genjin run` does)."""
    clock = Stopwatch()
    policy = load_policy(policy_file)
    history = History(folders.history)
    run_dir = publish.start(folders.out, as_of)  # the hidden partial folder; OUT/<as-of> at the end
    with clock.stage("read"):
        paths = steps.night_files(folders, as_of, settle_seconds)
        reads = steps.read_and_validate.map(paths, history=unmapped(history), as_of=unmapped(as_of))
        loads = [f.result() for f in reads]
        files = steps.account(loads)
    crash_point("after_read")
    with clock.stage("store"):
        order = history.next_order(as_of)
        for n, load in enumerate(loads):
            if load.status == "loaded" and not history.recorded(load.sha256):  # a re-run finds it there
                steps.store_rows(load, history, as_of, order)
                if n == 0:
                    crash_point("after_rows_first_file")
                steps.store_ledger(load, history, as_of, order)
                order += 1
            if n == 0:
                crash_point("after_store_first_file")
            steps.write_rejects_file(load, run_dir)
            steps.move_original(load, folders, as_of)
            if n == 0:
                crash_point("after_archive_first_file")
    with clock.stage("worklist"):
        inputs = steps.history_as_of(history, as_of)
        worklist = steps.worklist_for(inputs, policy, as_of)
    with clock.stage("write"):
        advisors = inputs.advisors.collect()
        workbooks = steps.write_worklists(worklist, run_dir, as_of, policy)
        crash_point("during_outputs")
        steps.write_kpi_report(inputs, worklist, policy, files, run_dir, as_of)  # the digests attach it
        emails = steps.write_outbox(worklist, advisors, workbooks, run_dir, as_of,
                                    ledger_path=mail.ledger_path(folders.history), send=send)
    summary = steps.write_summary(as_of, files, worklist, emails, clock.durations, run_dir)
    crash_point("before_publish")
    return RunResult(publish.publish(run_dir, folders.out, as_of), summary)
