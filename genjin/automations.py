"""The Prefect automations `genjin serve` registers beside its deployments (issue #27) — for what the flows' own
state hooks cannot see:

- **no night completed** (`missed_night_hours`, default 26): a proactive trigger on the nightly deployment's
  `prefect.flow-run.Completed` events, restarted by each completion (`after` = `expect`; without a `for_each`
  the server also opens a window when it first evaluates the automation, so a deployment that never completes
  is noticed too). It fires when a window passes without a completion, and again after each further window.
  Its actions: the `genjin-ops-alert` deployment (the email, and the robot post when the server cannot make it)
  and, when the ops robot's webhook needs no signature (WeCom, DingTalk without 加签), a webhook call made by the
  Prefect server itself: it reaches ops even while `genjin serve` (or its machine) is down — the server keeps
  the robot's URL in a Webhook block, Prefect's store for secrets.
- **a run failed, crashed, timed out or was cancelled** (the nightly and intraday deployments): a reactive
  trigger whose action is the `genjin-ops-alert` deployment for that run. It waits a little and sends only what
  the run's own hooks did not (the sent ledgers): a hook that raised, a process the runner could not start, a run
  the server itself marked crashed.

The server runs them (its triggers and actions services); they exist while it does. Registration is by name: an
automation already there with the same trigger and actions is kept (its window goes on), a changed one replaced.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.webhook import Webhook
from prefect.events.actions import Action, CallWebhook, RunDeployment
from prefect.events.schemas.automations import EventTrigger, Posture
from pydantic import SecretStr

from adapters.robots import DingTalkRobot, RobotConfig, WeComRobot, robots_from
from reports.failure_message import Failure, explain, failure_post

WEBHOOK_BLOCK = "genjin-ops-robot"
BAD_ENDS = ("Failed", "Crashed", "TimedOut", "Cancelled", "Partial")  # state names: `prefect.flow-run.<name>`


def _deployment(ids: list[UUID]) -> dict[str, Any]:
    return {"prefect.resource.role": "deployment",
            "prefect.resource.id": [f"prefect.deployment.{i}" for i in ids]}


def missed_trigger(nightly: UUID, hours: float) -> EventTrigger:
    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"}, match_related=_deployment([nightly]),  # type: ignore[arg-type]
        after={"prefect.flow-run.Completed"}, expect={"prefect.flow-run.Completed"},
        posture=Posture.Proactive, threshold=1, within=timedelta(hours=hours))


def failed_trigger(deployments: list[UUID]) -> EventTrigger:
    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"}, match_related=_deployment(deployments),  # type: ignore[arg-type]
        expect={f"prefect.flow-run.{name}" for name in BAD_ENDS}, posture=Posture.Reactive, threshold=1,
        within=timedelta(0))


def server_post(robot: RobotConfig | None, env: Mapping[str, str], hours: float, deployment: str) -> str | None:
    """The JSON body the Prefect server posts to the ops robot when no night completed, or None when it cannot
    (no ops robot, its variable not set, or a DingTalk robot that signs each post)."""
    if robot is None:
        return None
    found, _ = robots_from({"ops": robot}, env)
    client = found.get("ops")
    if client is None or (isinstance(client, DingTalkRobot) and robot.secret_env):
        return None
    reason = explain("missed")
    failure = Failure("nightly", "missed", f"{hours:g} 小时内 / in {hours:g} h", deployment,
                      type(reason)(f"已经 {hours:g} 小时没有一次夜间运行完成（genjin 所在机器 {socket.gethostname()}）",
                                   f"no nightly run has completed for {hours:g} hours (genjin's machine "
                                   f"{socket.gethostname()})", reason.todo_zh, reason.todo_en))
    body = (client if isinstance(client, WeComRobot | DingTalkRobot) else WeComRobot("")).body(failure_post(failure))
    return json.dumps(body, ensure_ascii=False)  # JSON has no `{{` or `{%`: nothing in it is a Jinja template


def webhook_block(robot: RobotConfig, env: Mapping[str, str]) -> UUID:
    """The ops robot's URL as Prefect's Webhook block (overwritten at each start: the variable may change)."""
    url = env[robot.webhook_env].strip()
    block = Webhook(method="POST", url=SecretStr(url), headers={"Content-Type": "application/json"})  # type: ignore[arg-type]
    return block.save(WEBHOOK_BLOCK, overwrite=True)  # type: ignore[no-any-return]


def _shape(value: Any) -> Any:
    """A trigger's or an action's JSON without the ids the server gives it: what makes two the same."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def ensure(name: str, description: str, trigger: EventTrigger, actions: list[Action]) -> str:
    """Create the automation `name`, or keep it when it is already there as wanted, or replace it. Returns
    what was done: "kept", "created" or "replaced"."""
    wanted = Automation(name=name, description=description, trigger=trigger, actions=actions)
    try:
        found = Automation.read(name=name)
    except ValueError:
        found = None
    if found is not None:
        same = _shape(found.model_dump(mode="json", include={"trigger", "actions", "description"})) == _shape(
            wanted.model_dump(mode="json", include={"trigger", "actions", "description"}))
        if same and found.enabled:
            return "kept"
        found.delete()
    wanted.create()
    return "replaced" if found is not None else "created"


def register(deployment: str, nightly: UUID, intraday: UUID | None, alert: UUID, hours: float,
             ops_robot: RobotConfig | None, env: Mapping[str, str]) -> dict[str, str]:
    """genjin's two automations for the deployment named `deployment`; returns what was done with each."""
    post = server_post(ops_robot, env, hours, deployment)
    missed_actions: list[Action] = [RunDeployment(source="selected", deployment_id=alert, parameters={
        "what": "missed", "nightly_deployment_id": str(nightly), "missed_hours": hours,
        "robot_by_server": post is not None})]
    if post is not None and ops_robot is not None:
        missed_actions.append(CallWebhook(block_document_id=webhook_block(ops_robot, env), payload=post))
    # the run's id as text: a bare "{{ flow_run.id }}" is rendered through `tojson`, which a UUID fails
    failed_actions: list[Action] = [RunDeployment(source="selected", deployment_id=alert, parameters={
        "what": "failed", "flow_run_id": {"__prefect_kind": "jinja", "template": "{{ flow_run.id }}"}})]
    watched = [nightly, *([intraday] if intraday else [])]
    return {
        "missed": ensure(f"genjin-{deployment}-no-night-completed",
                         f"没有夜间运行完成已 {hours:g} 小时：通知运维 / no night completed for {hours:g} h: tell ops",
                         missed_trigger(nightly, hours), missed_actions),
        "failed": ensure(f"genjin-{deployment}-run-failed",
                         "运行失败、中断、超时或被取消：通知运维（运行自己的钩子没发出的）/ "
                         "a run failed, crashed, timed out or was cancelled: tell ops what its own hooks did not",
                         failed_trigger(watched), failed_actions),
    }
