"""The rejects workbook a clerk acts on (issue #13): a sheet per original sheet named after it, the column at
fault by the file's header, the bad cell highlighted in the copied row, a fix hint, widths that show the reason."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import tests.spreadsheets as ss
from adapters.ingest import load_file
from reports.rejects import sheet_title, write_rejects

HEADER = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号"]
ROWS = [
    ["L1", "2025-03-05", "张三", "13800138000", "浦东店", "S1"],
    ["L2", "2025-03-05", "王五", "1380013800", "浦东店", "S1"],  # row 3: ten digits
    ["L3", "昨天", "赵六", "-1380013", "浦东店", "S1"],  # row 4: bad date, a phone that looks like a formula
]


def _workbook(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> openpyxl.Workbook:
    load = load_file(ss.write_openpyxl(tmp_path / "线索.xlsx", sheets))
    path = write_rejects([s for s in load.sheets if s.rejects.height], tmp_path / "线索.xlsx.rejects.xlsx")
    return openpyxl.load_workbook(path)


def _fill(cell: openpyxl.cell.cell.Cell) -> str:
    return cell.fill.fgColor.rgb[-6:] if cell.fill and cell.fill.fill_type == "solid" else ""


def test_one_sheet_per_original_sheet_with_headers_hints_and_the_bad_cell_marked(tmp_path: Path) -> None:
    wb = _workbook(tmp_path, {"3月潜客": [HEADER, *ROWS], "4月潜客": [HEADER, ROWS[1]]})
    assert wb.sheetnames == ["3月潜客", "4月潜客"]
    ws = wb["3月潜客"]
    header = [c.value for c in ws[2]]
    assert header[:5] == ["原行号", "状态", "出错列", "原因", "改正方法"]
    assert header[5:11] == HEADER and header[-1] == "reason (English)"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    assert sorted(rows) == [3, 4]
    phone_row = rows[3]
    assert phone_row[2].value == "联系电话"
    assert phone_row[3].value == "无效的电话号码「1380013800」"
    assert phone_row[4].value == "手机号应为 11 位数字，如 13800138000；座机请带区号，如 021-12345678"
    marked = [header[j] for j, cell in enumerate(phone_row) if j >= 5 and _fill(cell) == "FFC7CE"]
    assert marked == ["联系电话"]
    two = rows[4]
    assert two[2].value == "留资时间、联系电话"
    assert two[3].value.splitlines() == ["【留资时间】无法识别的日期「昨天」", "【联系电话】无效的电话号码「-1380013」"]
    assert two[5 + HEADER.index("联系电话")].value == "-1380013" and two[5 + HEADER.index("联系电话")].data_type == "s"
    assert [header[j] for j, cell in enumerate(two) if j >= 5 and _fill(cell) == "FFC7CE"] == ["留资时间", "联系电话"]
    for j in (3, 4):  # the reason and the hint read whole: wide, wrapped, the row tall enough
        assert ws.column_dimensions["DE"[j - 3]].width >= 36
        assert two[j].alignment.wrap_text
    assert ws.row_dimensions[4].height >= 2 * 15


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("2025年3月[浦东店]全部潜客导出表格_第一批次_含战败客户和保有客户", set(),
         "2025年3月_浦东店_全部潜客导出表格_第一批次_含战败客户"),
        ("a/b:c*d?e\\f", set(), "a_b_c_d_e_f"),
        ("'quoted'", set(), "quoted"),
        ("History", set(), "History_"),
        ("Sheet1", {"sheet1"}, "Sheet1 (2)"),
        ("x" * 40, {"x" * 31}, "x" * 27 + " (2)"),
        ("", set(), "Sheet"),
    ],
)
def test_sheet_names_excel_accepts(name: str, taken: set[str], expected: str) -> None:
    title = sheet_title(name, taken)
    assert title == expected and len(title) <= 31
    openpyxl.Workbook().create_sheet(title)  # openpyxl refuses what Excel refuses
