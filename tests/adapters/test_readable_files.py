"""Files genjin used to quarantine although they can be read (issue #13): headers with a trailing unit, CSV text
saved under an .xlsx name, and bare carriage-return line ends (old Excel for Mac). Each is a real file on disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import tests.spreadsheets as ss
from adapters.ingest import load_file

FOLLOWUP_HEADER = ["线索编号", "销售顾问工号", "跟进时间（分）", "跟进结果", "通话时长（秒）"]
LEAD_LINES = [
    "线索编号,留资时间,客户姓名,联系电话,门店,销售顾问工号",
    "L1,2025-03-05,张三,13800138000,浦东店,S1",
    "L2,2025-03-06,李四,13800138001,浦东店,S1",
]


def test_a_header_with_a_trailing_unit_is_its_column(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "跟进.xlsx", {"跟进": [
        FOLLOWUP_HEADER,
        ["L1", "S1", "2025-03-05 10:30", "已接通", "65"],
    ]})
    load = load_file(path)
    assert load.status == "loaded", load.why
    (sheet,) = load.sheets
    assert sheet.kind == "followups"
    assert sheet.headers["contacted_at"] == "跟进时间（分）"
    assert sheet.loaded["contacted_at"].to_list() == [datetime(2025, 3, 5, 10, 30)]


def test_csv_text_under_an_xlsx_name_is_read_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "线索导出.xlsx"
    path.write_bytes(("\r\n".join(LEAD_LINES) + "\r\n").encode("gb18030"))  # a DMS "Excel export" that is GBK CSV
    load = load_file(path)
    assert load.status == "loaded", load.why
    assert (load.kind, load.rows_in, load.rows_loaded) == ("leads", 2, 2)
    assert load.sheets[0].loaded["customer_name"].to_list() == ["张三", "李四"]


def test_binary_garbage_under_an_xlsx_name_is_still_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "坏.xlsx"
    path.write_bytes(bytes(range(256)) * 4)
    load = load_file(path)
    assert load.status == "quarantined"
    assert "不是 Excel 工作簿" in load.why


def test_bare_carriage_returns_end_lines(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    lines = [*LEAD_LINES, 'L3,2025-03-07,"王五\r（备注两行）",13800138002,浦东店,S1']
    path.write_bytes(("\r".join(lines) + "\r").encode("utf-8"))
    load = load_file(path)
    assert load.status == "loaded", load.why
    assert (load.rows_in, load.rows_loaded, load.rows_rejected) == (3, 3, 0)
    names = load.sheets[0].loaded["customer_name"].to_list()
    assert names == ["张三", "李四", "王五\r（备注两行）"]
    assert load.sheets[0].loaded["__row"].to_list() == [2, 3, 4]
