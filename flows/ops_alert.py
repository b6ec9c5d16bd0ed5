"""Telling ops when a run did not end well (issue #27), through Prefect's own mechanisms:

- the state hooks of the night and intraday flows (`on_failure`, `on_crashed`, `on_cancellation`: `HOOKS`) —
  in the run's own process when it fails or times out, in the `genjin serve` process when the run's process
  died or the run was cancelled (Prefect runs those hooks there);
- the `genjin-ops-alert` flow, which `genjin serve` deploys and Prefect automations start (genjin/automations.py):
  for a failed, crashed or cancelled run whose hooks could not tell (a hook that raised, a process the runner
  could not start, a run the server marked crashed), and when no night has completed for too long.

Each way builds the same `reports.failure_message.Failure` and sends it once — by email to `ops_email` and to
the ops group robot (`ops_robot`) — remembered in the sent ledgers, so a hook and the automation never tell
twice, and what one of them could not send the other sends. Nothing goes out without `send` (as for every
message of genjin). Where things are comes from the run's own parameters, as the Prefect server stores them."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import Flow, flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.states import State
from prefect.utilities.urls import url_for

from adapters import mail
from adapters.folders import FolderError, Folders
from adapters.lock import Busy
from adapters.robots import LEDGER_NAME as ALERTS_LEDGER
from adapters.robots import RobotConfig, post_all, robots_from
from adapters.run_marker import stage_of
from policy.model import PolicyError
from reports.failure_message import Failure, Kind, Outcome, explain, failure_mail, failure_post, partial_reason

log = logging.getLogger("genjin.ops_alert")

PARTIAL = "Partial"  # the name of the state a night ends in when its outputs were written but not all delivered
KINDS: dict[str, Kind] = {"genjin-nightly": "nightly", "genjin-nightly-scheduled": "nightly",
                          "genjin-intraday": "intraday", "genjin-intraday-scheduled": "intraday"}
RUN_NAME = re.compile(r"^(nightly|intraday)-(\d{4}-\d{2}-\d{2})(?:-(\d{2}:\d{2}))?$")
FALLBACK_LEDGER = ".genjin/sent_failures.jsonl"  # under HOME: when the history folder itself is unusable


@dataclass(frozen=True)
class RunConfig:
    """What a run's parameters say: where its history and outputs are, whether it sends, to whom ops mail goes."""

    history: Path | None
    out: Path | None
    send: bool
    mail: mail.MailSettings
    ops_robot: RobotConfig | None
    timezone: str = "Asia/Shanghai"


def _path(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str | Path) and str(value) else None


def config_of(parameters: Mapping[str, Any]) -> RunConfig:
    """From the parameters of any genjin flow (`nightly` and `intraday` take `folders` and `mail_settings`, the
    deployed flows plain strings and a `mail` dict)."""
    folders = parameters.get("folders")
    if isinstance(folders, Folders):
        history, out = folders.history, folders.out
    elif isinstance(folders, Mapping):
        history, out = _path(folders.get("history")), _path(folders.get("out"))
    else:
        drop, out = _path(parameters.get("drop")), _path(parameters.get("out"))
        beside = Folders.beside(drop, out) if drop else None
        history = _path(parameters.get("history")) or (beside.history if beside else None)
    settings = parameters.get("mail_settings") or parameters.get("mail")
    if not isinstance(settings, mail.MailSettings):
        settings = mail_settings(settings)
    robot = parameters.get("ops_robot")
    if isinstance(robot, Mapping):
        robot = RobotConfig(**robot)
    return RunConfig(history, out, bool(parameters.get("send")), settings,
                     robot if isinstance(robot, RobotConfig) else None,
                     str(parameters.get("timezone") or "Asia/Shanghai"))


# --- the facts -------------------------------------------------------------------------------------------


def outcome_of(state: State[Any] | None) -> Outcome:
    if state is None:
        return "failed"
    if state.type is StateType.CRASHED:
        return "crashed"
    if state.type in (StateType.CANCELLED, StateType.CANCELLING):
        return "cancelled"
    if state.name == "TimedOut":
        return "timed_out"
    return "partial" if state.name == PARTIAL else "failed"


