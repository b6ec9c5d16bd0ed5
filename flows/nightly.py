"""The nightly flow: drop folder → validated rows → history → worklist → outputs under OUT/<as-of>/ (SPEC §9)."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import Flow, flow, unmapped

from adapters import dropfolder, mail, publish
from adapters.folders import Folders
from adapters.history import History
from adapters.robots import RobotConfig
from flows import fanout, steps
from flows.progress import Progress, read_counts, store_counts, worklist_counts, write_counts
from policy.model import load_policy


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    summary: dict[str, Any]


READ_BATCHES = 4 * (os.cpu_count() or 1)  # files are read in this many parallel tasks, of about equal bytes
CRASH_AT = "GENJIN_TEST_CRASH_AT"
CRASH_MODE = "GENJIN_TEST_CRASH_MODE"
CRASH_POINTS = ("after_read", "after_rows", "after_ledger", "after_archive_first_file", "during_outputs",
                "after_report", "after_outbox", "before_publish")


class InjectedFailure(RuntimeError):
    """What `crash_point` raises with GENJIN_TEST_CRASH_MODE=raise."""


def crash_point(name: str) -> None:
    """Test hook, for tests/flows/test_idempotency.py only: with GENJIN_TEST_CRASH_AT=<name> in the environment the
    process kills itself with SIGKILL here, as a power cut or `kill -9` would — or, with
    GENJIN_TEST_CRASH_MODE=raise, the night fails here with an error, as a full disk would. Points (in run
    order): after_read, after_rows (the night's rows appended, no ledger rows yet), after_ledger (ledger rows
    written, no original moved), after_archive_first_file, during_outputs (the worklists written in the
    partial folder), after_report, after_outbox, before_publish. Unset in production: a no-op."""
    if os.environ.get(CRASH_AT) != name:
        return
    if os.environ.get(CRASH_MODE) == "raise":
        raise InjectedFailure(f"{CRASH_AT}={name}")
    os.kill(os.getpid(), signal.SIGKILL)


@flow(name="genjin-nightly", log_prints=False, validate_parameters=False)
def nightly(folders: Folders, as_of: date, policy_file: Path | None = None,
            settle_seconds: float = 5.0, send: bool = False,
            robots: Mapping[str, RobotConfig] | None = None,
            mail_settings: mail.MailSettings | None = None) -> RunResult:
    """One night. Safe to run again for the same as-of, and after a run killed at any point: the night's files
    are the drop folder's plus those already moved for this night, the ledger keeps rows from being recorded
    twice, and the outputs are built aside and swapped in whole (adapters/publish.py). The caller holds the
    run lock (adapters/lock.py; `genjin run` does). `mail_settings`: where the emails go (none: outbox only)."""
    clock = Progress()  # each stage's duration (run.json) and counts (one `genjin` log record per stage)
    policy = load_policy(policy_file)
    history = History(folders.history)
    run_dir = publish.start(folders.out, as_of)  # the hidden partial folder; OUT/<as-of> at the end
    with clock.stage("read", lambda: read_counts(files)):
        found = steps.night_files(folders, as_of, settle_seconds)  # and the files held for the next night
        paths = found.paths
        known = history.digests(before=as_of)
        reads = steps.read_and_validate.map(dropfolder.batches(paths, READ_BATCHES), known=unmapped(known))
        loads = dropfolder.in_night_order((load for f in reads for load in f.result()), paths)
        loads = steps.find_duplicates(loads, history, as_of, folders)  # earlier the same night included
        rejects = steps.write_rejects_files(loads, run_dir)  # a file whose rejects cannot be written is quarantined
        files = steps.account(loads)
        files = steps.mark_picked_up(files, folders.history, as_of)  # taken by the intraday pick-up (run.json)
    crash_point("after_read")
    with clock.stage("store", lambda: store_counts(files)):
        fresh = steps.to_record(loads, history)  # a re-run finds its files in the ledger already
        order = history.next_order(as_of)
        steps.store_rows(fresh, history, as_of, order)  # one append per kind
        crash_point("after_rows")
        steps.store_ledger(fresh, history, as_of, order)  # from here on the night's files count as loaded
        crash_point("after_ledger")
        failures = steps.move_originals(loads[:1], folders, as_of)  # a file that cannot move stays with its file
        crash_point("after_archive_first_file")  # a run killed between two moves
        failures += steps.move_originals(loads[1:], folders, as_of)
        for load in loads:
            load.release_rows()  # the rows live on in the history: let the night's copies go before the build
        del reads, loads, fresh
    with clock.stage("worklist", lambda: worklist_counts(worklist)):
        inputs = steps.history_as_of(history, as_of)
        night = steps.night_state(inputs, policy, as_of)  # customers, links, stages: for the worklist and KPIs
        worklist = fanout.worklist(inputs, policy, as_of, night)  # per store on a Dask cluster (nightly_on)
        worklist = steps.plan_for(worklist, night, steps.previous_plan(history, as_of), policy, as_of)
    with clock.stage("write", lambda: write_counts(workbooks, emails)):
        advisors = inputs.advisors.collect()
        workbooks, failed = steps.write_worklists(worklist, run_dir, as_of, policy)  # one advisor's fails alone
        failures += failed
        crash_point("during_outputs")
        steps.write_kpi_report(inputs, worklist, policy, files, run_dir, as_of, night)  # the digests attach it
        refused = steps.refused_decisions(night, as_of, run_dir)  # into the rejects of the file that brought it
        review = steps.review(worklist, advisors, policy)  # what each manager is asked to decide
        reviews = steps.write_reviews(review, advisors, run_dir, as_of)
        morning = steps.manager_morning(worklist, night, advisors, review, reviews, refused, policy, run_dir, as_of)
        crash_point("after_report")
        mail_settings = mail_settings or mail.MailSettings()
        emails = steps.write_outbox(worklist, advisors, workbooks, run_dir, as_of, mail.ledger_path(folders.history),
                                    send, mail_settings, policy, morning)
        crash_point("after_outbox")
        held = [h.entry() for h in found.held]
        warnings = steps.warnings_of(worklist, advisors)
        emails["ops"] = steps.write_ops_email(files, held, warnings + failures, rejects, run_dir, as_of,
                                              mail.ledger_path(folders.history), send, mail_settings)
        groups = None
        if send and robots:  # each store group's morning summary (issue #18)
            groups = steps.post_group_summaries(worklist, advisors, as_of, robots, folders.history)
    steps.store_plan(worklist, history, as_of)  # replaces this night's plan on a re-run
    summary = steps.write_summary(as_of, files, worklist, emails, clock.durations, run_dir, failures,
                                  {"group_posts": groups} if groups is not None else None, held, warnings)
    crash_point("before_publish")
    return RunResult(publish.publish(run_dir, folders.out, as_of), summary)


def nightly_on(dask_address: str | None) -> Flow[..., RunResult]:
    """The nightly flow with its task runner: with `dask_address` (`tcp://host:8786`, a running Dask scheduler)
    its mapped tasks — reading each file, building each store's worklist — run on that cluster's workers;
    without it, today's default runner on this machine. The workers need the same folders at the same paths,
    the same genjin install, and the Prefect API the flow uses (README, Beyond one machine)."""
    if not dask_address:
        return nightly
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner  # imports distributed: only when a cluster is asked for

    if not PREFECT_API_URL.value():  # each worker would start a temporary server of its own
        raise ValueError(
            "Dask 集群上运行需要一个各机器都能访问的 Prefect 服务器：请设置 PREFECT_API_URL / "
            "running on a Dask cluster needs a Prefect server every machine can reach: set PREFECT_API_URL "
            "(`prefect server start --host 0.0.0.0`, then PREFECT_API_URL=http://<host>:4200/api)"
        )

    return nightly.with_options(task_runner=DaskTaskRunner(address=dask_address))
