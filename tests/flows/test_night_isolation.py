"""One bad file or one advisor's output never costs the night (issue #12): the nightly flow, in this process
under one Prefect test server, on real files — a reader that panics (Rust's PanicException, a BaseException),
a rejects workbook that cannot be written, a workbook of one advisor that fails — and on seeded drop folders
of mutated exports (tests/fuzz_inputs.py), asserting the invariants a dealership relies on.

The fuzz cases: GENJIN_FUZZ_CASES (default 2) drop folders, each run over GENJIN_FUZZ_NIGHTS (default 2)
nights on one history; `GENJIN_FUZZ_CASES=50 pytest -m fuzz` for a larger run (docs/engineering.md, Fuzzing)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from adapters import ingest
from adapters.archive import WHY
from adapters.failures import is_contained
from adapters.folders import Folders
from adapters.history import History
from reports import workbooks_parallel
from reports.cells import DANGEROUS_FIRST
from tests.fuzz_inputs import fuzz_folder

AS_OF = date(2026, 11, 23)
CASES = int(os.environ.get("GENJIN_FUZZ_CASES", "2"))
NIGHTS = int(os.environ.get("GENJIN_FUZZ_NIGHTS", "2"))
REPO = Path(__file__).resolve().parents[2]


def _run(drop: Path, as_of: date = AS_OF) -> dict[str, Any]:
    from flows.nightly import nightly

    result = nightly(folders=Folders.beside(drop), as_of=as_of, settle_seconds=0)
    return json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


ROSTER = ("顾问编号,姓名,门店,岗位,邮箱,上级工号\n"
          "A01,张伟,城东店,销售顾问,a01@dealer.cn,M01\nA02,李娜,城东店,销售顾问,a02@dealer.cn,M01\n"
          "A03,孙丽,城东店,销售顾问,a03@dealer.cn,M01\n"
          "M01,赵敏,城东店,销售经理,m01@dealer.cn,\n")
LEADS = ("线索编号,留资时间,客户姓名,联系电话,门店,销售顾问工号\n"
         "L1,2026-11-22 10:00,陈先生,13800138001,城东店,A01\nL2,2026-11-22 11:00,王女士,13800138002,城东店,A02\n"
         "L3,2026-02-30 11:00,坏日期,13800138003,城东店,A01\nL4,2026-11-22 12:00,刘先生,13800138004,城东店,A03\n")


class FakePanic(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException named PanicException (pyo3_runtime's has no import
    path; each extension module has its own)."""


FakePanic.__name__ = "PanicException"


def test_only_rust_panics_are_contained_among_base_exceptions() -> None:
    assert is_contained(pl.exceptions.PanicException("assertion failed: i < self.len()"))
    assert is_contained(FakePanic("boom")) and is_contained(ValueError("x"))
    assert not is_contained(KeyboardInterrupt()) and not is_contained(SystemExit(1))


