"""Everything genjin writes can hold what it read (issue #12): control characters, NUL, lone surrogates and
over-long cells are made safe in every writer — shown, never dropped, never a formula — and every file name
genjin derives from an input's name fits 255 bytes."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import os
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from adapters import archive
from adapters.ingest import load_file
from flows import steps
from policy.model import load_policy
from reports.cells import MAX_CELL, safe_text
from reports.email_message import Recipient, advisor_message
from reports.workbook import write_advisor_workbook
from reports.worklist_csv import write_worklist_csv
from transforms.plan import advisor_plans, plan_worklist
from transforms.worklist import WORKLIST_COLUMNS

AS_OF = date(2026, 11, 23)
LONG = "长" * 40_000


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    """As an export with control characters is written: xlsxwriter escapes them as _xHHHH_, as Excel does."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("跟进")
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            ws.write_string(i, j, cell)
    wb.close()
    return path


def _cells(path: Path) -> list:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_safe_text_shows_what_it_cannot_hold() -> None:
    assert safe_text("a\x07b\x00c\x1bd\x7f") == "a␇b␀c␛d␡"
    assert safe_text("x\ud800y\udcc4") == "x\ufffdy\ufffd"
    assert safe_text("行一\n行二\t\r") == "行一\n行二\t\r"  # ordinary text
    assert safe_text(3) == 3 and safe_text(None) is None
    cut = safe_text(LONG)
    assert len(cut) <= MAX_CELL and cut.startswith("长" * 30_000)
    assert cut.endswith("…〔已截断，原文共 40000 字 / truncated, 40000 characters in all〕")
    emoji = safe_text("😀" * 20_000)  # two UTF-16 units each, as Excel counts
    assert len(emoji.encode("utf-16-le")) // 2 <= MAX_CELL and "20000" in emoji
    assert safe_text("长" * MAX_CELL) == "长" * MAX_CELL  # exactly at the limit: whole


def test_a_control_character_in_a_bad_date_reaches_the_rejects_workbook_visibly(tmp_path: Path) -> None:
    """Issue #12's first failure: IllegalCharacterError writing the rejects of a date cell holding \\x07."""
    src = _xlsx(tmp_path / "跟进记录.xlsx", [
        ["线索编号", "销售顾问工号", "跟进时间", "跟进结果"],
        ["L1", "A01", "2026-13-20 10:00\x07", "已接通"],
        ["L2", "A01", "2026-11-21 10:00", "=HYPERLINK(\"http://x\")"],
    ])
    load = load_file(src)
    assert (load.rows_in, load.rows_loaded, load.rows_rejected) == (2, 0, 2)
    run_dir = tmp_path / "out"
    run_dir.mkdir()
    (written,) = steps.write_rejects_files.fn([load], run_dir)
    assert load.status == "loaded"
    cells = _cells(written)
    values = [c.value for c in cells]
    assert "2026-13-20 10:00␇" in values
    assert any("2026-13-20 10:00␇" in str(v) and "无法识别" in str(v) for v in values)  # the reason quotes it
    assert '=HYPERLINK("http://x")' in values and all(c.data_type != "f" for c in cells)


def test_no_writer_turns_text_into_a_formula_or_loses_it(tmp_path: Path) -> None:
    odd = {"customer_name": "=1+1\x07", "reason": LONG, "phone": "+8613800138001"}
    row = {c: None for c in WORKLIST_COLUMNS} | {
        "as_of": AS_OF, "advisor_id": "A1", "store": "城东店", "customer_id": "C1", "task_type": "followup",
        "due_date": AS_OF, "days_overdue": 2, "priority": 3, "grade": "A", "stage": "intent", "ref": "L1",
        "lead_id": "L1", "orphaned": False, "original_advisor_id": None, "open_until": None,
    } | odd
    worklist = pl.DataFrame([row])
    csv_path = write_worklist_csv(worklist, tmp_path / "worklist.csv")
    (record,) = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert record["customer_name"] == "'=1+1␇"
    assert record["reason"].endswith("truncated, 40000 characters in all〕") and len(record["reason"]) <= MAX_CELL
    policy = load_policy()
    plan = advisor_plans(plan_worklist(worklist, pl.DataFrame({"advisor_id": ["A1"], "role": ["sales"]}), policy,
                                       AS_OF), policy)  # today's plan, as the flow hands it to the writers
    book = write_advisor_workbook(plan, AS_OF, tmp_path / "A1.xlsx", policy.talk_tracks)
    cells = _cells(book)
    assert all(c.data_type != "f" for c in cells)
    values = [str(c.value) for c in cells if c.value is not None]
    assert "=1+1␇" in values
    # a customer with one task shows its reason alone (issue #15); cut to what a cell holds
    assert any(v.startswith(LONG[:20]) and v.endswith("characters in all〕") and len(v) <= MAX_CELL for v in values)
    msg = advisor_message(Recipient("A1", "张\x07三\ud800", "a1@dealer.cn"), plan, book, AS_OF, "crm@dealer.cn")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert "张␇三\ufffd" in parsed["To"]
    html = parsed.get_body(("html",)).get_content()
    assert "=1+1␇" in html and "\x07" not in html


