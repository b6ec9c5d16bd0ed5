"""A review workbook dropped back: a row whose 决定 is empty is undecided, not wrong — counted per manager in
run.json, never a reject (so never in the ops email, a rejects workbook or `genjin check`'s exit code); a row
marked 整批 needs no customer."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl
from prefect.logging import disable_run_logger

import tests.spreadsheets as ss
from adapters.ingest import load_file
from flows import steps
from genjin.check import check
from reports.run_summary import file_entry, summary

HEADER = ["客户编号", "决定", "改派给", "战败原因", "生效日期", "经理工号", "原顾问工号", "整批", "未跟进天数"]
ROWS = [
    ["C1", "改派", "S3 周七", None, "2026-11-23", "M1", "S1", None, None],
    ["C2", None, "S3 周七", None, "2026-11-23", "M1", "S1", None, None],  # undecided (M1)
    ["C3", "  ", None, "逾期39天未跟进", "2026-11-23", "M1", "S1", None, None],  # blank text: undecided (M1)
    ["C4", None, None, None, "2026-11-23", "M2", "V1", None, None],  # undecided (M2)
    [None, "战败", None, "超过90天没有跟进", "2026-11-23", "M1", "S1", "是", "90"],  # 整批: no customer needed
    [None, "战败", None, "久未跟进", "2026-11-23", "M1", "S1", None, None],  # neither customer nor 整批: reject
    [None, "战败", None, "久未跟进", "2026-11-23", "M1", "S1", "是", "0"],  # 未跟进天数 below 1: reject
]


def _book(tmp_path: Path) -> Path:
    return ss.write_openpyxl(tmp_path / "待决定 11-23 王经理.xlsx", {"待决定 11-23": [HEADER, *ROWS]})


def test_blank_decisions_are_undecided_per_manager_not_rejects(tmp_path: Path) -> None:
    load = load_file(_book(tmp_path))
    assert (load.rows_in, load.rows_loaded, load.rows_rejected, load.rows_undecided) == (7, 2, 2, 3)
    assert load.undecided == {"M1": 2, "M2": 1}
    (sheet,) = load.sheets
    assert sheet.loaded.select("customer_id", "decision", "bulk", "idle_days").rows() == [
        ("C1", "reassign", None, None), (None, "lost", True, 90.0)]
    reasons = dict(zip(sheet.rejects["__row"], sheet.rejects["reason_zh"], strict=True))
    assert reasons == {7: "客户编号 和 整批 至少填写一项", 8: "数值不能小于 1"}
    entry = file_entry(load)
    assert (entry["rows_undecided"], entry["undecided"]) == (3, {"M1": 2, "M2": 1})
    empty = pl.DataFrame(schema={"task_type": pl.String, "days_overdue": pl.Int64, "orphaned": pl.Boolean,
                                 "advisor_id": pl.String})
    night = summary(date(2026, 11, 24), [entry, entry], empty, {}, {})
    assert night["undecided"] == {"M1": 4, "M2": 2}


def test_a_sheet_with_only_undecided_rows_passes_check_and_writes_no_rejects(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "待决定.xlsx", {"待决定 11-23": [HEADER, *ROWS[:4]]})
    out = io.StringIO()
    assert check([path], out) == 0
    assert "未决定 3 行（经理未填“决定”，不算错误" in out.getvalue()
    assert "拒绝 0 行" in out.getvalue()
    run_dir = tmp_path / "out"
    run_dir.mkdir()
    with disable_run_logger():
        assert steps.write_rejects_files.fn([load_file(path)], run_dir) == []  # nothing for the ops email to send
    assert not (run_dir / "rejects").exists()
