"""Prefect tasks: each wraps one step — read a file, store it, move it, build the worklist, write an output."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from adapters import archive, dropfolder, duplicates, failures, pickup
from adapters.folders import Folders
from adapters.history import NIGHT, History
from adapters.ingest import SOURCE, FileLoad, load_new_file, quarantine
from adapters.mail import MailSettings, unsent
from adapters.robots import RobotConfig
from flows import night_mail
from flows.alert_delivery import post_summaries
from policy.model import Policy
from reports.digest import Morning
from reports.html_report import write_kpi_outputs
from reports.kpi_json import read_earlier_kpis
from reports.rejects import refused_decision_sheet, write_rejects
from reports.run_summary import file_entry, left_blank, summary, write_run_json
from reports.workbooks_parallel import write_advisor_workbooks, write_review_workbooks
from reports.worklist_csv import planned_rows, write_worklist_csv
from schemas.validate import ROW, SHEET
from transforms import bulk_decisions, decisions
from transforms.alerts import group_summary
from transforms.frames import Inputs, latest_rows
from transforms.kpis import KpiResult, compute_kpis
from transforms.morning import chase_list, returned_workbooks
from transforms.night import Night, prepare
from transforms.plan import advisor_plans, plan_night
from transforms.review import bulk_proposals, capacities, review_rows, teammates, todays_review
from transforms.warnings import night_warnings
from transforms.worklist import worklist_from

step = task(cache_policy=NO_CACHE, log_prints=False)
io_step = task(cache_policy=NO_CACHE, log_prints=False, retries=2, retry_delay_seconds=1)
# Delivery (issue #27): a task whose emails or posts did not all go out raises `NotDelivered`, and Prefect tries it
# again after `retry_seconds`, then twice that (`delivered`); the sent ledgers keep what went out from going twice.
DELIVERY_RETRY_SECONDS = 30.0
deliver_step = task(cache_policy=NO_CACHE, log_prints=False, retries=2, retry_jitter_factor=0.2,
                    retry_delay_seconds=exponential_backoff(backoff_factor=DELIVERY_RETRY_SECONDS))


class NotDelivered(RuntimeError):
    """What a delivery task raises when something did not go out, so that Prefect retries it; `result` is what
    the attempt did (run.json's block)."""

    def __init__(self, result: dict[str, Any], failed: int) -> None:
        super().__init__(f"{failed} 项未送达，稍后重试 / {failed} not delivered, to be retried")
        self.result = result


def delivered(deliver: Task[..., dict[str, Any]], retry_seconds: float, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run the delivery task `deliver` with Prefect's retries, waiting `retry_seconds` before the first and twice
    that before the second; returns what its last attempt did. Another error of the task is the night's."""
    retrying = deliver.with_options(retry_delay_seconds=exponential_backoff(backoff_factor=max(retry_seconds, 0)))
    state = retrying(*args, return_state=True, **kwargs)
    if state.is_completed():
        return state.result()  # type: ignore[no-any-return]
    error = state.result(raise_on_failure=False)
    if isinstance(error, NotDelivered):
        return error.result
    raise error if isinstance(error, BaseException) else RuntimeError(f"{deliver.name}: {state.message}")


@step
def night_files(folders: Folders, as_of: date, settle_seconds: float) -> dropfolder.NightFiles:
    return dropfolder.night_files(folders, as_of, settle_seconds)


@step
def find_duplicates(loads: list[FileLoad], history: History, as_of: date, folders: Folders) -> list[FileLoad]:
    """Each file whose content the ledger (or an earlier file tonight) already loaded becomes a `duplicate`."""
    firsts = duplicates.first_loads(history.ledger(as_of))
    return duplicates.mark_duplicates(loads, firsts, as_of, folders.archive / as_of.isoformat())


@step
def read_and_validate(paths: list[Path], known: frozenset[str], as_of: date) -> list[FileLoad]:
    """A batch of files, each read and validated for the night of `as_of`; `known`: the SHA-256 of files loaded on
    earlier nights (`History.digests(before=as_of)`) — a file with one of them is a duplicate."""
    return [load_new_file(path, known.__contains__, as_of) for path in paths]


@step
def to_record(loads: list[FileLoad], history: History) -> list[FileLoad]:
    return history.to_record(loads)


@io_step
def store_rows(loads: list[FileLoad], history: History, as_of: date, first_order: int) -> None:
    history.record_rows(loads, as_of, first_order)


@io_step
def store_ledger(loads: list[FileLoad], history: History, as_of: date, first_order: int) -> None:
    history.record_ledger(loads, as_of, first_order)


@step
def write_rejects_files(loads: list[FileLoad], run_dir: Path) -> list[Path]:
    """rejects/<file>.rejects.xlsx for each file with rejected (or warned) rows: reasons, fixes, the original rows.
    A file whose rejects cannot be written is quarantined instead (before anything of it is stored), with
    the reason: it changes that `load` in place, as it changes nothing else."""
    written = []
    for load in loads:
        sheets = [s for s in load.sheets if s.rejects.height or s.warnings.height]
        if not sheets:
            continue
        folder = run_dir / "rejects"
        folder.mkdir(exist_ok=True)
        path = archive.free_name(folder, load.path.name, tail=".rejects.xlsx")
        try:
            written.append(write_rejects(sheets, path))
        except BaseException as err:
            if not failures.is_contained(err):
                raise
            path.unlink(missing_ok=True)
            quarantine(load, failures.reason(*REJECTS_FAILED, err))
    return written


REJECTS_FAILED = ("无法写出此文件的 rejects 工作簿，整个文件已隔离、未载入，其他文件照常处理",
                  "its rejects workbook could not be written; the file is quarantined, not loaded, "
                  "and the other files go on")


@io_step
def move_originals(loads: list[FileLoad], folders: Folders, as_of: date,
                   opened: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Each original to archive/<as-of>/, or to quarantine/<as-of>/ with its reason. A retry passes over
    files an earlier attempt moved already. A file that cannot be archived goes to quarantine with the
    reason (its rows stay loaded); one that cannot be moved at all stays in the drop folder for the next
    run — and so does a file read while open in Excel/WPS (`opened`, its name) that cannot be moved: its rows
    are loaded, and a later run archives it as a duplicate once it is closed. Each move is journalled
    (`archive.journal_path`): a run killed inside one is told from a re-drop. Returns run.json's `failures`."""
    quarantined = folders.quarantine / as_of.isoformat()
    journal = archive.journal_path(folders.history, as_of)
    failed = []
    for load in loads:
        if not load.path.exists():
            continue
        try:
            if load.status == "quarantined":
                archive.quarantine(load.path, quarantined, load.why, journal)
            else:
                archive.archive(load.path, folders.archive, as_of, journal)
        except BaseException as err:
            if not failures.is_contained(err):
                raise
            if load.path.name in opened and load.status != "quarantined":
                failed.append(failures.failure("open_not_moved", *OPEN_NOT_MOVED, err, file=load.name))
                continue
            failed.append(failures.failure("move_failed", *MOVE_FAILED, err, file=load.name))
            with contextlib.suppress(OSError):
                if load.path.exists() and load.status != "quarantined":
                    archive.quarantine(load.path, quarantined, failures.reason(*MOVE_FAILED, err), journal)
    return failed


OPEN_NOT_MOVED = ("文件仍在 Excel/WPS 中打开，无法移动：内容已载入，文件暂留在投放目录；关闭后，下一次运行会把它归档"
                  "（同样的内容不会再载入一次）",
                  "the file is still open in Excel/WPS and cannot be moved: its content is loaded and it stays in "
                  "the drop folder; once it is closed, the next run archives it (the same content is not loaded again)")
MOVE_FAILED = ("无法归档此文件（已载入的行保留），文件移到隔离目录；若仍在投放目录，下次运行会再移动",
               "the file could not be archived (its loaded rows stay); it went to quarantine, or, "
               "if it is still in the drop folder, the next run moves it")


@step
def account(loads: list[FileLoad]) -> list[dict[str, Any]]:
    """run.json's entry per file; fails the run loudly if any row is unaccounted for."""
    return [file_entry(load) for load in loads]


@step
def history_as_of(history: History, as_of: date) -> Inputs:
    return history.inputs(as_of)


@step
def night_state(inputs: Inputs, policy: Policy, as_of: date) -> Night:
    return prepare(inputs, policy, as_of)


@step
def worklist_for(night: Night, policy: Policy, as_of: date) -> pl.DataFrame:
    return worklist_from(night, policy, as_of)


@step
def previous_plan(history: History, as_of: date) -> pl.DataFrame:
    return history.previous_plan(as_of)


@step
def plan_for(worklist: pl.DataFrame, night: Night, previous: pl.DataFrame, policy: Policy,
             as_of: date) -> pl.DataFrame:
    """The worklist with each advisor's plan (transforms/plan.py)."""
    return plan_night(worklist, night, policy, as_of, previous)


@io_step
def store_plan(planned: pl.DataFrame, history: History, as_of: date) -> None:
    history.record_plan(planned, as_of)


@step
def write_worklists(worklist: pl.DataFrame, run_dir: Path, as_of: date,
                    policy: Policy) -> tuple[dict[str, Path], list[dict[str, Any]]]:
    """worklist.csv and each advisor's workbook of today's plan; returns the workbooks written, and run.json's
    `failures` of the advisors whose workbook could not be (the others are written regardless)."""
    write_worklist_csv(worklist, run_dir / "worklist.csv")
    folder = run_dir / "worklists"
    folder.mkdir(exist_ok=True)
    plans = advisor_plans(worklist, policy)
    jobs = [(advisor_id, group, folder / f"{archive.safe_name(advisor_id)}.xlsx")
            for (advisor_id,), group in plans.group_by("advisor_id", maintain_order=True)]
    failed: list[dict[str, Any]] = []
    return write_advisor_workbooks(jobs, as_of, policy.talk_tracks, failed=failed), failed


@step
def kpis(inputs: Inputs, worklist: pl.DataFrame, policy: Policy, as_of: date, night: Night) -> KpiResult:
    """Every KPI of the night, for both windows and every dimension (transforms/kpis.py)."""
    return compute_kpis(inputs, policy, as_of, worklist, night)


@step
def write_kpi_report(result: KpiResult, advisors: pl.DataFrame, worklist: pl.DataFrame, policy: Policy,
                     files: list[dict[str, Any]], run_dir: Path, as_of: date) -> Path:
    """report.html and kpis.json; the trend charts read the kpis.json of earlier nights beside run_dir."""
    earlier = read_earlier_kpis(run_dir.parent, as_of)
    roster = latest_rows(advisors, "advisor_id")
    return write_kpi_outputs(result, roster, worklist, policy, as_of, run_dir, files, earlier).report


@step
def refused_decisions(night: Night, as_of: date, run_dir: Path) -> pl.DataFrame:
    """The decisions brought by tonight's files that cannot hold, each written to its file's rejects workbook
    (`rejects/<file>.rejects.xlsx`, beside the rows rejected on reading); returned with the customer's name."""
    checked = night.decisions.collect()
    tonight = decisions.refused(checked.lazy()).collect()
    if NIGHT in tonight.columns:
        tonight = tonight.filter(pl.col(NIGHT) == as_of.isoformat())
    if SOURCE in tonight.columns and tonight.height:
        folder = run_dir / "rejects"
        folder.mkdir(exist_ok=True)
        for (name,), rows in tonight.group_by(SOURCE, maintain_order=True):
            sheets = [refused_decision_sheet(part) for _, part in rows.group_by(SHEET, maintain_order=True)]
            # the name write_rejects_files gave the file's reading rejects (a file name: no folder in it)
            write_rejects(sheets, folder / f"{Path(str(name)).name}.rejects.xlsx", append=True)
    names = night.customers.select("customer_id", "customer_name").collect()
    return tonight.drop(ROW, SHEET, strict=False).join(names, on="customer_id", how="left")


@dataclass(frozen=True)
class Review:
    rows: pl.DataFrame  # every customer awaiting a manager's decision (transforms.review.review_rows)
    bulk: pl.DataFrame  # the 整批 rows offered (transforms.review.bulk_proposals)


@step
def review(worklist: pl.DataFrame, night: Night, advisors: pl.DataFrame, policy: Policy, as_of: date) -> Review:
    """What each manager is asked to decide; a customer a decision holds for already comes after the others."""
    decided = decisions.in_effect(night.decisions, as_of).select("customer_id").unique().collect()
    rows = review_rows(worklist, advisors, policy, decided)
    return Review(rows, bulk_proposals(rows, capacities(worklist, advisors, policy), night, policy, as_of))


@step
def write_reviews(review: Review, advisors: pl.DataFrame, run_dir: Path, as_of: date) -> dict[str, Path]:
    """reviews/<manager_id>.xlsx: each manager's review workbook (issue #16) — today's rows and the 整批 rows —
    in worker processes when there are many rows (reports/workbooks_parallel.py)."""
    folder = run_dir / "reviews"
    folder.mkdir(exist_ok=True)
    names = dict(advisors.select("advisor_id", pl.col("name").fill_null(pl.col("advisor_id"))).iter_rows())
    bulk = review.bulk.partition_by("manager_id", as_dict=True)
    jobs = [(str(manager), part, bulk.get((manager,), review.bulk.clear()), names,
             teammates(advisors, str(manager)), folder / f"{archive.safe_name(str(manager))}.xlsx")
            for (manager,), part in todays_review(review.rows).group_by("manager_id", maintain_order=True)]
    return write_review_workbooks(jobs, as_of)


@step
def manager_morning(worklist: pl.DataFrame, night: Night, advisors: pl.DataFrame, review: Review,
                    reviews: dict[str, Path], refused: pl.DataFrame, files: list[dict[str, Any]], policy: Policy,
                    run_dir: Path, as_of: date) -> Morning:
    """What each manager's digest leads with; yesterday's plan is read from last night's worklist.csv. `files`:
    run.json's entries of tonight's files (their rows left undecided)."""
    yesterday = run_dir.parent / (as_of - timedelta(days=1)).isoformat() / "worklist.csv"
    applied = bulk_decisions.applied(night.decisions).collect()
    if NIGHT in applied.columns:  # the 整批 rows brought by tonight's files
        applied = applied.filter(pl.col(NIGHT) == as_of.isoformat())
    return Morning(
        chase=chase_list(worklist, policy),
        capacity=capacities(worklist, advisors, policy),
        review=review.rows,
        bulk=review.bulk,
        applied=applied,
        undecided=left_blank(files, "undecided"),
        returned=returned_workbooks(night.followups, planned_rows(yesterday), as_of),
        refused=refused,
        reviews=reviews,
        hot_grades=tuple(policy.review.hot_grades),
        escalate_after=policy.plan.escalate_after_nights,
    )


@deliver_step
def write_outbox(worklist: pl.DataFrame, advisors: pl.DataFrame, workbooks: dict[str, Path], run_dir: Path,
                 as_of: date, ledger_path: Path | None, send: bool, mail_settings: MailSettings, policy: Policy,
                 morning: Morning | None = None) -> dict[str, Any]:
    """Each advisor's worklist email and each manager's digest, written to outbox/ as .eml; with `send`,
    also sent over SMTP (`mail_settings`) unless the sent ledger at `ledger_path`
    (`adapters.mail.ledger_path(folders.history)`) says it went out already. Returns run.json's `emails` block."""
    result = night_mail.deliver(worklist, advisors, workbooks, run_dir, as_of, ledger_path, send, mail_settings,
                                policy, morning=morning)
    failed = unsent(result["failed"]) if send else []
    if failed:
        raise NotDelivered(result, len(failed))
    return result


@step
def mark_picked_up(files: list[dict[str, Any]], history: Path, as_of: date) -> list[dict[str, Any]]:
    return pickup.mark_picked_up(files, history, as_of)


@deliver_step
def post_group_summaries(worklist: pl.DataFrame, advisors: pl.DataFrame, as_of: date,
                         robots: Mapping[str, RobotConfig], history: Path) -> dict[str, Any]:
    """Each store's morning summary to its group robot, once (history/sent_alerts.jsonl); run.json's
    `group_posts`."""
    result = post_summaries(group_summary(worklist), advisors, as_of, robots, os.environ, history)
    if result["failed"]:
        raise NotDelivered(result, len(result["failed"]))
    return result


@step
def warnings_of(worklist: pl.DataFrame, advisors: pl.DataFrame) -> list[dict[str, Any]]:
    return night_warnings(worklist, advisors)


@deliver_step
def write_ops_email(files: list[dict[str, Any]], held: list[dict[str, Any]], warnings: list[dict[str, Any]],
                    rejects: list[Path], run_dir: Path, as_of: date, ledger_path: Path | None, send: bool,
                    mail_settings: MailSettings) -> dict[str, Any]:
    """outbox/ops.eml for the `ops_email` address, sent with `send`; none on a clean night."""
    result = night_mail.deliver_ops(files, held, warnings, rejects, run_dir, as_of, ledger_path, send, mail_settings)
    failed = unsent(result.get("failed", [])) if send else []
    if failed:
        raise NotDelivered(result, len(failed))
    return result


@step
def write_summary(as_of: date, files: list[dict[str, Any]], worklist: pl.DataFrame, emails: dict[str, Any],
                  durations: dict[str, float], run_dir: Path, failures: list[dict[str, Any]] | None = None,
                  extra: dict[str, Any] | None = None, held: list[dict[str, Any]] | None = None,
                  warnings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data = summary(as_of, files, worklist, emails, durations, failures, held, warnings) | (extra or {})
    write_run_json(data, run_dir / "run.json")
    return data
