"""A store moved by backup and restore carries on where it was: two nights run at the old site (the second with a
policy of changes), `genjin backup`, `genjin restore` into an empty data root at a new site, and the last night run
again there gives the same worklist.csv byte for byte (the plan's carried nights come from the restored history,
the night's files from the restored archive)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from demo.sample_data import generate

NIGHT1 = date(2026, 11, 22)
NIGHT2 = NIGHT1 + timedelta(days=1)
pytestmark = pytest.mark.slow


def genjin(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))} | {"HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "genjin.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_a_restored_data_root_reruns_its_last_night_to_the_same_worklist(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "genjin.toml").write_text('data_root = "data"\npolicy = "policy.toml"\nsettle_seconds = 0\n',
                                     encoding="utf-8")
    (old / "policy.toml").write_text('extends = "default"\n[plan.default_capacity]\nsales = 12\n', encoding="utf-8")
    drop = old / "data" / "drop"
    generate(drop, as_of=NIGHT1, size=1)
    genjin("run", "--as-of", NIGHT1.isoformat(), cwd=old, home=tmp_path)
    generate(drop, as_of=NIGHT2, size=1, seed=8)  # the next night's exports
    genjin("run", "--as-of", NIGHT2.isoformat(), cwd=old, home=tmp_path)
    before = (old / "data" / "out" / NIGHT2.isoformat() / "worklist.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(before.decode("utf-8-sig"))))
    # capacity 12 (the policy of changes applied): customers wait, some carried since the first night
    assert any(r["in_plan"] == "false" and int(r["carried_nights"]) >= 1 for r in rows)

    genjin("backup", str(tmp_path), cwd=old, home=tmp_path)
    (backup,) = tmp_path.glob("genjin-backup-*.tar.gz")
    shutil.rmtree(old)  # the old server is gone

    proc = genjin("restore", str(backup), "--data-root", "data", cwd=new, home=tmp_path)
    assert f"最后一晚 / last night: {NIGHT2.isoformat()}" in proc.stdout
    restored = new / "data" / "settings-from-backup"
    shutil.copy(restored / "genjin.toml", new / "genjin.toml")  # IT puts the settings back in place
    shutil.copy(restored / "policy.toml", new / "policy.toml")
    (new / "data" / "drop").mkdir()
    shutil.rmtree(new / "data" / "out" / NIGHT2.isoformat())  # so that the night's worklist is made again
    genjin("run", "--as-of", NIGHT2.isoformat(), cwd=new, home=tmp_path)
    assert (new / "data" / "out" / NIGHT2.isoformat() / "worklist.csv").read_bytes() == before
