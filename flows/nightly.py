"""The nightly flow (SPEC §9): read the drop folder, store its rows in the history, build the night (state,
worklist and plan, KPIs), write the outputs under OUT/<as-of>/, deliver the mail."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from prefect import Flow, flow, unmapped
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from prefect.states import Failed, State

from adapters import dropfolder, mail, publish, run_marker
from adapters.folders import Folders, check_folders
from adapters.history import History
from adapters.ingest import FileLoad, file_warnings
from adapters.robots import RobotConfig
from flows import fanout, steps
from flows.ops_alert import HOOKS, PARTIAL
from flows.progress import Progress, read_counts, store_counts, to_run_logs, worklist_counts, write_counts
from policy.model import Policy, load_policy
from reports.digest import Morning
from reports.failure_message import undelivered
from reports.night_artifacts import OUTPUTS_KEY, REPORT_KEY, SUMMARY_KEY, outputs_table, summary_markdown
from transforms.frames import Inputs
from transforms.kpis import KpiResult
from transforms.night import Night
from transforms.warnings import open_file_warning


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    summary: dict[str, Any]


log = logging.getLogger("genjin")
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


@dataclass(frozen=True)
class NightFiles:
    """The night's files as read: each file's load, the run.json entries, the rejects workbooks written and
    the files held for the next night."""

    loads: list[FileLoad]
    files: list[dict[str, Any]]
    rejects: list[Path]
    held: list[dict[str, Any]]
    warnings: list[dict[str, Any]]  # about the files: rows dated after the night, a workbook open in Excel
    opened: frozenset[str] = frozenset()  # the names of the files read while open in Excel/WPS


@dataclass(frozen=True)
class Built:
    """What the night works out from the history: its state, the worklist with today's plan, the KPIs."""

    inputs: Inputs
    night: Night
    worklist: pl.DataFrame
    kpis: KpiResult
    advisors: pl.DataFrame  # every night's roster rows (the latest counts)


def read(folders: Folders, history: History, as_of: date, settle_seconds: float, run_dir: Path) -> NightFiles:
    """Every file of the night read and validated in parallel batches, re-drops marked as duplicates, each
    file's rejects written (a file whose rejects cannot be written is quarantined)."""
    found = steps.night_files(folders, as_of, settle_seconds)  # and the files held for the next night
    known = history.digests(before=as_of)
    reads = steps.read_and_validate.map(dropfolder.batches(found.paths, READ_BATCHES), known=unmapped(known),
                                        as_of=unmapped(as_of))
    loads = dropfolder.in_night_order((load for f in reads for load in f.result()), found.paths)
    loads = steps.find_duplicates(loads, history, as_of, folders)  # earlier the same night included
    rejects = steps.write_rejects_files(loads, run_dir)
    files = steps.mark_picked_up(steps.account(loads), folders.history, as_of)  # taken by the intraday pick-up
    opened = [open_file_warning(load.name, found.opened[load.path.name]) for load in loads
              if load.path.name in found.opened and load.status == "loaded"]
    warnings = opened + [w for load in loads for w in file_warnings(load, as_of)]
    return NightFiles(loads, files, rejects, [h.entry() for h in found.held], warnings, frozenset(found.opened))


def store(read: NightFiles, folders: Folders, history: History, as_of: date) -> list[dict[str, Any]]:
    """The night's rows, then its ledger, then the originals to the archive; returns the files that could not
    move (each stays with its file). A re-run finds its files in the ledger already."""
    fresh = steps.to_record(read.loads, history)
    order = history.next_order(as_of)
    steps.store_rows(fresh, history, as_of, order)  # one append per kind
    crash_point("after_rows")
    steps.store_ledger(fresh, history, as_of, order)  # from here on the night's files count as loaded
    crash_point("after_ledger")
    failures = steps.move_originals(read.loads[:1], folders, as_of, read.opened)
    crash_point("after_archive_first_file")  # a run killed between two moves
    failures += steps.move_originals(read.loads[1:], folders, as_of, read.opened)
    for load in read.loads:
        load.release_rows()  # the history holds them now: Prefect would keep these copies to the end of the run
    return failures


def build(history: History, policy: Policy, as_of: date) -> Built:
    """The night's state, the worklist (per store on a Dask cluster, `nightly_on`) with today's plan, and the
    KPIs, from the history as known on `as_of`."""
    inputs = steps.history_as_of(history, as_of)
    night = steps.night_state(inputs, policy, as_of)  # customers, links, stages: for the worklist and the KPIs
    worklist = fanout.worklist(inputs, policy, as_of, night)
    worklist = steps.plan_for(worklist, night, steps.previous_plan(history, as_of), policy, as_of)
    kpis = steps.kpis(inputs, worklist, policy, as_of, night)
    return Built(inputs, night, worklist, kpis, inputs.advisors.collect())


