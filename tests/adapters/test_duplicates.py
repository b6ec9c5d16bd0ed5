"""Which files are duplicates (issue #13), decided from the ledger: earlier nights, earlier the same night, and
the first file itself when a run was killed before moving it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from adapters.dropfolder import night_files
from adapters.duplicates import first_loads, is_copy_name, mark_duplicates
from adapters.folders import Folders
from adapters.history import LEDGER_SCHEMA
from adapters.ingest import FileLoad

AS_OF = date(2026, 11, 23)
A, B = "a" * 64, "b" * 64


def _ledger(*rows: tuple[str, str, str]) -> dict[str, tuple[str, str]]:
    frame = pl.DataFrame([{"sha256": s, "name": n, "night": night, "order": 0, "kinds": "leads", "rows_in": 1,
                           "rows_loaded": 1, "rows_rejected": 0} for s, n, night in rows], schema=LEDGER_SCHEMA)
    return first_loads(frame)


def _status(loads: list[FileLoad]) -> list[tuple[str, str, dict | None]]:
    return [(str(load.path), load.status, load.duplicate_of) for load in loads]


def test_a_new_content_twice_in_one_night_first_loads_then_duplicate(tmp_path: Path) -> None:
    night = tmp_path / "archive" / AS_OF.isoformat()
    loads = [FileLoad(Path("drop/线索.csv"), A), FileLoad(Path("drop/线索 - 副本.csv"), A),
             FileLoad(Path("drop/b.csv"), B)]
    marked = mark_duplicates(loads, {}, AS_OF, night)
    assert _status(marked) == [
        ("drop/线索.csv", "loaded", None),
        ("drop/线索 - 副本.csv", "duplicate", {"name": "线索.csv", "night": "2026-11-23"}),
        ("drop/b.csv", "loaded", None),
    ]
    assert "线索.csv" in marked[1].why and marked[1].rows_in == 0


def test_a_re_drop_after_the_first_was_archived_is_a_duplicate_whatever_its_name(tmp_path: Path) -> None:
    night = tmp_path / "archive" / AS_OF.isoformat()
    night.mkdir(parents=True)
    (night / "线索.csv").write_text("x", encoding="utf-8")
    firsts = _ledger((A, "线索.csv", AS_OF.isoformat()), (B, "老.csv", "2026-11-20"))
    loads = [FileLoad(night / "线索.csv", A), FileLoad(Path("drop/线索.csv"), A), FileLoad(Path("drop/新.csv"), B)]
    assert _status(mark_duplicates(loads, firsts, AS_OF, night)) == [
        (str(night / "线索.csv"), "loaded", None),
        ("drop/线索.csv", "duplicate", {"name": "线索.csv", "night": "2026-11-23"}),
        ("drop/新.csv", "duplicate", {"name": "老.csv", "night": "2026-11-20"}),
    ]


def test_the_first_file_itself_after_a_run_killed_before_its_move_still_loads(tmp_path: Path) -> None:
    night = tmp_path / "archive" / AS_OF.isoformat()  # nothing archived yet
    firsts = _ledger((A, "线索.csv", AS_OF.isoformat()))
    loads = [FileLoad(Path("drop/线索.csv"), A)]
    assert _status(mark_duplicates(loads, firsts, AS_OF, night)) == [("drop/线索.csv", "loaded", None)]


def test_a_re_run_reads_the_archived_copy_2_as_the_duplicate_it_was(tmp_path: Path) -> None:
    night = tmp_path / "archive" / AS_OF.isoformat()
    night.mkdir(parents=True)
    firsts = _ledger((A, "线索.csv", AS_OF.isoformat()))
    loads = [FileLoad(night / "线索 (2).csv", A), FileLoad(night / "线索.csv", A)]  # " (2)" sorts first
    assert [load.status for load in mark_duplicates(loads, firsts, AS_OF, night)] == ["duplicate", "loaded"]


def test_quarantined_files_stay_quarantined(tmp_path: Path) -> None:
    loads = [FileLoad(Path("drop/x.xlsx"), A, status="quarantined", why="坏"),
             FileLoad(Path("drop/y.xlsx"), A, status="quarantined", why="坏")]
    assert [load.status for load in mark_duplicates(loads, {}, AS_OF, tmp_path)] == ["quarantined"] * 2


@pytest.mark.parametrize("copy", ["线索导出_S001 - 副本.csv", "线索导出_S001 (1).csv", "复件 线索导出_S001.csv",
                                  "线索导出_S001 - Copy.csv", "线索导出_S001 - 副本 (2).csv"])
def test_a_file_and_its_copy_in_one_drop_load_the_original_whatever_the_names_order(tmp_path: Path,
                                                                                     copy: str) -> None:
    folders = Folders.beside(tmp_path / "drop")
    folders.drop.mkdir()
    for name in ("线索导出_S001.csv", copy):
        (folders.drop / name).write_text("线索编号\nL1\n", encoding="utf-8")
    paths = night_files(folders, AS_OF, settle_seconds=0).paths  # the night's order: by name
    marked = mark_duplicates([FileLoad(p, A) for p in paths], {}, AS_OF, folders.archive / AS_OF.isoformat())
    status = {load.path.name: (load.status, load.duplicate_of) for load in marked}
    assert status == {"线索导出_S001.csv": ("loaded", None),
                      copy: ("duplicate", {"name": "线索导出_S001.csv", "night": "2026-11-23"})}
    (dup,) = [load for load in marked if load.status == "duplicate"]
    assert dup.why.startswith("是「线索导出_S001.csv」的副本（内容相同），只载入原文件")


def test_two_copies_without_their_original_load_the_first_of_them(tmp_path: Path) -> None:
    night = tmp_path / "archive" / AS_OF.isoformat()
    loads = [FileLoad(Path("drop/线索 (1).csv"), A), FileLoad(Path("drop/线索 - 副本.csv"), A)]
    assert [load.status for load in mark_duplicates(loads, {}, AS_OF, night)] == ["loaded", "duplicate"]


def test_names_of_copies_and_names_that_only_look_like_them() -> None:
    copies = ["线索 - 副本.xlsx", "线索 - 副本 (2).xlsx", "线索 - Copy.xlsx", "线索 (1).csv", "复件 线索.csv",
              "复件 (2) 线索.csv", "Copy of leads.xlsx", "线索 副本 2.xlsx", "线索的副本.xlsx", "leads copy.xlsx"]
    originals = ["线索.csv", "订单(2025).csv", "副本数量.csv", "copycat.csv", "2025 (Q1).csv", "线索_v2.csv"]
    assert [n for n in copies if not is_copy_name(n)] == []
    assert [n for n in originals if is_copy_name(n)] == []
