"""Idempotent nights (issue #5): the same night run twice, or run again after a `kill -9` at any point, ends
exactly where a clean run ends. Real `genjin run` subprocesses, killed at named points through the test hook
GENJIN_TEST_CRASH_AT (flows/nightly.py::crash_point). Each run starts a temporary Prefect server, so one
PREFECT_HOME is shared by the module and the clean run is made once."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adapters.archive import originals_in
from adapters.history import History
from adapters.ingest import KINDS
from demo.sample_data import generate

AS_OF = "2026-11-23"
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env["HOME"] = str(home)
    env["PREFECT_HOME"] = str(home / "prefect")
    return env


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    drop = tmp_path_factory.mktemp("pristine") / "drop"
    generate(drop, as_of=date(2026, 11, 23), seed=5, size=1)
    return drop


def genjin_run(root: Path, env: dict[str, str], as_of: str = AS_OF, crash: str | None = None,
               mode: str | None = None) -> int:
    """`mode="raise"`: the run fails at `crash` with an error instead of being killed there."""
    run_env = env | ({"GENJIN_TEST_CRASH_AT": crash} if crash else {})
    run_env |= {"GENJIN_TEST_CRASH_MODE": mode} if mode else {}
    log = (root / "run.log").open("a+", encoding="utf-8")  # a file, not a pipe: a killed run's server keeps pipes open
    proc = subprocess.Popen(
        [sys.executable, "-m", "genjin.cli", "run", "--drop", str(root / "drop"), "--out", str(root / "out"),
         "--as-of", as_of, "--settle-seconds", "0"],
        cwd=REPO, env=run_env, stdout=log, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: what a killed run leaves (the Prefect server) goes too
    )
    try:
        proc.wait(timeout=600)
    finally:
        log.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if crash is None:
        assert proc.returncode == 0, (root / "run.log").read_text(encoding="utf-8")
    return proc.returncode


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path, as_of: str = AS_OF) -> dict[str, Any]:
    """Everything a clean run and a recovered run must agree on."""
    out = root / "out" / as_of
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    history = History(root / "history")
    tables = {k: pl.read_delta(str(history.table(k))).height for k in KINDS
              if (history.table(k) / "_delta_log").is_dir()}
    ledger = history.ledger().sort("name").select("name", "night", "order", "rows_loaded").rows()
    return {
        "worklist": (out / "worklist.csv").read_bytes(),
        "files": [(f["name"], f["kind"], f["sha256"], f["rows_in"], f["rows_loaded"], f["rows_rejected"],
                   f["status"]) for f in run["files"]],
        "tasks": run["tasks"],
        "outputs": sorted(str(p.relative_to(out)) for p in out.rglob("*")),
        "history_rows": tables,
        "ledger_rows": pl.read_delta(str(history.table("ledger"))).height,
        "ledger": ledger,
        "archive": {p.name: _digest(p) for p in originals_in(root / "archive" / as_of)},
        "archive_all": sorted(p.name for p in (root / "archive" / as_of).iterdir()),
        "drop": sorted(p.name for p in (root / "drop").iterdir()),
        "hidden_outputs": sorted(p.name for p in (root / "out").iterdir() if p.name.startswith(".")),
    }


def _fresh(tmp_path: Path, pristine: Path) -> Path:
    shutil.copytree(pristine, tmp_path / "drop")
    return tmp_path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, pristine: Path, env: dict[str, str]) -> tuple[Path, dict]:
    root = _fresh(tmp_path_factory.mktemp("clean"), pristine)
    genjin_run(root, env)
    return root, snapshot(root)


def test_a_clean_run_takes_every_file(clean: tuple[Path, dict], pristine: Path) -> None:
    _, snap = clean
    assert snap["drop"] == [] and snap["hidden_outputs"] == []
    assert {f[0] for f in snap["files"]} == {p.name for p in pristine.iterdir()}
    assert snap["archive"] == {p.name: _digest(p) for p in pristine.iterdir()}
    assert snap["ledger_rows"] == len(snap["files"])


def test_the_same_night_again_gives_the_same_outputs_and_a_kill_keeps_the_old_ones(
    tmp_path: Path, pristine: Path, env: dict[str, str], clean: tuple[Path, dict]
) -> None:
    root = _fresh(tmp_path, pristine)
    genjin_run(root, env)
    first = snapshot(root)
    assert first == clean[1]
    before = {p: _digest(p) for p in (root / "out" / AS_OF).rglob("*") if p.is_file()}
    assert genjin_run(root, env, crash="during_outputs") == -signal.SIGKILL
    # the complete outputs of the earlier run are still there, untouched; the half-built ones are hidden
    assert {p: _digest(p) for p in (root / "out" / AS_OF).rglob("*") if p.is_file()} == before
    hidden = [p.name for p in (root / "out").iterdir() if p.name not in (AS_OF, "logs")]  # logs: genjin run's
    assert [name.startswith(f".{AS_OF}.partial-") for name in hidden] == [True]
    genjin_run(root, env)
    assert snapshot(root) == clean[1]


@pytest.mark.parametrize(
    "point", ["after_read", "after_rows", "after_ledger", "after_archive_first_file",
              "during_outputs"],
)
def test_a_run_killed_and_run_again_ends_where_a_clean_run_ends(
    point: str, tmp_path: Path, pristine: Path, env: dict[str, str], clean: tuple[Path, dict]
) -> None:
    root = _fresh(tmp_path, pristine)
    assert genjin_run(root, env, crash=point) == -signal.SIGKILL
    assert not (root / "out" / AS_OF).exists()  # no half-written night is ever visible
    genjin_run(root, env)
    assert snapshot(root) == clean[1]


@pytest.mark.parametrize("point", ["after_rows", "during_outputs", "after_report", "after_outbox",
                                   "before_publish"])
def test_a_night_that_failed_part_way_is_finished_by_the_next_run(
    point: str, tmp_path: Path, pristine: Path, env: dict[str, str], clean: tuple[Path, dict]
) -> None:
    """Not only `kill -9`: a night that stops at an error in any output stage (issue #12) — rows stored, some
    outputs written — ends, run again, where a clean run ends."""
    root = _fresh(tmp_path, pristine)
    assert genjin_run(root, env, crash=point, mode="raise") == 1
    assert "InjectedFailure" in (root / "run.log").read_text(encoding="utf-8")
    assert not (root / "out" / AS_OF).exists()  # no half-written night is ever visible
    genjin_run(root, env)
    assert snapshot(root) == clean[1]


def test_backfill_computes_a_past_night_from_the_history_as_it_stood(
    tmp_path: Path, pristine: Path, env: dict[str, str], clean: tuple[Path, dict]
) -> None:
    root = _fresh(tmp_path, pristine)
    genjin_run(root, env)
    generate(root / "drop", as_of=date(2026, 11, 24), seed=6, size=1)  # the next night's exports
    genjin_run(root, env, as_of="2026-11-24")
    assert History(root / "history").ledger()["night"].unique().sort().to_list() == [AS_OF, "2026-11-24"]
    assert (root / "out" / "2026-11-24" / "worklist.csv").read_bytes() != clean[1]["worklist"]
    genjin_run(root, env, as_of=AS_OF)  # backfill: the first night again, after the second was loaded
    again = snapshot(root)
    assert again["worklist"] == clean[1]["worklist"]
    assert again["files"] == clean[1]["files"]
    assert again["tasks"] == clean[1]["tasks"]
