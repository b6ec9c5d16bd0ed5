"""Ingestion of a corpus of real-looking files (SPEC §2–§3): every value form of §2 from every producer, and
the no-loss rule — for every file rows_in == rows_loaded + rows_rejected, and rows_in is the number of
non-blank data rows written. Expected values are worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

import tests.spreadsheets as ss
from adapters.ingest import FileLoad, load_file
from schemas.validate import ROW

LEADS_HEADER = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号", "勿扰"]

# every date, phone and yes/no form of SPEC §2, one per row
ALL_FORMS = [
    ["L01", datetime(2025, 3, 5, 14, 30), "陈一", "+86 138-0013-8000", "浦东店", "S1", "是"],
    ["L02", date(2025, 3, 5), "陈二", "13800138000", "浦东店", "S1", "否"],
    ["L03", 45721, "陈三", 13800138000, "浦东店", "S1", "Y"],
    ["L04", 45721.5, "陈四", "008613800138000", "浦东店", "S1", "N"],
    ["L05", "2025-03-05", "陈五", "+8613800138000", "浦东店", "S1", "yes"],
    ["L06", "2025/3/5", "陈六", "138 0013 8000", "浦东店", "S1", "no"],
    ["L07", "2025.3.5", "陈七", "+86 138-0013-8000", "浦东店", "S1", "true"],
    ["L08", "2025年3月5日", "陈八", "13800138000", "浦东店", "S1", "false"],
    ["L09", "2025-03-05 14:30", "陈九", "13800138000", "浦东店", "S1", 1],
    ["L10", "2025/3/5 14:30:15", "陈十", "13800138000", "浦东店", "S1", 0],
    ["L11", "2025年3月5日 9:05", "陈十一", "13800138000", "浦东店", "S1", "√"],
    ["L12", "2025.3.5 08:00", "陈十二", "13800138000", "浦东店", "S1", True],
]
ALL_FORMS_CREATED = {
    "L01": datetime(2025, 3, 5, 14, 30),
    "L02": datetime(2025, 3, 5),
    "L03": datetime(2025, 3, 5),
    "L04": datetime(2025, 3, 5, 12, 0),
    "L05": datetime(2025, 3, 5),
    "L06": datetime(2025, 3, 5),
    "L07": datetime(2025, 3, 5),
    "L08": datetime(2025, 3, 5),
    "L09": datetime(2025, 3, 5, 14, 30),
    "L10": datetime(2025, 3, 5, 14, 30, 15),
    "L11": datetime(2025, 3, 5, 9, 5),
    "L12": datetime(2025, 3, 5, 8, 0),
}
ALL_FORMS_DNC = {
    "L01": True, "L02": False, "L03": True, "L04": False, "L05": True, "L06": False,
    "L07": True, "L08": False, "L09": True, "L10": False, "L11": True, "L12": True,
}  # fmt: skip
TITLE = "2025年3月线索导出"

# headers with case, space, full-width and unit differences; amounts in the forms ops type them
SALES_HEADER = [
    "Order ID", "  客户 姓名 ", "ＰＨＯＮＥ", "Advisor_ID", "订车日期", "门店", "成交价（元）", "订单状态",
]  # fmt: skip
SALES = [
    ["O1", "王五", "13800138000", "S1", "2025-03-05", "浦东店", "158,800", "已订车"],
    ["O2", "王六", "13800138001", "S1", "2025/3/6", "浦东店", "158800元", "已订车"],
    ["O3", "王七", "13800138002", "S1", "2025.3.7", "浦东店", 158800, "已交车"],
    ["O4", "王八", "13800138003", "S1", "2025年3月8日", "浦东店", "15.88万", "已订车"],
    ["O5", "王九", "13800138004", "S1", 45725, "浦东店", "¥158,800.00", "已退订"],
]

FOLLOWUPS_HEADER = ["线索编号", "联系电话", "销售顾问工号", "跟进时间", "跟进方式", "跟进结果", "沟通内容"]
FOLLOWUPS = [
    ["L01", None, "S1", "2025-03-06 10:00", "电话", "已接通", "约周六到店"],
    [None, "13800138000", "S1", "2025-03-07 10:00", "微信", "未接通", None],
    ["L02", "13800138001", "S1", "2025-03-08 10:00", "到店", "已试驾", "电话;微信都联系了"],
]
NOTES = [["本文件由 DMS 导出"], ["请勿修改表头"]]

# rows 2..9 of a sheet whose header is row 1; row 8 is blank
REJECTS = [
    ["L1", "2025-03-05", "甲", "13800138000", "浦东店", "S1", None],
    ["L2", "2025-13-45", "乙", "13800138001", "浦东店", "S1", None],  # row 3: bad date
    ["L3", "2025-03-05", "丙", "12345", "浦东店", "S1", None],  # row 4: bad phone
    ["L4", "2025-03-05", None, "13800138003", "浦东店", "S1", None],  # row 5: no name
    ["L5", "昨天", "戊", "abc", "浦东店", "S1", None],  # row 6: bad date and bad phone
    ["L6", "2025-03-06", "己", "13800138005", "浦东店", "S1", None],
    [None, None, None, None, None, None, None],  # row 8: blank
    ["L7", "2025-03-07", "庚", "13800138006", "浦东店", "S1", None],
]
REJECT_FAILURES = {(3, "created_at"), (4, "phone"), (5, "customer_name"), (6, "created_at"), (6, "phone")}

Writer = Callable[[Path, ss.Sheets, str | None], Path]


def _csv_writer(path: Path, sheets: ss.Sheets, title: str | None = None) -> Path:
    (rows,) = sheets.values()
    return ss.write_csv(path.with_suffix(".csv"), rows, title=title)


PRODUCERS: dict[str, tuple[str, Writer]] = {
    "openpyxl-xlsx": (".xlsx", ss.write_openpyxl),
    "openpyxl-xlsm": (".xlsm", ss.write_openpyxl),
    "xlsxwriter-xlsx": (".xlsx", ss.write_xlsxwriter),
    "xls": (".xls", ss.write_xls),
    "csv-utf8": (".csv", _csv_writer),
}


def accounting(load: FileLoad, rows_written: int) -> None:
    assert load.status == "loaded", load.why
    assert load.rows_in == load.rows_loaded + load.rows_rejected
    assert load.rows_in == rows_written


def _column(load: FileLoad, name: str) -> dict:
    (sheet,) = load.sheets
    return dict(zip(sheet.loaded["lead_id"], sheet.loaded[name], strict=True))


@pytest.mark.parametrize("producer", PRODUCERS)
def test_every_date_phone_and_yes_no_form_under_a_merged_title(tmp_path: Path, producer: str) -> None:
    suffix, write = PRODUCERS[producer]
    path = write(tmp_path / f"leads{suffix}", {"线索": [LEADS_HEADER, *ALL_FORMS]}, TITLE)
    load = load_file(path)
    accounting(load, 12)
    assert load.kind == "leads"
    assert load.rows_loaded == 12
    assert _column(load, "created_at") == ALL_FORMS_CREATED
    assert set(_column(load, "phone").values()) == {"+8613800138000"}
    assert _column(load, "do_not_contact") == ALL_FORMS_DNC
    assert load.sheets[0].data_rows == list(range(4, 16))  # title row 1, blank row 2, header 3


@pytest.mark.parametrize("producer", PRODUCERS)
def test_header_spellings_and_amounts(tmp_path: Path, producer: str) -> None:
    suffix, write = PRODUCERS[producer]
    path = write(tmp_path / f"orders{suffix}", {"订单": [SALES_HEADER, *SALES]}, None)
    load = load_file(path)
    accounting(load, 5)
    assert load.kind == "sales"
    loaded = load.sheets[0].loaded
    assert loaded["order_id"].to_list() == ["O1", "O2", "O3", "O4", "O5"]
    assert loaded["customer_name"].to_list() == ["王五", "王六", "王七", "王八", "王九"]
    assert loaded["price"].to_list() == [158800.0] * 5
    assert loaded["ordered_at"].to_list() == [datetime(2025, 3, d) for d in (5, 6, 7, 8, 9)]
    assert load.sheets[0].headers["price"] == "成交价（元）"


@pytest.mark.parametrize("producer", ["openpyxl-xlsx", "xlsxwriter-xlsx", "xls", "csv-utf8"])
def test_bad_rows_rejected_with_every_reason_and_good_rows_load(tmp_path: Path, producer: str) -> None:
    suffix, write = PRODUCERS[producer]
    path = write(tmp_path / f"bad{suffix}", {"线索": [LEADS_HEADER, *REJECTS]}, None)
    load = load_file(path)
    accounting(load, 7)
    assert (load.rows_loaded, load.rows_rejected) == (3, 4)
    (sheet,) = load.sheets
    assert sheet.loaded["lead_id"].to_list() == ["L1", "L6", "L7"]
    assert set(zip(sheet.rejects[ROW], sheet.rejects["column"], strict=True)) == REJECT_FAILURES
    keys = zip(sheet.rejects[ROW], sheet.rejects["column"], strict=True)
    reasons = dict(zip(keys, sheet.rejects["reason_en"], strict=True))
    assert reasons[(3, "created_at")] == "unrecognised date '2025-13-45'"
    assert reasons[(4, "phone")] == "invalid phone number '12345'"
    assert reasons[(5, "customer_name")] == "required value is empty"
    assert reasons[(6, "created_at")] == "unrecognised date '昨天'"
    assert reasons[(6, "phone")] == "invalid phone number 'abc'"
    hints = dict(zip(zip(sheet.rejects[ROW], sheet.rejects["column"], strict=True), sheet.rejects["hint"], strict=True))
    assert hints[(4, "phone")] == "手机号应为 11 位数字，如 13800138000；座机请带区号，如 021-12345678"
    assert hints[(5, "customer_name")] == "此项必须填写"


@pytest.mark.parametrize("producer", ["openpyxl-xlsx", "xlsxwriter-xlsx", "xls"])
def test_each_sheet_is_detected_on_its_own(tmp_path: Path, producer: str) -> None:
    suffix, write = PRODUCERS[producer]
    sheets = {
        "线索": [LEADS_HEADER, *ALL_FORMS[:2]],
        "跟进记录": [FOLLOWUPS_HEADER, *FOLLOWUPS],
        "说明": NOTES,
    }
    load = load_file(write(tmp_path / f"book{suffix}", sheets, None))
    accounting(load, 5)
    assert [(s.sheet, s.kind, s.rows_in, s.loaded.height) for s in load.sheets] == [
        ("线索", "leads", 2, 2),
        ("跟进记录", "followups", 3, 3),
    ]
    assert load.skipped_sheets == ["说明"]
    followups = load.sheets[1].loaded
    assert followups["phone"].to_list() == [None, "+8613800138000", "+8613800138001"]
    assert followups["summary"].to_list() == ["约周六到店", None, "电话;微信都联系了"]


@pytest.mark.parametrize("producer", PRODUCERS)
def test_a_sheet_of_only_a_header_is_a_file_of_0_rows(tmp_path: Path, producer: str) -> None:
    suffix, write = PRODUCERS[producer]
    load = load_file(write(tmp_path / f"header_only{suffix}", {"线索": [LEADS_HEADER]}, None))
    accounting(load, 0)
    assert (load.kind, load.rows_loaded, load.rows_rejected) == ("leads", 0, 0)


# --- CSV encodings and delimiters -----------------------------------------------------------------------

GB_NAMES = ["张三", "李䶮", "王𠀀"]  # 䶮 and 𠀀 are in GB18030 but not in GBK
GBK_NAMES = ["张三", "李四", "赵六"]


def _leads(names: list[str]) -> list[list[ss.Cell]]:
    return [
        [f"L{i}", f"2025-03-0{i}", name, f"1380013800{i}", "浦东店", "S1", "否"]
        for i, name in enumerate(names, start=1)
    ]


@pytest.mark.parametrize(
    ("encoding", "names"),
    [("utf-8", GB_NAMES), ("utf-8-sig", GB_NAMES), ("gb18030", GB_NAMES), ("gbk", GBK_NAMES)],
)
def test_csv_encodings_decode_strictly_in_order(tmp_path: Path, encoding: str, names: list[str]) -> None:
    path = ss.write_csv(tmp_path / f"leads_{encoding}.csv", [LEADS_HEADER, *_leads(names)], encoding=encoding)
    load = load_file(path)
    accounting(load, 3)
    assert load.sheets[0].loaded["customer_name"].to_list() == names
    assert load.sheets[0].headers["customer_name"] == "客户姓名"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_other_delimiters_when_the_header_splits_only_that_way(tmp_path: Path, delimiter: str) -> None:
    rows = [SALES_HEADER, *SALES[:2]]  # "158,800" holds a comma that must not split
    path = ss.write_csv(tmp_path / "orders.csv", rows, encoding="gbk", delimiter=delimiter, title="订单导出")
    load = load_file(path)
    accounting(load, 2)
    assert load.sheets[0].loaded["price"].to_list() == [158800.0, 158800.0]
    assert load.sheets[0].data_rows == [4, 5]


def test_csv_with_title_and_blank_lines_keeps_all_columns_and_row_numbers(tmp_path: Path) -> None:
    rows = [LEADS_HEADER, *REJECTS]
    load = load_file(ss.write_csv(tmp_path / "leads.csv", rows, encoding="gbk", title=TITLE))
    accounting(load, 7)
    (sheet,) = load.sheets
    assert sheet.data_rows == [4, 5, 6, 7, 8, 9, 11]
    assert {(r, c) for r, c in zip(sheet.rejects[ROW], sheet.rejects["column"], strict=True)} == {
        (5, "created_at"), (6, "phone"), (7, "customer_name"), (8, "created_at"), (8, "phone"),
    }  # fmt: skip


def test_an_xlsx_written_by_ops_as_dates_of_the_real_excel_kind(tmp_path: Path) -> None:
    """Birthdays typed as real Excel dates in a sales sheet come out as dates."""
    rows = [[*SALES_HEADER, "生日"], [*SALES[0], date(1990, 2, 28)], [*SALES[1], "1990年2月28日"]]
    load = load_file(ss.write_openpyxl(tmp_path / "orders.xlsx", {"订单": rows}))
    accounting(load, 2)
    assert load.sheets[0].loaded["birthday"].to_list() == [date(1990, 2, 28), date(1990, 2, 28)]