def error_of(state: State[Any] | None) -> BaseException | None:
    """The exception the run failed with, when this process has it (a hook in the run's own process)."""
    if state is None or not state.is_failed():
        return None
    try:
        found = state.result(raise_on_failure=False)
    except Exception:  # a result this process cannot read (another process's storage, nothing stored)
        return None
    return found if isinstance(found, BaseException) else None


def night_of(flow_run: FlowRun, config: RunConfig) -> tuple[Kind | None, str]:
    """The kind of run and its night (`2026-11-20`, intraday `2026-11-20 10:15`), from its name
    (`nightly-2026-11-20`, `intraday-2026-11-20-10:15`), else from when it was scheduled."""
    found = RUN_NAME.match(flow_run.name or "")
    if found:
        kind: Kind = "nightly" if found[1] == "nightly" else "intraday"
        return kind, found[2] + (f" {found[3]}" if found[3] else "")
    moment = flow_run.expected_start_time or datetime.now(ZoneInfo("UTC"))
    return None, moment.astimezone(ZoneInfo(config.timezone)).date().isoformat()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sent_tonight(history: Path | None, night: str) -> tuple[int, int]:
    """Advisors and managers the sent ledger has a plan email or a digest sent to for `night`."""
    if history is None:
        return 0, 0
    entries = mail.SentLedger(mail.ledger_path(history)).entries()
    sent = {(e.get("kind"), e.get("recipient_id")) for e in entries
            if e.get("status") == "sent" and e.get("as_of") == night}
    return sum(k == "advisor" for k, _ in sent), sum(k == "digest" for k, _ in sent)


def log_place(flow_run: FlowRun, config: RunConfig) -> str:
    """The run's page in Prefect when it is a deployment's run; else the log file `genjin run` writes."""
    if flow_run.deployment_id is not None:
        return url_for("flow-run", obj_id=flow_run.id) or f"Prefect flow run {flow_run.id}"
    return str(run_log_path(config.out, flow_run.name).absolute()) if config.out else ""


def run_log_path(out: Path, run_name: str) -> Path:
    """Where `genjin run` keeps the whole log of a run (Prefect's and genjin's records, tracebacks included)."""
    return out / "logs" / f"{run_name}.log"


def stage_at(history: Path | None, run_id: str, error: BaseException | None) -> str | None:
    """Where run `run_id` stopped: the stage it marked last (adapters/run_marker.py), or — for what stops a run
    before it marks any, under the lock — the check of its folders and policy, or the wait for the lock."""
    if isinstance(error, FolderError | PolicyError):
        return "check"
    if isinstance(error, Busy):
        return "wait"
    return stage_of(history, run_id) if history else None


def failure_of(flow_name: str, flow_run: FlowRun, state: State[Any] | None, config: RunConfig,
               error: BaseException | None = None) -> Failure:
    """The message's facts for a run of `flow_name` that ended in `state`."""
    named, night = night_of(flow_run, config)
    kind: Kind = named or KINDS.get(flow_name, "nightly")
    outcome = outcome_of(state)
    day = night.split(" ")[0]
    stage = stage_at(config.history, str(flow_run.id), error)
    undelivered: list[str] = []
    if outcome == "partial" and config.out:
        undelivered = [str(line) for line in _read_json(config.out / day / "run.json").get("undelivered", [])]
        reason = partial_reason(len(undelivered), day)
        stage = "deliver"
    else:
        reason = explain(outcome, error, state.message if state else None, day, kind)
    advisors, digests = sent_tonight(config.history, day) if kind == "nightly" else (0, 0)
    return Failure(kind, outcome, night, flow_run.name or str(flow_run.id), reason, stage, advisors, digests,
                   tuple(undelivered), log_place(flow_run, config), config.send, run_id=str(flow_run.id))


# --- sending ----------------------------------------------------------------------------------------------


class _Discard:
    """The outbox of the failure message: none (the ledger records it; run.json may not exist)."""

    def send(self, item: mail.Outgoing) -> None:
        pass

    def close(self) -> None:
        pass


