"""`genjin serve` against a real `prefect server start` (issue #8): the deployment is on cron 0 2 * * * in
Asia/Shanghai, and a run triggered from the server processes the drop folder for the scheduled night."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from demo.sample_data import generate

FLOW = "genjin-nightly-scheduled"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, home: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        HOME=str(tmp),
        PREFECT_HOME=str(tmp / home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_SERVER_UI_ENABLED="false",
        **extra,
    )
    return env


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _until(what: str, check: Any, timeout: float, procs: list[subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"{p.args!r} exited with {p.returncode} while waiting for {what}"
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def post(api: httpx.Client, url: str, body: dict[str, Any]) -> Any:
    """A write to the server, tried again while SQLite is busy (503: what Prefect's own client retries)."""
    for _ in range(10):
        response = api.post(url, json=body)
        if response.status_code != 503:
            break
        time.sleep(1)
    return response.raise_for_status().json()


@contextmanager
def prefect_server(tmp: Path) -> Iterator[str]:
    """`prefect server start` on a free loopback port, its home and log under `tmp`; yields its API URL."""
    port = _free_port()
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
         "--analytics-off", "--no-ui"],
        env=_env(tmp, "server-home"), stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        # a loaded machine (several sessions, 2 cores) can take over a minute to start the server
        _until("the Prefect server", lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 240, [proc])
        yield api
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with prefect_server(tmp_path) as api:
        yield api


@pytest.mark.slow
def test_serve_runs_the_nightly_deployment_on_a_real_server(server: str, tmp_path: Path) -> None:
    drop, out = tmp_path / "drop", tmp_path / "out"
    generate(drop, as_of=date(2026, 11, 23), seed=11, size=1)
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "genjin.cli", "serve", "--drop", str(drop), "--out", str(out), "--settle-seconds", "0"],
        env=_env(tmp_path, "client-home", PREFECT_API_URL=server, PREFECT_RUNNER_POLL_FREQUENCY="1",
                 GENJIN_INTRADAY_HOURS="off"),  # no intraday run may take the drop folder's files meanwhile
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=server, timeout=10) as api:

            def deployment() -> dict[str, Any] | None:
                r = api.get(f"/deployments/name/{FLOW}/nightly")
                return r.json() if r.status_code == 200 else None

            dep = _until("the deployment", deployment, 45, [serve])
            [schedule] = dep["schedules"]
            assert schedule["schedule"]["cron"] == "0 2 * * *"
            assert schedule["schedule"]["timezone"] == "Asia/Shanghai"
            assert schedule["active"]
            assert dep["parameters"]["drop"] == str(drop.resolve())

            run = post(api, f"/deployments/{dep['id']}/create_flow_run", {})

            def finished() -> dict[str, Any] | None:
                state = api.get(f"/flow_runs/{run['id']}").json()
                return state if state["state_type"] in FINAL else None

            done = _until("the flow run", finished, 60, [serve])

            def stage_logs() -> list[str] | None:  # flows.progress.to_run_logs: one record per stage
                logs = api.post("/logs/filter", json={"limit": 200}).raise_for_status().json()
                found = [log["message"] for log in logs if log["message"].startswith("stage=")]
                return found if len(found) == 4 else None

            stages = _until("the stage records in the run's logs", stage_logs, 30, [serve])
        assert [m.split()[0] for m in stages] == ["stage=read", "stage=store", "stage=worklist", "stage=write"]
        assert done["state_type"] == "COMPLETED", (tmp_path / "serve.log").read_text(errors="replace")
        # as_of is the scheduled start as a date in Asia/Shanghai
        scheduled = datetime.fromisoformat(done["expected_start_time"].replace("Z", "+00:00"))
        night = scheduled.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        run_dir = out / night
        summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        assert summary["as_of"] == night
        rows_in = sum(f["rows_in"] for f in summary["files"])
        assert stages[0].startswith(f"stage=read files={len(summary['files'])} rows_in={rows_in} seconds=")
        assert (run_dir / "worklist.csv").stat().st_size > 0
        assert (run_dir / "report.html").exists()
        assert list(drop.glob("*.xlsx")) == []  # processed files were moved to the archive
    finally:
        _stop(serve)
        log.close()


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    env = _env(tmp_path, "home")
    proc = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "serve", "--drop", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "prefect server start" in proc.stderr
    assert "PREFECT_API_URL" in proc.stderr
    assert "需要一个 Prefect 服务器" in proc.stderr


