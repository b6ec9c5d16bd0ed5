"""The history's schema version (adapters/history_schema.py): this release reads a history an earlier release wrote
and marks it as its own when it first writes; a history a newer release wrote is refused before anything is read.

The fixture tests/fixtures/history_v0 is the history and archive that genjin's code before the nights' plans were
stored (commit e35515a^, no `plans` table, no schema file) wrote for the night of 2026-11-20 — three leads of 浦东店,
two follow-ups, the roster — with that release's worklist.csv beside it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.history import History
from adapters.history_schema import CURRENT, FILE, HistoryTooNew, version
from genjin import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history_v0"
TASK = ("advisor_id", "customer_id", "task_type", "due_date")


def tasks(text: str) -> list[tuple[str, ...]]:
    return sorted(tuple(row[k] for k in TASK) for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def site_of_the_old_release(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    for name in ("history", "archive"):
        shutil.copytree(FIXTURE / name, site / name)
    (site / "drop").mkdir()
    return site


def genjin_run(site: Path, night: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))} | {"HOME": str(site)}
    proc = subprocess.run([sys.executable, "-m", "genjin.cli", "run", "--drop", "drop", "--out", "out", "--as-of",
                           night, "--settle-seconds", "0"], cwd=site, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_this_release_carries_on_from_a_history_an_earlier_release_wrote(tmp_path):
    site = site_of_the_old_release(tmp_path)
    assert version(site / "history") == 0 and not (site / "history" / "plans").exists()

    # the old release's night, run again by this one, lists the same tasks
    genjin_run(site, "2026-11-20")
    old = (FIXTURE / "worklist-2026-11-20.csv").read_text(encoding="utf-8")
    again = (site / "out" / "2026-11-20" / "worklist.csv").read_text(encoding="utf-8")
    assert tasks(again) == tasks(old) and len(tasks(old)) == 3
    assert version(site / "history") == CURRENT  # marked as this release's when it first wrote

    # the next night, with a follow-up of the new lead L3: its first contact is done, its follow-up (grade C, a
    # lead: every 7 days) due 11-27, not listed; L1 (B, called 11-11) and L2 (A, 11-13) as before, 3 days apart
    (site / "drop" / "跟进记录2.csv").write_text("线索编号,销售顾问工号,跟进时间,跟进方式,跟进结果\n"
                                              "L3,S1,2026-11-20 16:00,电话,已接通\n", encoding="utf-8")
    genjin_run(site, "2026-11-21")
    rows = list(csv.DictReader(io.StringIO((site / "out" / "2026-11-21" / "worklist.csv").read_text("utf-8-sig"))))
    assert sorted((r["customer_name"], r["task_type"], r["due_date"], r["days_overdue"]) for r in rows) == [
        ("林女士", "followup", "2026-11-16", "5"), ("陈先生", "followup", "2026-11-14", "7")]
    assert json.loads((site / "out" / "2026-11-21" / "run.json").read_text("utf-8"))["files"][0]["rows_loaded"] == 1


def newer(tmp_path: Path) -> Path:
    site = site_of_the_old_release(tmp_path)
    (site / "history" / FILE).write_text(json.dumps({"history_schema": CURRENT + 1}), encoding="utf-8")
    return site


def test_a_history_a_newer_release_wrote_is_refused_before_anything_reads_it(tmp_path, capsys):
    site = newer(tmp_path)
    with pytest.raises(HistoryTooNew, match=r"请先升级 genjin / the history at .* was written by a newer genjin"):
        History(site / "history")
    before = {p: p.stat().st_mtime_ns for p in (site / "history").rglob("*")}
    for command in (["run"], ["maintain"], ["backup", str(tmp_path)], ["simulate", "--policy", "policy/default.toml"]):
        assert cli.main([*command, "--drop", str(site / "drop"), "--history", str(site / "history")]) == 2, command
        assert f"schema {CURRENT + 1}; this release knows up to {CURRENT}" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in (site / "history").rglob("*")} == before
    assert not list(tmp_path.glob("genjin-backup-*"))
