"""genjin.check: what a run would do with files, told to ops staff in Chinese and English; nothing is moved
or written."""

from __future__ import annotations

import io
from pathlib import Path

import tests.spreadsheets as ss
from genjin.check import check

HEADER = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号"]
GOOD = [
    ["L1", "2025-03-05", "张三", "13800138000", "浦东店", "S1"],
    ["L2", "2025/3/6", "李四", "13800138001", "浦东店", "S1"],
]
BAD = [
    ["L3", "2025-13-45", "王五", "13800138002", "浦东店", "S1"],  # row 4: bad date
    ["L4", "昨天", None, "12345", "浦东店", "S1"],  # row 5: bad date, no name, bad phone
]
FOLLOWUPS_HEADER = ["线索编号", "销售顾问工号", "跟进时间", "跟进结果"]


def _run(paths: list[Path]) -> tuple[int, str]:
    out = io.StringIO()
    code = check(paths, out)
    return code, out.getvalue()


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_a_clean_workbook_passes(tmp_path: Path) -> None:
    sheets = {
        "线索": [HEADER, *GOOD],
        "跟进记录": [FOLLOWUPS_HEADER, ["L1", "S1", "2025-03-06 10:00", "已接通"]],
        "说明": [["本文件由 DMS 导出"]],
    }
    path = ss.write_openpyxl(tmp_path / "book.xlsx", sheets)
    code, text = _run([path])
    assert code == 0
    assert f"文件 / file: {path}" in text
    assert "工作表「线索」：线索 / leads；共 2 行，可载入 2 行，拒绝 0 行" in text
    assert "sheet '线索': leads; 2 rows in, 2 would load, 0 rejected" in text
    assert "工作表「跟进记录」：跟进记录 / followups；共 1 行，可载入 1 行，拒绝 0 行" in text
    assert "工作表「说明」：未识别表头，跳过 / sheet '说明': no known header, skipped" in text
    assert "total: 3 rows in, 3 would load, 0 rejected" in text
    assert text.rstrip().endswith("结论 / result: 全部可载入 / everything would load")


def test_rejected_rows_are_listed_with_sheet_row_column_and_reason(tmp_path: Path) -> None:
    path = ss.write_csv(tmp_path / "leads.csv", [HEADER, *GOOD, *BAD], encoding="gbk", title="线索导出")
    before = _snapshot(tmp_path)
    code, text = _run([path])
    assert code == 1
    assert _snapshot(tmp_path) == before  # nothing moved, nothing written
    assert "工作表「leads」：线索 / leads；共 4 行，可载入 2 行，拒绝 2 行" in text
    failures = [line.strip() for line in text.splitlines() if line.strip().startswith("✗")]
    date_hint = "日期请写成 2025-03-05 或 2025/3/5（可带时间，如 2025-03-05 14:30）"
    assert failures == [
        f"✗ 第 6 行「留资时间」：无法识别的日期「2025-13-45」。{date_hint} / "
        "row 6, column '留资时间': unrecognised date '2025-13-45'",
        f"✗ 第 7 行「留资时间」：无法识别的日期「昨天」。{date_hint} / "
        "row 7, column '留资时间': unrecognised date '昨天'",
        "✗ 第 7 行「联系电话」：无效的电话号码「12345」。手机号应为 11 位数字，如 13800138000；座机请带区号，"
        "如 021-12345678 / row 7, column '联系电话': invalid phone number '12345'",
        "✗ 第 7 行「客户姓名」：必填项为空。此项必须填写 / row 7, column '客户姓名': required value is empty",
    ]
    for internal in ("created_at", "_", "['"):  # no internal names, no Python lists
        assert internal not in "\n".join(failures)
    assert "结论 / result: 有问题，见上 / problems found, see above" in text


def test_a_file_that_would_be_quarantined_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    notes = ss.write_openpyxl(tmp_path / "notes.xlsx", {"说明": [["只是一些说明"]]})
    code, text = _run([empty, notes])
    assert code == 1
    assert "将被隔离 / would be quarantined: 文件为空（0 字节）/ the file is empty (0 bytes)" in text
    assert "将被隔离 / would be quarantined: 找不到可识别的表头" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.xlsx", "notes.xlsx"]


def test_a_header_only_file_loads_nothing_and_passes(tmp_path: Path) -> None:
    path = ss.write_xlsxwriter(tmp_path / "leads.xlsx", {"线索": [HEADER]})
    code, text = _run([path])
    assert code == 0
    assert "没有数据行（只有表头）/ no data rows (only the header)" in text


def test_one_bad_file_among_good_ones_fails_the_check(tmp_path: Path) -> None:
    good = ss.write_openpyxl(tmp_path / "good.xlsx", {"线索": [HEADER, *GOOD]})
    missing = tmp_path / "missing.xlsx"
    code, text = _run([good, missing])
    assert code == 1
    assert f"文件 / file: {missing}\n  文件不存在或不是文件 / no such file" in text
    assert "sheet '线索': leads; 2 rows in, 2 would load, 0 rejected" in text


def test_a_value_outside_the_list_names_the_allowed_values_in_chinese(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "跟进.xlsx", {"跟进": [
        FOLLOWUPS_HEADER, ["L1", "S1", "2025-03-05 10:00", "打不通"],
    ]})
    code, text = _run([path])
    assert code == 1
    (line,) = [line.strip() for line in text.splitlines() if line.strip().startswith("✗")]
    allowed = "已接通、未接通、预约到店、已到店、已试驾、已报价、下订、战败、暂不考虑"
    assert line == (f"✗ 第 2 行「跟进结果」：不是允许的取值「打不通」。请从以下取值中选一个：{allowed} / "
                    f"row 2, column '跟进结果': not one of {allowed}: '打不通'")


def test_no_recognised_header_lists_per_kind_what_it_needs_and_what_was_found(tmp_path: Path) -> None:
    path = ss.write_openpyxl(tmp_path / "导出.xlsx", {"Sheet1": [
        ["客户姓名", "联系电话", "门店", "车型"], ["张三", "13800138000", "浦东店", "轩逸"],
    ]})
    code, text = _run([path])
    assert code == 1
    assert "找不到可识别的表头" in text
    assert ("线索（leads）需要：线索编号、留资时间、客户姓名、联系电话、门店、销售顾问工号；"
            "找到：客户姓名、联系电话、门店；缺少：线索编号、留资时间、销售顾问工号") in text
    assert ("跟进记录（followups）需要：销售顾问工号、跟进时间，以及 线索编号 或 联系电话；"
            "找到：联系电话；缺少：销售顾问工号、跟进时间") in text
    assert "顾问名单（advisors）需要：顾问编号、姓名、门店、岗位；找到：门店；缺少：顾问编号、姓名、岗位" in text