def test_a_bad_file_or_advisor_stays_with_itself_and_the_night_goes_on(
    tmp_path: Path, prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "顾问名单.csv").write_text(ROSTER, encoding="utf-8")
    (drop / "线索.csv").write_text(LEADS, encoding="utf-8")
    (drop / "panics.csv").write_text(LEADS.replace("L1", "P1").replace("L2", "P2"), encoding="utf-8")
    (drop / "坏rejects.csv").write_text(LEADS.replace("L", "Q"), encoding="utf-8")
    dropped = {p.name: _digest(p) for p in drop.iterdir()}

    from flows import steps
    from reports import email_message

    real_read, real_write_rejects = ingest.read_sheets, steps.write_rejects
    real_workbook = workbooks_parallel.write_advisor_workbook
    real_message = email_message.advisor_message

    def read_sheets(path: Path, limits: Any = ingest.LIMITS) -> Any:
        if path.name == "panics.csv":
            raise pl.exceptions.PanicException("assertion failed: i < self.len()")
        return real_read(path, limits)

    def write_rejects(sheets: Any, path: Path) -> Path:
        if path.name.startswith("坏"):
            path.write_bytes(b"half")
            raise OSError(28, "No space left on device")
        return real_write_rejects(sheets, path)

    def write_advisor_workbook(rows: Any, as_of: date, path: Path, talk_tracks: Any = None) -> Path:
        if path.stem == "A02":
            raise FakePanic("workbook of A02")
        return real_workbook(rows, as_of, path, talk_tracks)

    def advisor_message(to: Any, *args: Any, **kwargs: Any) -> Any:
        if to.advisor_id == "A03":
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")
        return real_message(to, *args, **kwargs)

    monkeypatch.setattr(email_message, "advisor_message", advisor_message)
    monkeypatch.setattr(ingest, "read_sheets", read_sheets)
    monkeypatch.setattr(steps, "write_rejects", write_rejects)
    monkeypatch.setattr(workbooks_parallel, "write_advisor_workbook", write_advisor_workbook)

    run = _run(drop)
    files = {f["name"]: f for f in run["files"]}
    assert {n: (f["status"], f["rows_in"], f["rows_loaded"], f["rows_rejected"]) for n, f in files.items()} == {
        "顾问名单.csv": ("loaded", 4, 4, 0),
        "线索.csv": ("loaded", 4, 3, 1),
        "panics.csv": ("quarantined", 0, 0, 0),
        "坏rejects.csv": ("quarantined", 0, 0, 0),
    }
    assert "PanicException: assertion failed: i < self.len()" in files["panics.csv"]["why"]
    assert "OSError" in files["坏rejects.csv"]["why"] and "No space left on device" in files["坏rejects.csv"]["why"]
    night = tmp_path / "quarantine" / AS_OF.isoformat()
    for name in ("panics.csv", "坏rejects.csv"):
        why = (night / (name + WHY)).read_text(encoding="utf-8")
        assert "已隔离" in why and "quarantined" in why and "Traceback" not in why  # Chinese and English
        assert _digest(night / name) == dropped[name]
    archived = tmp_path / "archive" / AS_OF.isoformat()
    assert {p.name: _digest(p) for p in archived.iterdir()} == {
        n: d for n, d in dropped.items() if n in ("顾问名单.csv", "线索.csv")}
    assert list(drop.iterdir()) == []
    # the quarantined files' rows were not stored; the rejects of the others were written, not the half one
    leads = pl.read_delta(str(History(tmp_path / "history").table("leads")))
    assert sorted(leads["lead_id"]) == ["L1", "L2", "L4"]
    out = tmp_path / "out" / AS_OF.isoformat()
    assert sorted(p.name for p in (out / "rejects").iterdir()) == ["线索.csv.rejects.xlsx"]
    # A02's workbook failed and A03's email could not be made: listed; A01's workbook and email went out, and
    # the manager's digest
    assert sorted(p.name for p in (out / "worklists").iterdir()) == ["A01.xlsx", "A03.xlsx"]
    assert [(f["code"], f["advisor_id"]) for f in run["failures"]] == [("workbook_failed", "A02")]
    assert "PanicException: workbook of A02" in run["failures"][0]["en"] and "写出失败" in run["failures"][0]["zh"]
    assert [f["to"] for f in run["emails"]["failed"]] == ["a03@dealer.cn"]
    assert "UnicodeEncodeError" in run["emails"]["failed"][0]["error"]
    assert sorted(p.name for p in (out / "outbox").rglob("*.eml")) == ["A01.eml", "M01.eml"]
    assert run["emails"]["without_email"] == []  # a failed workbook is not a missing address


