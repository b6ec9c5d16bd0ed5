"""One run at a time: the run lock (adapters/lock.py) and `genjin run --wait-seconds`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from adapters.folders import Folders
from adapters.lock import Busy, lock_path, run_lock
from genjin import cli
from genjin.commands import run

HOLD = """
import sys, time
from pathlib import Path
from adapters.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(history: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(history), str(seconds)], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_stops_at_once_with_a_clear_message(tmp_path: Path) -> None:
    with _holder(tmp_path / "history", 30) as holder:  # leaving the block closes its stdout pipe and waits
        try:
            start = time.monotonic()
            with pytest.raises(Busy) as err, run_lock(tmp_path / "history"):
                pass
            assert time.monotonic() - start < 1
            assert "另一个 genjin 正在运行" in str(err.value) and "another genjin run is in progress" in str(err.value)
            assert f"pid {holder.pid}" in str(err.value)
        finally:
            holder.kill()


def test_a_second_run_waits_up_to_the_given_time(tmp_path: Path) -> None:
    with _holder(tmp_path / "history", 30) as holder:
        try:
            start = time.monotonic()
            with pytest.raises(Busy), run_lock(tmp_path / "history", wait_seconds=0.6):
                pass
            assert time.monotonic() - start >= 0.6
        finally:
            holder.kill()


def test_a_waiting_run_goes_ahead_when_the_first_one_ends(tmp_path: Path) -> None:
    with _holder(tmp_path / "history", 0.5) as holder, run_lock(tmp_path / "history", wait_seconds=20) as path:
        assert path == lock_path(tmp_path / "history")
        assert holder.poll() == 0
        assert path.read_text().strip() == str(os.getpid())


def test_a_run_killed_with_the_lock_does_not_block_the_next(tmp_path: Path) -> None:
    with _holder(tmp_path / "history", 30) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with run_lock(tmp_path / "history"):
        pass


def test_genjin_run_exits_non_zero_while_another_run_holds_the_lock(tmp_path: Path, capsys) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "线索.csv").write_text("x\n", encoding="utf-8")
    with run_lock(tmp_path / "history"):  # where `genjin run --drop DIR` keeps its history: beside DIR
        code = run.run_night(Folders.beside(drop, tmp_path / "out"), date(2026, 11, 23), None, settle_seconds=0,
                            wait_seconds=0.3)
    assert code == run.BUSY != 0
    err = capsys.readouterr().err
    assert "另一个 genjin 正在运行" in err and "another genjin run is in progress" in err
    assert list(drop.iterdir()) == [drop / "线索.csv"]  # nothing touched
    assert not (tmp_path / "out").exists()


def test_the_wait_option_is_parsed() -> None:
    args = cli.parser().parse_args(["run", "--wait-seconds", "90"])
    assert args.wait_seconds == 90
    assert cli.parser().parse_args(["run"]).wait_seconds == 0
