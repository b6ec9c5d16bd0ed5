"""Which files a night takes (issue #13): a look of `settle_seconds` across which size and time must hold, lock
and temporary files held and named; a file left by a run killed inside its move is the same file (the move
journal), while a re-drop of a moved file is read again (and is a duplicate)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from adapters import archive
from adapters.dropfolder import LOCK_FILE, STILL_WRITING, TEMPORARY_FILE, look, night_files
from adapters.folders import Folders

AS_OF = date(2026, 11, 23)


def _drop(tmp_path: Path, *names: str) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in names:
        (drop / name).write_text("线索编号\nL1\n", encoding="utf-8")
    return drop


def test_a_finished_copy_is_taken_at_once_however_new(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "线索.csv")  # written a moment ago
    found = look(drop, settle_seconds=0.05)
    assert [p.name for p in found.paths] == ["线索.csv"] and found.held == []


def test_a_file_that_grows_during_the_look_is_held_and_named(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "线索.csv", "跟进.csv")

    def meanwhile(_: float) -> None:  # the look's pause: a copy is still writing 跟进.csv
        with (drop / "跟进.csv").open("a", encoding="utf-8") as f:
            f.write("L2\n")

    found = look(drop, settle_seconds=1, sleep=meanwhile)
    assert [p.name for p in found.paths] == ["线索.csv"]
    (held,) = found.held
    assert (held.name, held.why) == ("跟进.csv", STILL_WRITING)
    assert held.modified_at[:2] == "20" and " " in held.modified_at
    assert "genjin run" in held.how


def test_a_file_touched_without_growing_is_held_too(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "线索.csv")
    st = (drop / "线索.csv").stat()
    found = look(drop, 1, sleep=lambda _: os.utime(drop / "线索.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9)))
    assert [h.name for h in found.held] == ["线索.csv"]


def test_lock_and_partial_files_are_held_and_a_workbook_open_in_excel_is_read_and_named(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "顾问名单.xlsx", "~$顾问名单.xlsx", "线索.csv", ".~lock.线索.csv#", "销售.xlsx.part",
                 "x.tmp", ".DS_Store", "售后.xlsx", "~$ads.xlsx", "leads.xlsx")
    found = look(drop, 0)
    # Excel and WPS save whole files: what is on disk is the last save, complete
    assert [p.name for p in found.paths] == ["leads.xlsx", "售后.xlsx", "线索.csv", "顾问名单.xlsx"]
    assert found.opened == {"顾问名单.xlsx": "~$顾问名单.xlsx", "线索.csv": ".~lock.线索.csv#",
                            "leads.xlsx": "~$ads.xlsx"}  # Excel drops two letters of a long name
    why = {h.name: h.why for h in found.held}
    assert why == {  # .DS_Store: passed over, not data and not news
        ".~lock.线索.csv#": TEMPORARY_FILE, "~$顾问名单.xlsx": TEMPORARY_FILE, "~$ads.xlsx": TEMPORARY_FILE,
        "销售.xlsx.part": TEMPORARY_FILE, "x.tmp": TEMPORARY_FILE,
    }
    # a lock file says what it is and that nothing is to be done, not "run again once the copy is finished"
    assert {h.name for h in found.held if h.how == LOCK_FILE} == {"~$顾问名单.xlsx", ".~lock.线索.csv#", "~$ads.xlsx"}


def test_an_open_workbook_that_is_still_being_saved_is_held(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "线索.xlsx", "~$线索.xlsx")

    def meanwhile(_: float) -> None:  # Excel is writing the save while genjin looks
        with (drop / "线索.xlsx").open("a", encoding="utf-8") as f:
            f.write("L2\n")

    found = look(drop, settle_seconds=1, sleep=meanwhile)
    assert found.paths == [] and found.opened == {}
    assert {h.name: h.why for h in found.held} == {"线索.xlsx": STILL_WRITING, "~$线索.xlsx": TEMPORARY_FILE}


def test_a_run_killed_inside_a_move_is_finished_but_a_re_drop_is_read(tmp_path: Path) -> None:
    folders = Folders.beside(_drop(tmp_path, "线索.csv", "跟进.csv"))
    night = folders.archive / AS_OF.isoformat()
    journal = archive.journal_path(folders.history, AS_OF)
    archive.archive(folders.drop / "跟进.csv", folders.archive, AS_OF, journal)  # a finished move, journalled
    shutil.copy2(night / "跟进.csv", folders.drop / "跟进.csv")  # ... and ops drop the same file again
    # a move killed after the archived copy was complete and before the original was removed
    archive._journal(journal, {"from": str((folders.drop / "线索.csv").resolve()), "to": str(night / "线索.csv")})
    shutil.copy2(folders.drop / "线索.csv", night / "线索.csv")
    found = night_files(folders, AS_OF, settle_seconds=0)
    assert sorted(str(p.relative_to(tmp_path)) for p in found.paths) == [
        "archive/2026-11-23/线索.csv", "archive/2026-11-23/跟进.csv", "drop/跟进.csv"]
    assert not (folders.drop / "线索.csv").exists()  # the move is finished: one file, never lost
    assert (night / "线索.csv").read_text(encoding="utf-8") == "线索编号\nL1\n"
    assert archive.archive(folders.drop / "跟进.csv", folders.archive, AS_OF, journal).name == "跟进 (2).csv"
    assert not any(p.name.startswith(".") for p in night.iterdir())  # the journal is not among the originals


def test_an_interrupted_move_whose_drop_copy_changed_is_not_removed(tmp_path: Path) -> None:
    folders = Folders.beside(_drop(tmp_path, "线索.csv"))
    night = folders.archive / AS_OF.isoformat()
    night.mkdir(parents=True)
    journal = archive.journal_path(folders.history, AS_OF)
    archive._journal(journal, {"from": str((folders.drop / "线索.csv").resolve()), "to": str(night / "线索.csv")})
    (night / "线索.csv").write_text("线索编号\nL0\n", encoding="utf-8")  # other bytes
    found = night_files(folders, AS_OF, settle_seconds=0)
    assert len(found.paths) == 2 and (folders.drop / "线索.csv").exists()
