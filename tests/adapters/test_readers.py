"""adapters.readers: files that cannot be read are refused with a reason in Chinese and English; files that can
are read cell for cell, row numbers as Excel shows them."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

import tests.spreadsheets as ss
from adapters.ingest import load_file
from adapters.readers import (
    MB,
    PASSWORD,
    ReadLimits,
    UnreadableFile,
    read_sheets,
    sniff_delimiter,
)

HEADER = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号"]
ROWS = [
    ["L1", "2025-03-05", "张三", "13800138000", "浦东店", "S1"],
    ["L2", "2025-03-06", "李四", "13800138001", "浦东店", "S1"],
]


def _xlsx(tmp_path: Path, name: str = "leads.xlsx") -> Path:
    return ss.write_openpyxl(tmp_path / name, {"线索": [HEADER, *ROWS]})


def _refused(path: Path, limits: ReadLimits | None = None) -> str:
    with pytest.raises(UnreadableFile) as err:
        read_sheets(path) if limits is None else read_sheets(path, limits)
    message = str(err.value)
    assert "/ " in message  # Chinese / English
    return message


def _add_member(path: Path, name: str, data: bytes, compression: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "a", compression) as archive:
        archive.writestr(name, data)


# --- limits ---------------------------------------------------------------------------------------------


def test_a_member_compressed_over_100_to_1_is_a_zip_bomb(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    _add_member(path, "xl/media/pad.bin", b"\0" * (2 * MB))  # 2 MB of zeros deflate to about 2 KB
    message = _refused(path)
    assert "疑似压缩炸弹" in message
    assert "xl/media/pad.bin" in message
    assert "zip bomb" in message


def test_a_large_member_that_does_not_compress_is_fine(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    _add_member(path, "xl/media/photo.bin", os.urandom(2 * MB))
    assert [s.name for s in read_sheets(path)] == ["线索"]


def test_a_small_member_is_not_judged_by_its_ratio(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    _add_member(path, "xl/media/small.bin", b"\0" * (MB - 1))  # ratio ~1000:1, but under 1 MB
    assert [s.name for s in read_sheets(path)] == ["线索"]


def test_total_unpacked_size_over_the_limit(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    _add_member(path, "xl/media/photo.bin", os.urandom(3 * MB), zipfile.ZIP_STORED)
    message = _refused(path, ReadLimits(max_unpacked_bytes=2 * MB))
    assert "超过上限 2 MB" in message
    assert "over the limit of 2 MB" in message


def test_default_limits() -> None:
    limits = ReadLimits()
    assert limits.max_unpacked_bytes == 200 * 1024 * 1024
    assert limits.max_ratio == 100
    assert limits.ratio_floor_bytes == 1024 * 1024
    assert limits.max_rows == 2_000_000


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".csv"])
def test_a_sheet_over_the_row_limit(tmp_path: Path, suffix: str) -> None:
    rows = [HEADER, *ROWS, *ROWS]  # 5 rows
    write = {".xlsx": ss.write_openpyxl, ".xls": ss.write_xls}.get(suffix)
    path = tmp_path / f"leads{suffix}"
    if write:
        write(path, {"线索": rows})
    else:
        ss.write_csv(path, rows)
    message = _refused(path, ReadLimits(max_rows=4))
    assert "有 5 行，超过上限 4 行" in message
    assert "5 rows, more than the limit of 4" in message
    assert read_sheets(path, ReadLimits(max_rows=5))[0].cells.height == 5


# --- not a readable workbook ----------------------------------------------------------------------------


def test_password_protected_xlsx(tmp_path: Path) -> None:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = _xlsx(tmp_path, "plain.xlsx")
    encrypted = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, encrypted.open("wb") as dst:
        ooxml.OOXMLFile(src).encrypt("secret", dst)
    assert encrypted.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert _refused(encrypted) == "工作簿有密码保护 / the workbook is password-protected"
    load = load_file(encrypted)
    assert (load.status, load.why) == ("quarantined", PASSWORD)


def test_a_real_xls_is_ole_too_and_is_read(tmp_path: Path) -> None:
    path = ss.write_xls(tmp_path / "leads.xls", {"线索": [HEADER, *ROWS]})
    assert path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    (sheet,) = read_sheets(path)
    assert sheet.cells.row(1) == ("L1", "2025-03-05", "张三", "13800138000", "浦东店", "S1")


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".csv"])
def test_an_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    assert _refused(path) == "文件为空（0 字节）/ the file is empty (0 bytes)"


def test_a_truncated_xlsx(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "工作簿已损坏" in _refused(path)


def test_a_damaged_sheet_inside_a_sound_zip(tmp_path: Path) -> None:
    good = _xlsx(tmp_path, "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = b"<worksheet><sheetData><row" if "worksheets/" in info.filename else src.read(info)
            dst.writestr(info, data)
    message = _refused(bad)
    assert message.startswith("无法打开工作簿（文件可能已损坏）/ ")
    assert "cannot open the workbook (the file may be damaged): " in message


def test_a_zip_that_is_no_workbook(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert _refused(path) == (
        "这是 zip 压缩包，不是 Excel 工作簿 / this is a zip archive, not an Excel workbook"
    )


def test_a_web_page_saved_as_xls(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>线索编号</td></tr></table></body></html>", encoding="utf-8")
    assert "不是真正的 Excel 工作簿" in _refused(path)


def test_text_under_a_workbook_name_is_read_as_csv(tmp_path: Path) -> None:
    """Issue #13: read by content (SPEC §2) — CSV text saved as .xlsx is CSV, not a damaged workbook."""
    path = tmp_path / "leads.xlsx"
    path.write_text("线索编号,客户姓名\nL1,张三\n", encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.cells.rows() == [("线索编号", "客户姓名"), ("L1", "张三")]


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "leads.txt"
    path.write_text("x", encoding="utf-8")
    assert _refused(path) == "不支持的文件类型 .txt / unsupported file type .txt"


def test_csv_in_an_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("线索编号,客户姓名\n".encode() + b"L1,\x80\xff\n")
    assert _refused(path) == (
        "无法识别文件编码（应为 UTF-8 或 GBK/GB18030）/ the text encoding is neither UTF-8 nor GBK/GB18030"
    )


def test_csv_of_blank_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\r\n \r\n")
    assert _refused(path) == "文件中没有任何内容（只有空行）/ the file holds nothing but blank lines"


def test_binary_content_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\x00\x01\x02garbage\x00")
    assert "不是文本 CSV 文件" in _refused(path)


# --- read by content, whatever the name -----------------------------------------------------------------


@pytest.mark.parametrize(("write", "name"), [(ss.write_openpyxl, "real.xls"), (ss.write_xls, "real.xlsx")])
def test_a_workbook_saved_under_the_other_name_is_read_by_its_content(tmp_path: Path, write, name) -> None:
    source = tmp_path / ("src.xlsx" if write is ss.write_openpyxl else "src.xls")
    produced = write(source, {"线索": [HEADER, *ROWS]})
    path = produced.rename(tmp_path / name)
    (sheet,) = read_sheets(path)
    assert sheet.cells.height == 3


def test_an_xlsx_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = _xlsx(tmp_path).rename(tmp_path / "leads.csv")
    (sheet,) = read_sheets(path)
    assert sheet.cells.row(2) == ("L2", "2025-03-06", "李四", "13800138001", "浦东店", "S1")


# --- cells and rows as Excel shows them -----------------------------------------------------------------


@pytest.mark.parametrize("write", [ss.write_openpyxl, ss.write_xlsxwriter, ss.write_xls])
def test_a_merged_title_holds_its_value_top_left_only(tmp_path: Path, write) -> None:
    suffix = ".xls" if write is ss.write_xls else ".xlsx"
    (sheet,) = read_sheets(write(tmp_path / f"t{suffix}", {"线索": [HEADER, *ROWS]}, "2025年3月线索导出"))
    assert sheet.cells.row(0) == ("2025年3月线索导出", None, None, None, None, None)
    assert sheet.cells.row(1) == (None,) * 6
    assert sheet.cells.row(2) == tuple(HEADER)
    assert sheet.cells.height == 5


def test_an_empty_sheet_is_left_out_and_a_header_only_sheet_is_kept(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "book.xlsx", {"空": [], "线索": [HEADER]})
    sheets = read_sheets(path)
    assert [(s.name, s.cells.height) for s in sheets] == [("线索", 1)]


def test_a_workbook_of_empty_sheets_reads_as_no_sheets_and_is_quarantined_by_ingest(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "book.xlsx", {"Sheet1": []})
    assert read_sheets(path) == []
    load = load_file(path)
    assert load.status == "quarantined"
    assert load.why == "工作簿中所有工作表都是空的 / every sheet of the workbook is empty"


def test_csv_keeps_ragged_rows_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("线索导出\n\na,b,c\n1,2\n\n4,5,6,7\n", encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.cells.rows() == [
        ("线索导出", None, None, None),
        (None, None, None, None),
        ("a", "b", "c", None),
        ("1", "2", None, None),
        (None, None, None, None),
        ("4", "5", "6", "7"),
    ]


def test_csv_quoted_cell_over_two_lines_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,"第一行\n第二行"\n2,x\n', encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.cells.rows() == [("a", "b"), ("1", "第一行\n第二行"), ("2", "x")]


def test_csv_utf16_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("线索编号\t客户姓名\r\nL1\t张三\r\n".encode("utf-16"))
    (sheet,) = read_sheets(path)
    assert sheet.cells.rows() == [("线索编号", "客户姓名"), ("L1", "张三")]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ("标题\n\na;b;c\n1;158,800;3\n", ";"),  # a title row, and a comma inside a value
        ("a,b,c\n1,电话;微信;短信;到店,3\n", ","),  # semicolons inside a value of a comma file
        ("a;b,c\n", ","),  # a header that splits both ways, as wide: comma
        ("only one column\nvalue\n", ","),
    ],
)
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_a_csv_whose_text_starts_with_pk_is_still_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "packages.csv"
    path.write_text("PK编号,名称\nPK1,套餐\n", encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.cells.rows() == [("PK编号", "名称"), ("PK1", "套餐")]
