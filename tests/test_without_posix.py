"""Windows has neither `fcntl` nor `resource`. With both made unavailable (as on Windows), every genjin module
imports and `genjin run` runs a night: the run lock through filelock, the peak memory from psutil's peak working set
(Windows has one; here psutil cannot import without `resource`: 0); and the times read off files are in the
`timezone` setting, not Asia/Shanghai whatever it says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from demo.sample_data import generate

REPO = Path(__file__).resolve().parents[1]
NIGHT = "2026-11-23"
WITHOUT_POSIX = """
import sys
sys.modules["fcntl"] = None      # `import fcntl` now raises ImportError, as on Windows
sys.modules["resource"] = None
"""
IMPORT_ALL = WITHOUT_POSIX + """
import importlib, pkgutil
for package in ("genjin", "demo", "flows", "reports", "adapters", "transforms", "schemas", "policy"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(module.name)
print("imported")
"""
GENJIN = WITHOUT_POSIX + """
from genjin.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_every_module_imports_without_fcntl_and_resource() -> None:
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", IMPORT_ALL], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "imported", proc.stderr


def test_without_resource_the_peak_memory_is_windows_peak_working_set() -> None:
    """On Windows psutil's `memory_info()` carries `peak_wset` (bytes): a stand-in of 1.5 GiB reads 1536 MB. (The
    real psutil cannot import here without `resource`; the night below reads 0.)"""
    code = WITHOUT_POSIX + """
from types import SimpleNamespace
info = SimpleNamespace(rss=2**20, peak_wset=3 * 2**29)
sys.modules["psutil"] = SimpleNamespace(Process=lambda: SimpleNamespace(memory_info=lambda: info))
from flows.progress import peak_rss_mb
print(peak_rss_mb())
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.stdout.split() == ["1536"], proc.stderr


@pytest.mark.slow
def test_a_night_runs_without_fcntl_and_resource_with_file_times_in_the_setting(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    generate(drop, as_of=datetime.fromisoformat(NIGHT).date(), size=1)
    held = drop / "~$草稿.xlsx"  # an Office lock file: held, named with its modification time
    held.write_bytes(b"\x00" * 165)
    moment = datetime(2026, 11, 22, 18, 0, tzinfo=UTC).timestamp()
    os.utime(held, (moment, moment))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))} | {"HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", GENJIN, "run", "--drop", str(drop), "--out", str(tmp_path / "out"), "--as-of", NIGHT,
         "--settle-seconds", "0", "--timezone", "Europe/Berlin"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = json.loads((tmp_path / "out" / NIGHT / "run.json").read_text(encoding="utf-8"))
    assert run["files"] and all(f["status"] == "loaded" for f in run["files"])
    assert (tmp_path / "out" / NIGHT / "worklist.csv").stat().st_size > 0
    # 18:00 UTC is 19:00 in Berlin (CET) — in Shanghai it would read 2026-11-23 02:00:00
    assert [(h["name"], h["modified_at"]) for h in run["held"]] == [("~$草稿.xlsx", "2026-11-22 19:00:00")]
    assert set(run["peak_rss_mb"].values()) == {0}  # no `resource` (nor psutil, which needs it here): 0, no failure