class _Ledger(mail.SentLedger):
    """A sent ledger of the failure messages: in the history folder, or — when that cannot be written (the
    folder a run failed on) — in genjin's own folder; what either has as sent counts, so the hook that wrote to
    one and the ops-alert run that reads after the history folder was made agree."""

    def __init__(self, history: Path | None, name: str) -> None:
        fallback = Path.home() / FALLBACK_LEDGER
        self.fallback = fallback.with_name(f"{fallback.stem}-{name}")
        usable = history is not None and history.is_dir() and os.access(history, os.W_OK)
        super().__init__(history / name if usable and history is not None else self.fallback)

    def sent_keys(self) -> set[str]:
        found = super().sent_keys()
        return found | mail.SentLedger(self.fallback).sent_keys() if self.path != self.fallback else found


def _ledger(history: Path | None, name: str) -> mail.SentLedger:
    return _Ledger(history, name)


def tell(failure: Failure, config: RunConfig, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Send `failure` to ops: by email (`ops_email`) and to the ops robot, each unless the sent ledgers have it
    sent already. Returns what happened, for the log: {email: {...}, robot: {...}}."""
    env = os.environ if env is None else env
    told: dict[str, Any] = {}
    if not config.send:
        log.info("发送未开启，失败消息未发出 / not sending (--send is off): %s", failure.run_name)
        return {"skipped": "not sending"}
    address = (config.mail.ops_email or "").strip()
    if mail.is_address(address):
        transport, sender = mail.transport_for(config.mail, True, env)
        result = mail.dispatch([failure_mail(failure, address, sender)], _Discard(), transport,
                               _ledger(config.history, mail.LEDGER_NAME))
        told["email"] = {"to": address, "sent": result.sent, "already_sent": result.already_sent,
                         "failed": result.failed}
    if config.ops_robot is not None:
        robots, missing = robots_from({"ops": config.ops_robot}, env)
        posts = post_all([failure_post(failure)], robots, _ledger(config.history, ALERTS_LEDGER))
        told["robot"] = posts.as_dict() | {"missing": missing}
    log.info("已通知运维 / ops told about %s: %s", failure.run_name, json.dumps(told, ensure_ascii=False))
    return told


def already_told(failure: Failure, config: RunConfig) -> bool:
    """Whether every way ops can be told has this failure as sent."""
    address = (config.mail.ops_email or "").strip()
    ways = []
    if config.send and mail.is_address(address):
        key = failure_mail(failure, address, config.mail.outbox_sender).key
        ways.append(key in _ledger(config.history, mail.LEDGER_NAME).sent_keys())
    if config.send and config.ops_robot is not None:
        ways.append(failure.key in _ledger(config.history, ALERTS_LEDGER).sent_keys())
    return all(ways)


def told_ways(history: Path, run_id: str) -> list[str]:
    """How ops were told about run `run_id`: "email", "robot" — what the sent ledgers have as sent."""
    ways = []
    for way, name in (("email", mail.LEDGER_NAME), ("robot", ALERTS_LEDGER)):
        if any("failure|" in key and run_id in key for key in _ledger(history, name).sent_keys()):
            ways.append(way)
    return ways


# --- the state hooks --------------------------------------------------------------------------------------


def on_bad_end(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """`on_failure`, `on_crashed` and `on_cancellation` of every genjin flow: tell ops. A subflow's run (the
    night on a Dask cluster, inside the deployed flow) leaves it to its parent's hook, so ops hear once."""
    if flow_run.parent_task_run_id is not None:
        return
    flow_run, current = _fresh(flow_run)
    if state.type not in (StateType.CANCELLING, StateType.CANCELLED) and current is not None and \
            current.type in (StateType.CANCELLING, StateType.CANCELLED):
        state = current  # a run being cancelled is cancelled, whatever its killed process proposed last
    config = config_of(flow_run.parameters)
    tell(failure_of(flow.name, flow_run, state, config, error_of(state)), config)