def test_as_of_is_the_scheduled_date_in_shanghai() -> None:
    from flows.scheduled import scheduled_date

    utc = ZoneInfo("UTC")
    assert scheduled_date(datetime(2026, 11, 22, 18, 0, tzinfo=utc)) == date(2026, 11, 23)  # 02:00 in Shanghai
    assert scheduled_date(datetime(2026, 11, 22, 15, 59, tzinfo=utc)) == date(2026, 11, 22)
    assert scheduled_date(datetime(2026, 11, 22, 18, 0)) == date(2026, 11, 23)  # naive = UTC
    assert scheduled_date(datetime(2026, 11, 22, 18, 0, tzinfo=utc), "Europe/Berlin") == date(2026, 11, 22)


INTRADAY = "genjin-intraday-scheduled"


@pytest.mark.slow
def test_serve_runs_the_intraday_deployment_every_few_minutes_within_opening_hours(server: str, tmp_path: Path) -> None:
    """Issue #18: beside the nightly deployment, `serve` registers the intraday one on `*/N <hours>` in the
    store's time zone; the server schedules its runs N minutes apart, and a run picks up the lead file dropped
    for the coming night."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    # opening hours that start three hours from now, so that no scheduled run takes the file before ours
    start = (datetime.now(ZoneInfo("Asia/Shanghai")).hour + 3) % 24
    start = start if start <= 21 else 1
    hours = f"{start:02d}:00-{start + 2:02d}:00"
    (tmp_path / "genjin.toml").write_text(f'[intraday]\nminutes = 10\nhours = "{hours}"\n', encoding="utf-8")
    (drop / "leads.csv").write_text("线索编号,留资时间,客户姓名,手机号,门店,顾问编号,客户级别\n"
                                    f"L1,2026-11-22 {start:02d}:00,陈先生,13800000011,浦东店,S1,S\n", encoding="utf-8")
    os.utime(drop / "leads.csv", (0, 0))
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "genjin.cli", "serve", "--config", str(tmp_path / "genjin.toml"), "--drop", str(drop),
         "--out", str(out), "--settle-seconds", "0"],
        env=_env(tmp_path, "client-home", PREFECT_API_URL=server, PREFECT_RUNNER_POLL_FREQUENCY="1"),
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=server, timeout=10) as api:

            def deployment(flow: str, name: str) -> dict[str, Any] | None:
                r = api.get(f"/deployments/name/{flow}/{name}")
                return r.json() if r.status_code == 200 else None

            dep = _until("the intraday deployment", lambda: deployment(INTRADAY, "intraday"), 150, [serve])
            assert deployment(FLOW, "nightly") is not None  # the night is served as before
            [schedule] = dep["schedules"]
            assert schedule["schedule"]["cron"] == f"*/10 {start}-{start + 1} * * *"
            assert schedule["schedule"]["timezone"] == "Asia/Shanghai"
            assert dep["parameters"]["hours"] == hours

            def scheduled() -> list[datetime] | None:
                runs = api.post("/flow_runs/filter", json={
                    "deployments": {"id": {"any_": [dep["id"]]}},
                    "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                    "sort": "EXPECTED_START_TIME_ASC", "limit": 5}).raise_for_status().json()
                times = [datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")) for r in runs]
                return times if len(times) >= 3 else None

            times = _until("the server to schedule intraday runs", scheduled, 120, [serve])
            assert {(b - a).total_seconds() for a, b in itertools.pairwise(times)} == {600.0}
            assert all(t.minute % 10 == 0 and t.astimezone(ZoneInfo("Asia/Shanghai")).hour in (start, start + 1)
                       for t in times)

            run = post(api, f"/deployments/{dep['id']}/create_flow_run",
                       {"parameters": {"at": f"2026-11-22T{start:02d}:15"}})

            def finished() -> dict[str, Any] | None:
                state = api.get(f"/flow_runs/{run['id']}").json()
                return state if state["state_type"] in FINAL else None

            done = _until("the intraday run", finished, 180, [serve])
        assert done["state_type"] == "COMPLETED", (tmp_path / "serve.log").read_text(errors="replace")
        record = json.loads((out / "intraday" / "2026-11-22" / f"{start:02d}15.json").read_text(encoding="utf-8"))
        assert [f["name"] for f in record["files"]] == ["leads.csv"]
        assert record["night"] == "2026-11-23"
        assert (tmp_path / "archive" / "2026-11-23" / "leads.csv").exists()
        assert [(a["kind"], a["lead_id"]) for a in record["alerts"]] == [("advisor", "L1")]  # 15 min in: no manager
    finally:
        _stop(serve)
        log.close()
