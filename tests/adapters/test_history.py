"""History across nights, the duplicate ledger, and moving originals out of the drop folder."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl

from adapters.archive import archive, free_name, quarantine
from adapters.history import History
from adapters.ingest import load_file, load_new_file
from transforms.worklist import build_worklist

ROSTER = [["顾问编号", "姓名", "门店", "岗位", "在职"], ["S1", "张三", "浦东店", "销售顾问", "是"]]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def _leads(path: Path, *rows: list[object]) -> Path:
    return _xlsx(path, [["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号"], *rows])


def _night(history: History, as_of: date, *paths: Path) -> None:
    for order, path in enumerate(paths):
        load = load_new_file(path, lambda d: history.loaded_before(d, as_of))
        if load.status == "loaded":
            history.record(load, as_of, order)


def test_a_later_night_sees_earlier_nights_rows(tmp_path: Path, policy) -> None:
    history = History(tmp_path / "history")
    _night(
        history,
        date(2026, 11, 22),
        _xlsx(tmp_path / "roster.xlsx", ROSTER),
        _leads(tmp_path / "leads.xlsx", ["L1", "2026-11-21 10:00", "陈先生", "13800138001", "浦东店", "S1"]),
    )
    followups = _xlsx(
        tmp_path / "fu.xlsx",
        [["线索编号", "销售顾问工号", "跟进时间", "跟进结果"], ["L1", "S1", "2026-11-23 09:00", "已接通"]],
    )
    _night(history, date(2026, 11, 23), followups)

    night1 = build_worklist(history.inputs(date(2026, 11, 22)), policy, date(2026, 11, 22))
    night2 = build_worklist(history.inputs(date(2026, 11, 23)), policy, date(2026, 11, 23))
    assert night1.select("task_type", "ref").rows() == [("first_contact", "L1")]
    # the follow-up dropped on night 2 closes first_contact; the next call is due 2026-11-30 (C lead, 7 days)
    assert night2.select("task_type").to_series().to_list() == []


def test_backfill_sees_only_rows_loaded_by_that_night(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    _night(
        history,
        date(2026, 11, 20),
        _leads(tmp_path / "a.xlsx", ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1"]),
    )
    _night(
        history,
        date(2026, 11, 21),
        _leads(tmp_path / "b.xlsx", ["L2", "2026-11-01", "乙", "13800138002", "浦东店", "S1"]),
    )
    assert history.inputs(date(2026, 11, 20)).leads.collect()["lead_id"].to_list() == ["L1"]
    assert history.inputs(date(2026, 11, 21)).leads.collect()["lead_id"].to_list() == ["L1", "L2"]


def test_a_redropped_file_is_a_duplicate_and_loads_once(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    first = _leads(tmp_path / "leads.xlsx", ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1"])
    _night(history, date(2026, 11, 20), first)
    again = tmp_path / "again"
    again.mkdir()
    copy = again / "线索 副本.xlsx"
    copy.write_bytes(first.read_bytes())
    load = load_new_file(copy, lambda d: history.loaded_before(d, date(2026, 11, 21)))
    assert load.status == "duplicate"
    assert (load.rows_in, load.rows_loaded, load.rows_rejected) == (0, 0, 0)
    _night(history, date(2026, 11, 21), copy)
    assert history.inputs(date(2026, 11, 21)).leads.collect().height == 1


def test_a_later_row_for_the_same_lead_updates_the_earlier_one(tmp_path: Path, policy) -> None:
    history = History(tmp_path / "history")
    _night(
        history,
        date(2026, 11, 20),
        _xlsx(tmp_path / "roster.xlsx", ROSTER),
        _leads(tmp_path / "a.xlsx", ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1"]),
    )
    moved = _xlsx(
        tmp_path / "b.xlsx",
        [
            ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户状态"],
            ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1", "战败"],
        ],
    )
    _night(history, date(2026, 11, 21), moved)
    assert build_worklist(history.inputs(date(2026, 11, 20)), policy, date(2026, 11, 20)).height == 1
    assert build_worklist(history.inputs(date(2026, 11, 21)), policy, date(2026, 11, 21)).height == 0  # lost


def test_archiving_the_same_name_twice_keeps_both(tmp_path: Path) -> None:
    drop, root = tmp_path / "drop", tmp_path / "archive"
    drop.mkdir()
    (drop / "线索.xlsx").write_bytes(b"first")
    first = archive(drop / "线索.xlsx", root, date(2026, 11, 23))
    (drop / "线索.xlsx").write_bytes(b"second")
    second = archive(drop / "线索.xlsx", root, date(2026, 11, 23))
    assert first == root / "2026-11-23" / "线索.xlsx"
    assert second == root / "2026-11-23" / "线索 (2).xlsx"
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")
    assert list(drop.iterdir()) == []


def test_quarantine_keeps_the_file_and_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"\x00\x01\x02 not a workbook")
    load = load_file(bad)
    assert load.status == "quarantined"
    moved = quarantine(bad, tmp_path / "quarantine", load.why)
    assert moved.read_bytes() == b"\x00\x01\x02 not a workbook"
    why = (tmp_path / "quarantine" / "坏文件.xlsx.why.txt").read_text(encoding="utf-8")
    assert why.strip() == load.why and "不是 Excel" in why and "not an Excel" in why


def test_a_file_name_cannot_point_outside_the_folder(tmp_path: Path) -> None:
    assert free_name(tmp_path / "a", "../../etc/passwd") == tmp_path / "a" / "passwd"


def test_customer_id_is_stable_across_nights_with_reordered_files(tmp_path: Path) -> None:
    from transforms.customers import identify

    def ids(history: History, as_of: date) -> dict[str, str]:
        inputs = history.inputs(as_of)
        who = identify(inputs.leads, inputs.followups, inputs.sales, inputs.service)
        return dict(who.leads.select("lead_id", "customer_id").collect().iter_rows())

    rows = [
        ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1"],
        ["L2", "2026-11-02", "乙", "138 0013 8002", "浦东店", "S1"],
        ["L3", "2026-11-03", "丙", "+86 13800138003", "浦东店", "S1"],
    ]
    history = History(tmp_path / "history")
    (tmp_path / "n1").mkdir()
    (tmp_path / "n2").mkdir()
    _night(history, date(2026, 11, 20), _xlsx(tmp_path / "n1" / "roster.xlsx", ROSTER),
           _leads(tmp_path / "n1" / "leads.xlsx", *rows))
    night1 = ids(history, date(2026, 11, 20))
    # the next night's export lists the same customers in another order, in a file of another name
    _night(history, date(2026, 11, 21), _leads(tmp_path / "n2" / "线索导出.xlsx", *reversed(rows)))
    night2 = ids(history, date(2026, 11, 21))
    assert night1 == night2 and len(set(night1.values())) == 3
    assert night1["L1"] == "C" + hashlib.sha256(b"+8613800138001").hexdigest()[:12].upper()


def test_recording_a_file_again_changes_nothing_and_leftover_rows_are_replaced(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    path = _leads(tmp_path / "leads.xlsx", ["L1", "2026-11-01", "甲", "13800138001", "浦东店", "S1"],
                  ["L2", "2026-11-01", "乙", "13800138002", "浦东店", "S1"])
    load = load_new_file(path, lambda d: history.loaded_before(d, date(2026, 11, 20)))
    history.record_rows([load], date(2026, 11, 20), 0)  # a run killed before the ledger row …
    assert history.inputs(date(2026, 11, 20)).leads.collect().height == 0  # … its rows are not read
    assert history.record(load, date(2026, 11, 20), 0)  # the next run records the file
    assert not history.record(load, date(2026, 11, 20), 0)  # and a re-run does not record it again
    import polars as pl

    assert pl.read_delta(str(history.table("leads"))).height == 2
    assert pl.read_delta(str(history.table("ledger"))).height == 1
    assert history.next_order(date(2026, 11, 20)) == 1 and history.next_order(date(2026, 11, 21)) == 0


def test_released_rows_keep_their_counts(tmp_path: Path) -> None:
    """After the store stage a night lets its copies of the rows go (adapters.ingest.FileLoad.release_rows);
    the counts run.json and the summary show do not change."""
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,创建时间,客户姓名,手机号,门店,顾问编号\n"
                    "L1,2026-11-20 10:00,张三,13800138000,一店,A1\n"
                    "L2,2026-11-20 11:00,李四,12345,一店,A1\n", encoding="utf-8")
    load = load_file(path)
    assert (load.rows_in, load.rows_loaded, load.rows_rejected) == (2, 1, 1)
    load.release_rows()
    assert (load.rows_in, load.rows_loaded, load.rows_rejected) == (2, 1, 1)
    assert load.sheets[0].loaded.height == 0
    assert load.sheets[0].original["线索编号"].to_list() == ["L2"]  # the rejects file still has its cells


def test_a_kind_that_gained_columns_appends_to_a_table_made_before(tmp_path: Path) -> None:
    """A decisions table written before 整批 and 未跟进天数 existed takes a night's rows that carry them."""
    history = History(tmp_path / "history")
    header = ["客户编号", "决定", "生效日期", "经理工号"]
    history.record(load_file(_xlsx(tmp_path / "old.xlsx", [header, ["C1", "保持", "2026-11-22", "M1"]])),
                   date(2026, 11, 22), 0)
    table = str(history.table("decisions"))
    old = pl.read_delta(table).drop("bulk", "idle_days")  # the table as an earlier genjin made it
    old.write_delta(table, mode="overwrite", delta_write_options={"schema_mode": "overwrite"})
    bulk = load_file(_xlsx(tmp_path / "new.xlsx", [[*header, "整批", "原顾问工号", "未跟进天数"],
                                                   [None, "战败", "2026-11-23", "M1", "是", "S1", "90"]]))
    history.record(bulk, date(2026, 11, 23), 0)
    rows = history.inputs(date(2026, 11, 23)).decisions.collect()
    assert rows.select("customer_id", "decision", "bulk", "idle_days").rows() == [
        ("C1", "keep", None, None), (None, "lost", True, 90.0)]