@dataclass(frozen=True)
class Written:
    workbooks: dict[str, Path]
    morning: Morning
    failures: list[dict[str, Any]]


def write(built: Built, files: list[dict[str, Any]], policy: Policy, run_dir: Path, as_of: date) -> Written:
    """Each advisor's workbook (one that fails stays with that advisor), the KPI reports, the review
    workbooks and what each manager's digest reads."""
    # the KPI reports' charts, most of the stage, are drawn in worker processes while this one writes the rest;
    # the review workbooks likewise (issue #17, #29). Not on a Dask cluster: a Dask worker process may not start
    # processes of its own, so there the reports are drawn here, in turn.
    kpi_inputs = (built.kpis, built.advisors, built.worklist, policy, files, run_dir, as_of)
    report = None if fanout.on_dask() else steps.write_kpi_report.submit(*kpi_inputs)
    review = steps.review(built.worklist, built.night, built.advisors, policy, as_of)  # what managers decide
    reviews = steps.write_reviews.submit(review, built.advisors, run_dir, as_of)
    workbooks, failures = steps.write_worklists(built.worklist, run_dir, as_of, policy)
    crash_point("during_outputs")
    refused = steps.refused_decisions(built.night, as_of, run_dir)  # into the rejects of the file that brought it
    morning = steps.manager_morning(built.worklist, built.night, built.advisors, review, reviews.result(), refused,
                                    files, policy, run_dir, as_of)
    if report is None:
        steps.write_kpi_report(*kpi_inputs)
    else:
        report.result()  # the digests attach the reports
    crash_point("after_report")
    return Written(workbooks, morning, failures)


def deliver(built: Built, written: Written, read: NightFiles, failures: list[dict[str, Any]], policy: Policy,
            run_dir: Path, history: Path, as_of: date, send: bool, mail_settings: mail.MailSettings,
            robots: Mapping[str, RobotConfig] | None,
            retry_seconds: float) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """The advisors' emails and the digests, the ops email, each store group's morning summary (issue #18):
    to the outbox, and with `send` out — each delivery retried by Prefect after `retry_seconds`, then twice that,
    while something did not go out (steps.delivered). Returns run.json's `emails`, the night's warnings and
    `group_posts`."""
    ledger = mail.ledger_path(history)
    emails = steps.delivered(steps.write_outbox, retry_seconds, built.worklist, built.advisors, written.workbooks,
                             run_dir, as_of, ledger, send, mail_settings, policy, written.morning)
    crash_point("after_outbox")
    warnings = read.warnings + steps.warnings_of(built.worklist, built.advisors)
    emails["ops"] = steps.delivered(steps.write_ops_email, retry_seconds, read.files, read.held, warnings + failures,
                                    read.rejects, run_dir, as_of, ledger, send, mail_settings)
    groups = steps.delivered(steps.post_group_summaries, retry_seconds, built.worklist, built.advisors, as_of,
                             robots, history) if send and robots else None
    return emails, warnings, groups


class Undelivered(RuntimeError):
    """The data of a night's `Partial` state: its outputs were written and published, but not everything went
    out (`undelivered`, run.json's). Calling `nightly` raises it; `return_state=True` gives the state."""

    def __init__(self, result: RunResult, undelivered: list[str]) -> None:
        super().__init__(f"{len(undelivered)} 项未送达 / {len(undelivered)} deliveries did not go out: "
                         f"{result.run_dir / 'run.json'}")
        self.result, self.undelivered = result, undelivered


