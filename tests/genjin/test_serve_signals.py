"""`genjin serve` under a service manager: SIGINT and SIGTERM each stop it within seconds with exit code 0 and the
schedules paused — SIGINT even when serve was started with SIGINT ignored, as a shell's background job and `nohup`
start it — and the next start serves them again; beside the night it deploys the weekly maintenance."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from demo.sample_data import generate
from tests.genjin.test_serve import FLOW, _env, _until, server  # noqa: F401  (server: the fixture)

STOPPED_WITHIN = 20  # seconds; systemd's default TimeoutStopSec is 90, after which it kills


def served(deployment: dict[str, Any] | None, since: datetime) -> dict[str, Any] | None:
    """The deployment, once it is not paused and a runner started after `since` polled it."""
    if not deployment or deployment["paused"] or not deployment["last_polled"]:
        return None
    return deployment if datetime.fromisoformat(deployment["last_polled"]) > since else None


def ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve(tmp_path: Path, api: str, log: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "genjin.cli", "serve", "--drop", str(tmp_path / "drop"), "--out", str(tmp_path / "out")],
        env=_env(tmp_path, "client-home", PREFECT_API_URL=api, GENJIN_INTRADAY_HOURS="off",
                 PREFECT_RUNNER_POLL_FREQUENCY="1"),
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, preexec_fn=ignoring_sigint,
    )  # fmt: skip


@pytest.mark.slow
def test_sigint_and_sigterm_stop_serve_within_seconds(server: str, tmp_path: Path) -> None:  # noqa: F811
    generate(tmp_path / "drop", as_of=date(2026, 11, 23), seed=11, size=1)
    with httpx.Client(base_url=server, timeout=10) as api:

        def deployment(flow: str, name: str) -> dict[str, Any] | None:
            r = api.get(f"/deployments/name/{flow}/{name}")
            return r.json() if r.status_code == 200 else None

        for n, sig in enumerate((signal.SIGINT, signal.SIGTERM)):
            log = tmp_path / f"serve-{n}.log"
            started = datetime.now(UTC)
            with log.open("wb") as out:
                proc = serve(tmp_path, server, out)
            try:
                weekly = _until("the weekly maintenance", lambda: deployment("genjin-maintain-scheduled", "weekly"),
                                60, [proc])
                assert weekly["schedules"][0]["schedule"]["cron"] == "30 3 * * 0"
                assert weekly["schedules"][0]["schedule"]["timezone"] == "Asia/Shanghai"
                night = _until("the night served (not paused) and polled by this serve's runner",
                               lambda since=started: served(deployment(FLOW, "nightly"), since), 120, [proc])
                assert night["schedules"][0]["active"]
                proc.send_signal(sig)
                code = proc.wait(timeout=STOPPED_WITHIN)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            assert code == 0, log.read_text(errors="replace")
            assert deployment(FLOW, "nightly")["paused"] is True  # no runs pile up while serve is down
            assert "Traceback" not in log.read_text(errors="replace")
