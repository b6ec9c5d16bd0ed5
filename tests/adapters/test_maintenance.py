"""`genjin maintain` compacts and vacuums the history's Delta tables under the run lock: the tables keep every row,
every night reads as it did before (a re-run, a backfill), older versions stay readable for the days kept, and the
many small files of the nights and pick-ups become one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from adapters.history import History
from adapters.ingest import KINDS, load_file
from adapters.lock import run_lock
from adapters.maintenance import maintain_table
from genjin import cli

FIRST = date(2026, 11, 20)
LEADS = "线索编号,留资时间,客户姓名,联系电话,门店,销售顾问工号,客户级别\n"


def history_of_pickups(root: Path, nights: int = 3, pickups: int = 4) -> History:
    """`pickups` lead files a day, each recorded for its night as the intraday pick-up records them."""
    history = History(root / "history")
    n = 0
    for night in (FIRST + timedelta(days=i) for i in range(nights)):
        for _ in range(pickups):
            n += 1
            path = root / f"leads-{n}.csv"
            path.write_text(LEADS + f"L{n},{night - timedelta(days=1)} 10:00,客户{n},139{n:08d},浦东店,S1,B\n",
                            encoding="utf-8")
            load = load_file(path)
            order = history.next_order(night)
            history.record_rows([load], night, order)
            history.record_ledger([load], night, order)
    return history


def every_night(history: History, nights: int = 3) -> list[dict[str, pl.DataFrame]]:
    out = []
    for night in (FIRST + timedelta(days=i) for i in range(nights)):
        inputs = history.inputs(night)
        out.append({kind: getattr(inputs, kind).collect() for kind in KINDS})
    return out


def live_files(table: Path) -> int:
    return len(DeltaTable(str(table)).file_uris())


def test_maintain_leaves_one_file_per_table_and_every_night_reads_the_same(tmp_path, capsys):
    history = history_of_pickups(tmp_path)
    nights_before = every_night(history)
    assert [f["leads"].height for f in nights_before] == [4, 8, 12]  # each night: files loaded on or before it
    assert live_files(history.table("leads")) == 12 and live_files(history.table("ledger")) == 12
    version_before = DeltaTable(str(history.table("leads"))).version()

    code = cli.main(["maintain", "--history", str(history.root), "--drop", str(tmp_path)])
    assert code == 0
    assert live_files(history.table("leads")) == 1 and live_files(history.table("ledger")) == 1
    for before, after in zip(nights_before, every_night(history), strict=True):
        for kind in KINDS:
            assert after[kind].equals(before[kind]), kind
    # the version before maintenance is still there to read (7 days kept by default)
    old = pl.read_delta(str(history.table("leads")), version=version_before)
    assert old.height == 12
    printed = capsys.readouterr().out
    assert "leads" in printed and "12 → 1" in printed


def test_once_the_days_kept_have_passed_the_small_files_are_deleted(tmp_path):
    history = history_of_pickups(tmp_path, nights=1, pickups=5)
    table = history.table("leads")
    data_files = lambda: sorted(p.name for p in table.glob("*.parquet"))  # noqa: E731
    assert len(data_files()) == 5
    maintain_table(table)  # keeps 7 days: the compacted-away files stay for the readers of older versions
    assert len(data_files()) == 6
    assert len(list((table / "_delta_log").glob("*.json"))) >= 5  # one log entry per pick-up, and more
    done = maintain_table(table, keep=timedelta(0))  # as the next weekly run finds them, 7 days later
    assert done.vacuumed == 5 and len(data_files()) == 1
    assert len(list((table / "_delta_log").glob("*.json"))) == 1  # the log's old entries gone, a checkpoint instead
    assert pl.read_delta(str(table)).height == 5


def test_a_second_maintenance_with_nothing_to_do_changes_nothing(tmp_path):
    history = history_of_pickups(tmp_path, nights=1, pickups=3)
    table = history.table("leads")
    maintain_table(table)
    on_disk = sorted(p.relative_to(table) for p in table.rglob("*"))
    again = maintain_table(table)
    assert sorted(p.relative_to(table) for p in table.rglob("*")) == on_disk  # no new commit, file or checkpoint
    assert (again.compacted, again.vacuumed) == (0, 0) and again.before == again.after


def test_maintain_waits_for_a_run_and_keeps_at_least_a_day(tmp_path, capsys):
    history = history_of_pickups(tmp_path, nights=1, pickups=2)
    with run_lock(history.root):
        assert cli.main(["maintain", "--history", str(history.root), "--drop", str(tmp_path)]) == 3
    assert "another genjin run is in progress" in capsys.readouterr().err
    assert cli.main(["maintain", "--history", str(history.root), "--drop", str(tmp_path), "--keep-days", "0.5"]) == 2
    assert "--keep-days 至少为 1 / must be at least 1" in capsys.readouterr().err
    assert live_files(history.table("leads")) == 2  # nothing was done


def test_an_empty_history_is_nothing_to_do(tmp_path):
    assert cli.main(["maintain", "--history", str(tmp_path / "history"), "--drop", str(tmp_path)]) == 0