def night(folders: Folders, as_of: date, policy_file: Path | None = None, settle_seconds: float = 5.0,
          send: bool = False, robots: Mapping[str, RobotConfig] | None = None,
          mail_settings: mail.MailSettings | None = None,
          retry_seconds: float = steps.DELIVERY_RETRY_SECONDS) -> RunResult | State[Any]:
    """One night: check, read, store, build, write, deliver, publish — the body of `nightly` and of the deployed
    `flows.scheduled.nightly_scheduled`, in the running flow run. The caller holds the run lock: each stage is
    marked in the history folder (adapters/run_marker.py) for the message to ops if the night stops. A night
    whose outputs were published but whose deliveries did not all go out ends in a Failed state named
    `Partial` (flows/ops_alert.py), carrying `Undelivered`."""
    check_folders(folders)  # each a folder genjin can write in (a parameter of a deployed run is not checked else)
    policy, history = load_policy(policy_file), History(folders.history)
    run_id = str(flow_run.id or "")

    def at(stage: str) -> None:
        run_marker.mark(folders.history, run_id, stage, night=as_of.isoformat(), run=flow_run.name)

    clock = Progress()  # each stage's duration (run.json) and counts (one `genjin` log record per stage)
    with to_run_logs():
        at("read")
        run_dir = publish.start(folders.out, as_of)  # the hidden partial folder; OUT/<as-of> at the end
        with clock.stage("read") as counted:
            night_files = read(folders, history, as_of, settle_seconds, run_dir)
            counted.update(read_counts(night_files.files))
        crash_point("after_read")
        at("store")
        with clock.stage("store") as counted:
            failures = store(night_files, folders, history, as_of)
            counted.update(store_counts(night_files.files))
        at("worklist")
        with clock.stage("worklist") as counted:
            built = build(history, policy, as_of)
            counted.update(worklist_counts(built.worklist))
        at("write")
        with clock.stage("write") as counted:
            written = write(built, night_files.files, policy, run_dir, as_of)
            failures += written.failures
            at("deliver")
            emails, warnings, groups = deliver(built, written, night_files, failures, policy, run_dir,
                                               folders.history, as_of, send, mail_settings or mail.MailSettings(),
                                               robots, retry_seconds)
            counted.update(write_counts(written.workbooks, emails))
        at("publish")
        steps.store_plan(built.worklist, history, as_of)  # replaces this night's plan on a re-run
        missing = undelivered(emails, groups) if send else []
        extra = {"peak_rss_mb": clock.peaks, "undelivered": missing} | (
            {"group_posts": groups} if groups is not None else {})
        summary = steps.write_summary(as_of, night_files.files, built.worklist, emails, clock.durations, run_dir,
                                      failures, extra, night_files.held, warnings)
        crash_point("before_publish")
        result = RunResult(publish.publish(run_dir, folders.out, as_of), summary)
        show_night(summary, result.run_dir)
    if missing:
        log.warning("%s: %d 项未送达 / %d deliveries did not go out", as_of, len(missing), len(missing))
        return Failed(name=PARTIAL, message=f"输出已写好，{len(missing)} 项未送达 / outputs written, "
                                            f"{len(missing)} deliveries did not go out",
                      data=Undelivered(result, missing))
    return result


def show_night(summary: dict[str, Any], run_dir: Path) -> None:
    """The night in Prefect: its summary as markdown, and its outputs as a table of links."""
    as_of = summary["as_of"]
    create_markdown_artifact(summary_markdown(summary, run_dir), key=SUMMARY_KEY,
                             description=f"夜间运行 {as_of} / the night of {as_of}")
    create_table_artifact(outputs_table(run_dir, summary), key=OUTPUTS_KEY,
                          description=f"{as_of} 的输出 / outputs of {as_of}")
    report = run_dir / "report.html"
    if report.exists():
        create_link_artifact(report.resolve().as_uri(), link_text=f"KPI 报表 {as_of}", key=REPORT_KEY,
                             description=f"{as_of} 的 KPI 报表 / KPI report")


NIGHT_TIMEOUT_SECONDS = 6 * 3600  # a night still running after six hours is stopped, and ops told


@flow(name="genjin-nightly", flow_run_name="nightly-{as_of}", log_prints=False, validate_parameters=False,
      timeout_seconds=NIGHT_TIMEOUT_SECONDS, **HOOKS)
def nightly(folders: Folders, as_of: date, policy_file: Path | None = None,
            settle_seconds: float = 5.0, send: bool = False,
            robots: Mapping[str, RobotConfig] | None = None,
            mail_settings: mail.MailSettings | None = None, ops_robot: RobotConfig | None = None,
            retry_seconds: float = steps.DELIVERY_RETRY_SECONDS) -> RunResult | State[Any]:
    """One night (`night`), as `genjin run` runs it. Safe to run again for the same as-of, and after a run
    killed at any point: the night's files are the drop folder's plus those already moved for this night, the
    ledger keeps rows from being recorded twice, and the outputs are built aside and swapped in whole
    (adapters/publish.py). The caller holds the run lock (adapters/lock.py; `genjin run` does).
    `mail_settings`: where the emails go (none: the outbox only); `ops_robot` (and `mail_settings.ops_email`):
    who hears when the night fails (its state hooks, flows/ops_alert.py)."""
    return night(folders, as_of, policy_file, settle_seconds, send, robots, mail_settings, retry_seconds)


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
