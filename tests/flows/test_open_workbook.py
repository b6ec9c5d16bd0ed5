"""A workbook left open in Excel is still read (its last save is whole), and where the open file cannot be moved
— a Windows share refuses to remove a file Excel holds — it stays in the drop folder, loaded, and is archived by
a later night once it can be, as a duplicate of its own first load. Called as plain functions: no Prefect server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from adapters.duplicates import first_loads, mark_duplicates
from adapters.folders import Folders
from adapters.history import History
from adapters.ingest import load_new_file
from flows import steps

NIGHT1, NIGHT2 = date(2026, 11, 25), date(2026, 11, 26)
LEADS = [["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号"],
         ["L1", "2026-11-24 17:20", "陈先生", "13800138001", "浦东店", "S1"]]


def _site(tmp_path: Path) -> tuple[Folders, Path]:
    folders = Folders.beside(tmp_path / "drop")
    folders.drop.mkdir()
    wb = openpyxl.Workbook()
    for row in LEADS:
        wb.active.append(row)
    path = folders.drop / "线索导出.xlsx"
    wb.save(path)
    (folders.drop / "~$线索导出.xlsx").write_bytes(b"\x00" * 165)  # Excel's owner file: the clerk left it open
    return folders, path


def test_an_open_workbook_that_cannot_be_moved_stays_loaded_then_is_archived_once_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders, path = _site(tmp_path)
    history = History(folders.history)
    found = steps.night_files.fn(folders, NIGHT1, 0)
    assert [p.name for p in found.paths] == ["线索导出.xlsx"] and found.opened == {"线索导出.xlsx": "~$线索导出.xlsx"}
    (load,) = steps.read_and_validate.fn(found.paths, frozenset(), NIGHT1)
    assert (load.status, load.rows_loaded) == ("loaded", 1)
    history.record(load, NIGHT1, 0)

    unlink = Path.unlink

    def held_by_excel(self: Path, missing_ok: bool = False) -> None:
        if self == path:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", held_by_excel)
    (failure,) = steps.move_originals.fn([load], folders, NIGHT1, frozenset(found.opened))
    assert (failure["code"], failure["file"]) == ("open_not_moved", "线索导出.xlsx")
    assert failure["zh"].startswith("文件仍在 Excel/WPS 中打开，无法移动：内容已载入，文件暂留在投放目录")
    assert path.exists()  # left whole where it was, not quarantined, no half-move in the archive
    assert not (folders.archive / NIGHT1.isoformat() / "线索导出.xlsx").exists() and not folders.quarantine.exists()
    monkeypatch.undo()

    # the next night: the clerk closed Excel; the same bytes are a duplicate of their first load, and archived
    (folders.drop / "~$线索导出.xlsx").unlink()
    found = steps.night_files.fn(folders, NIGHT2, 0)
    assert found.opened == {}
    loads = [load_new_file(p, lambda d: history.loaded_before(d, NIGHT2), NIGHT2) for p in found.paths]
    (dup,) = mark_duplicates(loads, first_loads(history.ledger(NIGHT2)), NIGHT2,
                             folders.archive / NIGHT2.isoformat())
    assert (dup.status, dup.duplicate_of) == ("duplicate", {"name": "线索导出.xlsx", "night": NIGHT1.isoformat()})
    assert steps.move_originals.fn([dup], folders, NIGHT2) == []
    assert list(folders.drop.iterdir()) == []
    assert (folders.archive / NIGHT2.isoformat() / "线索导出.xlsx").is_file()