def _fresh(flow_run: FlowRun) -> tuple[FlowRun, State[Any] | None]:
    """The run as the server has it now, and its state: the `genjin serve` process that runs `on_crashed` holds
    the run as it was handed out, before the run's own process named it for its night."""
    try:
        with get_client(sync_client=True) as client:
            found = client.read_flow_run(flow_run.id)
    except Exception:  # no server to ask: the hook's own copy stands
        return flow_run, None
    return found, found.state


HOOKS: dict[str, list[Any]] = {"on_failure": [on_bad_end], "on_crashed": [on_bad_end],
                               "on_cancellation": [on_bad_end]}


# --- the flow the automations run -------------------------------------------------------------------------


def _last_completed(deployment_id: str) -> FlowRun | None:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[UUID(deployment_id)])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.COMPLETED]))),
            sort=FlowRunSort.END_TIME_DESC, limit=1)
    return runs[0] if runs else None


def missed_failure(last: FlowRun | None, hours: float, today: date, log: str) -> Failure:
    since = (f"上一次完成的是 {last.name}（结束于 {last.end_time:%Y-%m-%d %H:%M} UTC）" if last and last.end_time
             else "还没有一次夜间运行完成过")
    since_en = (f"the last completed was {last.name} (ended {last.end_time:%Y-%m-%d %H:%M} UTC)"
                if last and last.end_time else "no nightly run has completed yet")
    reason = explain("missed", night=today.isoformat())
    reason = type(reason)(f"已经 {hours:g} 小时没有一次夜间运行完成；{since}",
                          f"no nightly run has completed for {hours:g} hours; {since_en}", reason.todo_zh,
                          reason.todo_en)
    return Failure("nightly", "missed", today.isoformat(), last.name if last and last.name else "—", reason,
                   log=log, run_id=f"missed-{today.isoformat()}")


@flow(name="genjin-ops-alert", flow_run_name="ops-alert-{what}", log_prints=False)
def ops_alert(what: str, flow_run_id: str | None = None, nightly_deployment_id: str | None = None,
              history: str | None = None, out: str | None = None, send: bool = False,
              mail: dict[str, Any] | None = None, ops_robot: dict[str, Any] | None = None,
              timezone: str = "Asia/Shanghai", missed_hours: float = 26.0, robot_by_server: bool = False,
              grace_seconds: float = 30.0) -> dict[str, Any]:
    """Started by genjin's automations: `what="failed"` for the run `flow_run_id` that failed, crashed or was
    cancelled — after `grace_seconds`, so that its own hooks tell first; it sends what they have not —, or
    `what="missed"` when the nightly deployment has completed no run for `missed_hours` (the robot post is the
    server's own when `robot_by_server`: it reaches ops even with `genjin serve` stopped)."""
    config = RunConfig(_path(history), _path(out), send, mail_settings(mail),
                       RobotConfig(**ops_robot) if ops_robot else None, timezone)
    if what == "missed":
        last = _last_completed(nightly_deployment_id) if nightly_deployment_id else None
        today = datetime.now(ZoneInfo(timezone)).date()
        failure = missed_failure(last, missed_hours, today, url_for("deployment", obj_id=nightly_deployment_id)
                                 or "" if nightly_deployment_id else "")
        if robot_by_server:
            config = RunConfig(config.history, config.out, config.send, config.mail, None, timezone)
        return tell(failure, config)
    if flow_run_id is None:
        return {"skipped": "no flow run"}
    time.sleep(max(grace_seconds, 0))
    with get_client(sync_client=True) as client:
        failed = client.read_flow_run(UUID(flow_run_id))
        flow_name = client.read_flow(failed.flow_id).name
    config = config_of(failed.parameters)
    failure = failure_of(flow_name, failed, failed.state, config)
    if already_told(failure, config):
        log.info("运维已收到通知 / ops were told already about %s", failed.name)
        return {"skipped": "told already"}
    return tell(failure, config)


def mail_settings(values: Mapping[str, Any] | None) -> mail.MailSettings:
    return mail.MailSettings(**{k: v for k, v in dict(values or {}).items()
                                if k in mail.MailSettings.__dataclass_fields__})