def _fits(name: str) -> bool:
    return len(os.fsencode(name)) <= archive.MAX_NAME_BYTES


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_every_name_derived_from_a_255_byte_name_fits(tmp_path: Path, suffix: str) -> None:
    """Issue #12's second failure: Errno 36 writing `<255-byte name>.rejects.xlsx`."""
    stem = "线索导出超长文件名" * 30
    while len((stem + suffix).encode()) > 255:
        stem = stem[:-1]
    names = [stem + suffix, stem[:-1] + "乙" + suffix]  # two names alike but for their end
    drop, quarantine, arch = tmp_path / "drop", tmp_path / "q", tmp_path / "archive"
    drop.mkdir()
    run_dir = tmp_path / "out"
    run_dir.mkdir()
    made = []
    for name in names:
        rows = [["线索编号", "销售顾问工号", "跟进时间"], ["L1", "A01", "2026-02-30"]]
        if suffix == ".xlsx":
            _xlsx(drop / name, rows)
        else:
            (drop / name).write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
        load = load_file(drop / name)
        assert load.rows_rejected == 1
        made += steps.write_rejects_files.fn([load], run_dir)
        made.append(archive.quarantine(drop / name, quarantine, "原因 / why"))
        (drop / name).write_text("again", encoding="utf-8")
        made.append(archive.archive(drop / name, arch, AS_OF))
        (drop / name).write_text("a third", encoding="utf-8")
        made.append(archive.archive(drop / name, arch, AS_OF))  # the second of that name: ` (2)`
    paths = [p for folder in (run_dir / "rejects", quarantine, arch / AS_OF.isoformat()) for p in folder.iterdir()]
    everything = [p.name for p in paths]
    assert len(set(paths)) == 10  # 2 rejects, 2 quarantined + 2 .why.txt, 4 archived
    assert all(_fits(n) for n in everything)
    assert all(n.startswith("线索导出超长文件名") for n in everything)  # still readable
    assert sum(n.endswith(".rejects.xlsx") for n in everything) == 2
    assert sum(n.endswith(suffix + ".why.txt") for n in everything) == 2
    assert sum(" (2)" in n for n in everything) == 2
    assert (quarantine / (made[1].name + ".why.txt")).read_text(encoding="utf-8") == "原因 / why\n"


def test_a_name_in_a_foreign_encoding_is_shown_not_lost(tmp_path: Path) -> None:
    name = os.fsdecode("跟进记录".encode("gb18030")) + ".csv"  # undecodable bytes: lone surrogates in Python
    (tmp_path / name).write_text("线索编号,销售顾问工号,跟进时间\nL1,A01,2026-11-20 10:00\nL2,A01,昨天\n",
                                 encoding="utf-8")
    load = load_file(tmp_path / name)
    assert (load.rows_loaded, load.rows_rejected) == (1, 1)
    assert "\ufffd" in load.name and load.name.encode("utf-8")
    run_dir = tmp_path / "out"
    run_dir.mkdir()
    (written,) = steps.write_rejects_files.fn([load], run_dir)
    assert written.exists() and _fits(written.name)


def _corrupt_member(data: bytes, member: str) -> bytes:
    """`member`'s deflated bytes scrambled in place (its header and the central directory intact)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    body = bytearray(data)
    body[start:start + 16] = bytes(range(0xF0, 0x100))
    return bytes(body)


def test_damaged_zip_members_are_read_round_or_quarantined_never_raised(tmp_path: Path) -> None:
    """Found by the fuzzer: zlib.error from a corrupt docProps/core.xml, NotImplementedError from a zip
    'version' Python does not know — neither an UnreadableFile, so either failed the whole night."""
    good = _xlsx(tmp_path / "good.xlsx", [["线索编号", "销售顾问工号", "跟进时间"], ["L1", "A01", "2026-11-20 10:00"]])
    (tmp_path / "core.xlsx").write_bytes(_corrupt_member(good.read_bytes(), "docProps/core.xml"))
    load = load_file(tmp_path / "core.xlsx")  # the sheet is fine: loaded, saved-at from the file system
    assert (load.status, load.rows_loaded) == ("loaded", 1)
    data = bytearray(good.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 6:central + 8] = (148).to_bytes(2, "little")  # "version needed to extract": 14.8
    (tmp_path / "version.xlsx").write_bytes(bytes(data))
    load = load_file(tmp_path / "version.xlsx")
    assert load.status == "quarantined" and "the workbook is damaged" in load.why


def test_a_chart_shows_a_long_or_odd_name_short_and_on_one_line() -> None:
    """Found by the fuzzer: a 40,000-character store name left a chart's axes no room (matplotlib's
    'constrained_layout not applied') — the report drew empty panels."""
    from reports.charts import MAX_TICK, tick

    assert tick("城东店") == "城东店"
    assert tick("长" * 40_000) == "长" * (MAX_TICK - 1) + "…"
    assert tick("城东\n店\x07") == "城东 店␇"