def test_a_file_that_cannot_be_archived_goes_to_quarantine_and_the_others_are_archived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters import archive
    from flows import steps

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(ROSTER, encoding="utf-8")
    (drop / "b.csv").write_text(LEADS, encoding="utf-8")
    loads = [ingest.load_file(drop / n) for n in ("a.csv", "b.csv")]
    real = archive.archive

    def refuse_a(path: Path, root: Path, as_of: date, journal: Path | None = None) -> Path:
        if path.name == "a.csv":
            raise PermissionError(13, "Permission denied")
        return real(path, root, as_of, journal)

    monkeypatch.setattr(archive, "archive", refuse_a)
    failed = steps.move_originals.fn(loads, Folders.beside(drop), AS_OF)
    assert [(f["code"], f["file"]) for f in failed] == [("move_failed", "a.csv")]
    assert "PermissionError" in failed[0]["en"]
    quarantined = tmp_path / "quarantine" / AS_OF.isoformat()
    assert (quarantined / "a.csv").read_text(encoding="utf-8") == ROSTER
    assert "已载入的行保留" in (quarantined / ("a.csv" + WHY)).read_text(encoding="utf-8")
    assert (tmp_path / "archive" / AS_OF.isoformat() / "b.csv").read_text(encoding="utf-8") == LEADS
    assert list(drop.iterdir()) == []


def _formula_cells(out: Path) -> list[str]:
    found = []
    for book in out.rglob("*.xlsx"):
        for ws in openpyxl.load_workbook(book).worksheets:
            found += [f"{book.name}!{c.coordinate}" for row in ws.iter_rows() for c in row if c.data_type == "f"]
    with (out / "worklist.csv").open(encoding="utf-8-sig", newline="") as f:
        found += [cell for row in csv.reader(f) for cell in row if cell.startswith(DANGEROUS_FIRST)]
    return found


@pytest.mark.fuzz
@pytest.mark.parametrize("case", range(CASES))
def test_a_drop_folder_of_mutated_exports_never_fails_a_night(case: int, tmp_path: Path, prefect_harness: None) -> None:
    drop = tmp_path / "drop"
    for night in range(NIGHTS):
        as_of = AS_OF + timedelta(days=night)
        written = fuzz_folder(drop, seed=1000 * case + night, files=8)
        dropped = Counter(_digest(p) for p in written)
        run = _run(drop, as_of)  # exits normally: no exception
        assert len(run["files"]) == len(written)
        for f in run["files"]:
            assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"], f
            assert f["status"] != "quarantined" or f["why"]
        kept = [p for folder in (tmp_path / "archive" / as_of.isoformat(), tmp_path / "quarantine" / as_of.isoformat())
                if folder.is_dir() for p in folder.iterdir() if not p.name.endswith(WHY)]
        assert Counter(_digest(p) for p in kept) == dropped  # every original, byte-identical
        assert list(drop.iterdir()) == []
        assert _formula_cells(tmp_path / "out" / as_of.isoformat()) == []


@pytest.mark.fuzz
@pytest.mark.slow
def test_genjin_run_on_mutated_exports_exits_0_without_a_traceback(tmp_path: Path) -> None:
    """What ops see: `genjin run` in a terminal of its own, on a mutated drop folder."""
    written = fuzz_folder(tmp_path / "drop", seed=7, files=10)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env |= {"HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "run", "--drop", str(tmp_path / "drop"), "--as-of", AS_OF.isoformat(),
         "--settle-seconds", "0"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert "Traceback" not in shown
    assert all(name in shown for name in ("文件 / files", "合计 total", f"{len(written)} files"))


def test_genjin_check_goes_on_past_a_file_whose_reader_panics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from genjin.check import check

    (tmp_path / "panics.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "线索.csv").write_text(LEADS, encoding="utf-8")
    real_read = ingest.read_sheets

    def read_sheets(path: Path, limits: Any = ingest.LIMITS) -> Any:
        if path.name == "panics.csv":
            raise pl.exceptions.PanicException("assertion failed: i < self.len()")
        return real_read(path, limits)

    monkeypatch.setattr(ingest, "read_sheets", read_sheets)
    out = io.StringIO()
    assert check([tmp_path / "panics.csv", tmp_path / "线索.csv"], out) == 1
    shown = out.getvalue()
    assert "the check failed: PanicException: assertion failed: i < self.len()" in shown
    assert "线索.csv" in shown and "结论 / result" in shown
