"""Per-stage progress (flows/progress.py, issue #8): one structured `genjin` record per stage, a line per stage
on the terminal, aligned tables."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from flows import progress
from flows.progress import Progress

FILES = [  # run.json's `files`, by hand
    {"name": "线索.xlsx", "status": "loaded", "rows_in": 10, "rows_loaded": 8, "rows_rejected": 2},
    {"name": "跟进.csv", "status": "duplicate", "rows_in": 0, "rows_loaded": 0, "rows_rejected": 0},
    {"name": "坏.xlsx", "status": "quarantined", "rows_in": 0, "rows_loaded": 0, "rows_rejected": 0},
    {"name": "订单.xlsx", "status": "loaded", "rows_in": 5, "rows_loaded": 5, "rows_rejected": 0},
]


def test_each_stage_logs_one_record_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    clock = Progress()
    with caplog.at_level(logging.INFO, logger="genjin"):
        with clock.stage("read", lambda: progress.read_counts(files)):
            files = FILES  # assigned in the block, counted at its end
        with clock.stage("store", lambda: progress.store_counts(FILES)):
            pass
    read, store = [r for r in caplog.records if r.name == "genjin"]
    assert (read.levelno, read.stage, read.files, read.rows_in) == (logging.INFO, "read", 4, 15)
    assert read.counts == {"files": 4, "rows_in": 15}
    assert read.getMessage() == f"stage=read files=4 rows_in=15 seconds={clock.durations['read']:.3f}"
    assert store.counts == {"files_loaded": 2, "rows_loaded": 13, "rows_rejected": 2}
    assert store.getMessage().startswith("stage=store files_loaded=2 rows_loaded=13 rows_rejected=2 seconds=")
    assert list(clock.durations) == ["read", "store"]
    assert all(v >= 0 for v in clock.durations.values())
    assert read.seconds == round(clock.durations["read"], 3)


PEAKS = """
import json
from flows.progress import Progress, peak_rss_mb
clock = Progress()
with clock.stage("read"):
    small = b"x" * (10 * 2**20)
with clock.stage("store"):  # 300 MB beyond the high-water mark so far, written so resident
    big = b"x" * ((peak_rss_mb() + 300) * 2**20)
print(json.dumps(clock.peaks))
"""


def test_each_stage_records_the_peak_memory_so_far():
    """In a new process: the stage that holds 300 MB more than the process ever held shows a peak at least that
    much higher than the stage before (a high-water mark; a child starts from its parent's, hence relative)."""
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", PEAKS], cwd=root, capture_output=True, text=True, check=True)
    peaks = json.loads(run.stdout)
    assert list(peaks) == ["read", "store"]
    assert peaks["store"] - peaks["read"] >= 300


def test_a_failed_stage_records_nothing(caplog: pytest.LogCaptureFixture) -> None:
    clock = Progress()
    with caplog.at_level(logging.INFO, logger="genjin"), pytest.raises(KeyError), clock.stage("read"):
        raise KeyError("x")
    assert clock.durations == {} and not caplog.records


def test_worklist_and_write_counts() -> None:
    worklist = pl.DataFrame({"advisor_id": ["A", "A", "B"], "task_type": ["followup", "birthday", "complaint"]})
    assert progress.worklist_counts(worklist) == {"tasks": 3, "advisors": 2}
    emails = {"written": 2, "sent": 0, "failed": []}
    assert progress.write_counts({"A": "a.xlsx", "B": "b.xlsx"}, emails) == {"workbooks": 2, "emails": 2}


def test_on_terminal_prints_a_line_per_stage_and_nothing_else(capsys: pytest.CaptureFixture[str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    clock = Progress()
    with progress.on_terminal():
        with clock.stage("read", lambda: {"files": 34, "rows_in": 47304}):
            logging.getLogger("genjin.mail").info("an INFO record that must not show")
        with clock.stage("worklist", lambda: {"tasks": 4709, "advisors": 120}):
            pass
    out, err = capsys.readouterr()
    seconds = [f"{clock.durations[s]:.1f}" for s in ("read", "worklist")]
    assert out.splitlines() == [
        f"[1/4] 读取 read       34 files · 47,304 rows · {seconds[0]} s",
        f"[3/4] 清单 worklist   4,709 tasks · 120 advisors · {seconds[1]} s",
    ]
    assert err == "" and not caplog.records  # nothing reached the root logger (Prefect's console)
    assert logging.getLogger("genjin").propagate and logging.getLogger("genjin").level == logging.NOTSET


def test_warnings_still_reach_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.on_terminal():
        logging.getLogger("genjin.mail").warning("邮件未发出 / not sent")
    assert capsys.readouterr().err == "WARNING genjin.mail: 邮件未发出 / not sent\n"


def test_to_run_logs_lets_genjin_info_through_and_attaches_no_handler() -> None:
    log = logging.getLogger("genjin")
    handlers = list(log.handlers)
    with progress.to_run_logs():
        assert log.level == logging.INFO
        assert log.handlers == handlers  # Prefect's own (PREFECT_LOGGING_EXTRA_LOGGERS), none by hand
    assert log.level == logging.NOTSET


def test_tables_align_chinese_text() -> None:
    lines = progress.table(("文件 name", "rows"), [("线索导出_S01.xlsx", 1234), ("a.csv", 5)], right=(1,))
    # widths: 线索导出_S01.xlsx = 4·2 + 9 = 17 columns; "1,234" = 5
    assert lines == [
        "文件 name" + " " * (17 - 9) + "  " + " rows",
        "-" * 17 + "  " + "-" * 5,
        "线索导出_S01.xlsx" + "  " + "1,234",
        "a.csv" + " " * (17 - 5) + "  " + "    5",
    ]
    assert len({progress.width(line) for line in lines}) == 1
