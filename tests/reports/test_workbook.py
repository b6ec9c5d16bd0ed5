"""The advisor's workbook, read back with openpyxl: layout, formats, drop-downs, the talk-track sheet, and
that text which Excel would run as a formula is stored as text."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from adapters.localzone import local_zone
from adapters.readers import file_time, read_sheets
from policy.model import TASK_TYPES, load_policy
from reports.workbook import COLUMNS, write_advisor_workbook
from schemas.header import find_header
from schemas.vocab import CHANNELS, OUTCOMES
from transforms.labels import TASK_LABELS

AS_OF = date(2026, 11, 23)
HEADERS = ["序号", "紧急程度", "客户姓名", "手机号", "跟进事项", "逾期天数", "原因", "跟进时间", "跟进方式",
           "跟进结果", "下次跟进时间", "沟通内容", "应跟进日期", "已顺延天数", "级别", "阶段", "线索编号", "顾问编号",
           "客户编号"]
TRACKS = {"complaint": "先道歉，1 小时内联系。", "first_contact": "价值前置、轻互动。",
          "followup": "按阶段推进。", "birthday": "=只送祝福"}


def customers(*rows: dict) -> pl.DataFrame:
    """Rows as transforms.views.per_customer gives them, written out by hand."""
    base = {"advisor_id": "S1", "customer_id": "C1", "store": "浦东店", "customer_name": "陈先生",
            "phone": "+8614712348001", "priority": 2, "due_date": date(2026, 11, 21), "days_overdue": 2,
            "grade": "C", "stage": "lead", "tasks": "首次联系", "reasons": "【首次联系】新线索 L1",
            "lead_id": "L1", "orphaned": False, "n_tasks": 1, "plan_rank": 2, "urgency": "act_now",
            "urgency_label": "立即处理", "urgency_colour": "#F8CBAD", "carried_nights": 0, "escalated": False,
            "waiting": 12, "stale": 0}
    return pl.DataFrame([base | r for r in rows], schema_overrides={"due_date": pl.Date})


ROWS = customers(
    {"customer_id": "C9", "customer_name": "=cmd|' /C calc'!A0", "priority": 1, "tasks": "投诉处理、首次联系",
     "reasons": "【投诉处理】CSAT 40\n【首次联系】新线索 L9", "lead_id": "L9", "n_tasks": 2, "plan_rank": 1,
     "carried_nights": 5, "escalated": True},
    {},
    {"customer_id": "C2", "customer_name": "李女士", "phone": "+8619459697822", "priority": 3,
     "due_date": AS_OF, "days_overdue": 0, "grade": "S", "stage": "negotiating", "tasks": "意向跟进",
     "reasons": "谈判·S级，上次 11-22 已报价，约定 11-23 再联系", "lead_id": "L2", "plan_rank": 3,
     "urgency": "can_wait", "urgency_label": "常规跟进", "urgency_colour": None, "carried_nights": 1},
)


@pytest.fixture
def book(tmp_path: Path) -> openpyxl.Workbook:
    path = write_advisor_workbook(ROWS, AS_OF, tmp_path / "S1.xlsx", TRACKS)
    return openpyxl.load_workbook(path)


def test_the_worklist_sheet_comes_first_with_headers_the_reader_maps_back(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["跟进清单 11-23", "话术提示"]
    ws = book.active
    assert ws.title == "跟进清单 11-23"
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 4


def test_rows_keep_their_order_and_values(book: openpyxl.Workbook) -> None:
    ws = book.active
    rows = [row[:7] + row[12:] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert rows == [  # 14x and 19x mobiles as they are written, 3-4-4
        (1, "立即处理", "=cmd|' /C calc'!A0", "147 1234 8001", "投诉处理、首次联系", 2,
         "【投诉处理】CSAT 40\n【首次联系】新线索 L9", datetime(2026, 11, 21), 5, "C", "线索", "L9", "S1", "C9"),
        (2, "立即处理", "陈先生", "147 1234 8001", "首次联系", 2, "【首次联系】新线索 L1", datetime(2026, 11, 21), 0,
         "C", "线索", "L1", "S1", "C1"),
        (3, "常规跟进", "李女士", "194 5969 7822", "意向跟进", 0, "谈判·S级，上次 11-22 已报价，约定 11-23 再联系",
         datetime(2026, 11, 23), 1, "S", "谈判", "L2", "S1", "C2"),
    ]
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=12, values_only=True):
        assert row == (None, None, None, None, None)


def test_a_formula_looking_name_is_stored_as_a_string(book: openpyxl.Workbook, tmp_path: Path) -> None:
    cell = book.active["C2"]
    assert cell.value == "=cmd|' /C calc'!A0"
    assert cell.data_type == "s"
    assert book.active["D2"].data_type == "s"  # a phone is text, not a number
    with zipfile.ZipFile(tmp_path / "S1.xlsx") as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert all("<f>" not in xml and "<f " not in xml for xml in sheets)


@pytest.mark.parametrize("text", ["=1+1", "=cmd|' /C calc'!A0", "+86 138", "-2+3", "@SUM(A1:A2)", "=", "-"])
def test_text_starting_like_a_formula_reads_back_as_that_text(tmp_path: Path, text: str) -> None:
    rows = customers({"customer_name": text, "reasons": text, "lead_id": text, "customer_id": text})
    path = write_advisor_workbook(rows, AS_OF, tmp_path / "S1.xlsx", {"first_contact": text})
    book = openpyxl.load_workbook(path)
    for cell in (book.active["C2"], book.active["G2"], book.active["Q2"], book.active["S2"], book["话术提示"]["C2"]):
        assert (cell.value, cell.data_type) == (text, "s")
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert all("<f>" not in xml and "<f " not in xml for xml in sheets)


def test_the_workbook_is_stamped_genjin_and_modified_now(book: openpyxl.Workbook, tmp_path: Path) -> None:
    """A workbook dropped back unchanged was `modified` when genjin wrote it (the loop-back's contact time)."""
    assert book.properties.creator == "genjin"
    written = file_time(tmp_path / "S1.xlsx")
    assert abs(written - datetime.now(local_zone()).replace(tzinfo=None)) < timedelta(minutes=2)


def test_header_frozen_filters_on_and_printing_repeats_the_header(book: openpyxl.Workbook) -> None:
    ws = book.active
    assert ws.freeze_panes == "D2"  # header row, rank, urgency and the customer's name stay in view
    pane = ws.sheet_view.pane
    assert (pane.state, pane.ySplit, pane.xSplit) == ("frozen", 1, 3)
    assert ws.auto_filter.ref == "A1:S4"  # the header row is the filter row, over every column and row
    assert ws.row_dimensions[1].height == 32  # two lines: 逾期天数 wraps
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    fit = ws.page_setup.fitToWidth or 1  # OOXML's default, which xlsxwriter leaves out
    assert (fit, ws.page_setup.fitToHeight) == (1, 0) and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_area == "'跟进清单 11-23'!$A$1:$L$4"  # up to 沟通内容: the dates, grade and ids stay on screen
    assert (ws.page_margins.left, ws.page_margins.right) == (0.25, 0.25)
    assert ws.oddHeader.left.text == "今日计划 3 位客户 · 另有 12 位待安排"  # on every printed page


def test_rows_are_tall_enough_to_show_the_reason_whole_and_to_write_in(book: openpyxl.Workbook) -> None:
    """Counted by hand — a Chinese character two units, a space or a hyphen a half, other characters one — in
    a column's width less one: 原因 (30) holds 【投诉处理】CSAT 40 (18.5 units) and 【首次联系】新线索 L9 (20.5) on a
    line each, 谈判·S级，上次 11-22 已报价，约定 11-23 再联系 (43) on two; 跟进事项 (10) 投诉处理、首次联系 (18) on
    two. A line is 15 pt, plus 3; a row of one line still has 30 pt to write an outcome in."""
    ws = book.active
    assert ws["G2"].alignment.wrap_text and ws["E2"].alignment.wrap_text
    assert [ws.row_dimensions[r].height for r in (2, 3, 4)] == [33, 30, 33]


def test_column_widths_and_date_formats(book: openpyxl.Workbook) -> None:
    ws = book.active
    widths = {cell.value: ws.column_dimensions[cell.column_letter].width for cell in ws[1]}
    assert widths == {c.header: c.width for c in COLUMNS}
    assert widths["手机号"] == 14
    assert widths["原因"] == 30
    assert widths["沟通内容"] == 26
    assert ws["M2"].number_format == "yyyy-mm-dd"  # 应跟进日期
    assert ws["H2"].number_format == "yyyy-mm-dd hh:mm"  # 跟进时间
    assert ws["K4"].number_format == "yyyy-mm-dd hh:mm"  # 下次跟进时间


def rgb(colour: openpyxl.styles.colors.Color) -> str:
    """The colour without its alpha byte, which Excel ignores (openpyxl writes 00, Excel and xlsxwriter FF)."""
    return colour.rgb[-6:]


def test_urgency_colours_not_overdue_red(book: openpyxl.Workbook) -> None:
    ws = book.active
    assert rgb(ws["A2"].fill.fgColor) == rgb(ws["B2"].fill.fgColor) == "F8CBAD"  # the class's colour
    assert rgb(ws["B3"].fill.fgColor) == "F8CBAD"
    assert ws["B4"].fill.fill_type is None  # 常规跟进: no colour of its own
    for row in (2, 3):  # overdue, yet not painted red
        assert ws[f"C{row}"].fill.fill_type is None
        assert not ws[f"F{row}"].font.b
    assert rgb(ws["N2"].font.color) == "C00000" and ws["N2"].font.b  # carried past the limit: escalated
    assert not ws["N4"].font.b
    assert rgb(ws["I2"].fill.fgColor) == "FFFBEA"  # the columns to fill in are tinted
    assert ws["B2"].border.left.style == ws["S4"].border.bottom.style == "thin"
    header = ws[1]
    assert all(c.font.b and rgb(c.font.color) == "FFFFFF" for c in header)
    assert {rgb(c.fill.fgColor) for c in header[:7] + header[12:]} == {"1F4E78"}  # genjin's columns
    assert {rgb(c.fill.fgColor) for c in header[7:12]} == {"375623"}  # the advisor's columns, right after why


def test_outcome_and_channel_are_drop_downs_and_dates_are_checked(book: openpyxl.Workbook) -> None:
    validations = {str(dv.sqref): dv for dv in book.active.data_validations.dataValidation}
    outcome = validations["J2:J4"]
    assert outcome.type == "list"
    assert outcome.formula1 == '"已接通,未接通,预约到店,已到店,已试驾,已报价,下订,战败,暂不考虑"'
    assert outcome.formula1.strip('"').split(",") == list(OUTCOMES)
    assert outcome.showErrorMessage
    assert (outcome.errorTitle, outcome.error) == ("跟进结果", "请从下拉列表中选择跟进结果")
    assert (outcome.showInputMessage, outcome.promptTitle, outcome.prompt) == (True, "跟进结果", "从下拉列表中选择")
    channel = validations["I2:I4"]
    assert channel.formula1.strip('"').split(",") == list(CHANNELS)
    dates = validations["H2:H4 K2:K4"]
    assert (dates.type, dates.errorStyle) == ("date", "warning")
    assert (dates.formula1, dates.formula2, dates.operator or "between") == ("36526", "73050", "between")


def test_the_talk_track_sheet_puts_todays_task_types_first(book: openpyxl.Workbook) -> None:
    ws = book["话术提示"]
    assert ws.freeze_panes == "A2"
    assert list(ws.iter_rows(values_only=True)) == [
        ("跟进事项", "今日客户数", "话术提示"),
        ("投诉处理", 1, "先道歉，1 小时内联系。"),
        ("首次联系", 2, "价值前置、轻互动。"),
        ("意向跟进", 1, "按阶段推进。"),
        ("生日关怀", 0, "=只送祝福"),
    ]
    assert ws["C5"].data_type == "s"


def test_the_shipped_policy_hints_fill_the_talk_track_sheet(tmp_path: Path) -> None:
    shipped = load_policy().talk_tracks
    ws = openpyxl.load_workbook(write_advisor_workbook(ROWS, AS_OF, tmp_path / "S1.xlsx", shipped))["话术提示"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert {r[0]: r[2] for r in rows} == {TASK_LABELS[t]: text for t, text in shipped.items()}
    assert set(shipped) == set(TASK_TYPES)  # every task type of SPEC §6 and §6b
    assert [r[0] for r in rows[:3]] == ["投诉处理", "首次联系", "意向跟进"]


def test_an_advisor_without_customers_still_gets_a_valid_workbook(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_advisor_workbook(ROWS.clear(), AS_OF, tmp_path / "S1.xlsx", TRACKS))
    ws = book.active
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.auto_filter.ref == "A1:S2"
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["I2", "J2", "H2 K2"]
    assert [r[1] for r in book["话术提示"].iter_rows(min_row=2, values_only=True)] == [0, 0, 0, 0]


def test_the_workbook_reads_back_as_followups(tmp_path: Path) -> None:
    path = write_advisor_workbook(ROWS, AS_OF, tmp_path / "S1.xlsx", TRACKS)
    sheets = read_sheets(path)
    header = find_header(sheets[0].cells)
    assert header is not None and header.kind.name == "followups"
    mapped = {sheets[0].cells[0, column]: canonical for column, canonical in header.columns.items()}
    assert mapped == {"手机号": "phone", "线索编号": "lead_id", "顾问编号": "advisor_id",
                      "跟进时间": "contacted_at", "跟进方式": "channel", "跟进结果": "outcome",
                      "下次跟进时间": "next_followup_at", "沟通内容": "summary"}
    assert find_header(sheets[1].cells) is None  # the talk-track sheet is not mistaken for data


def test_no_price_column() -> None:
    assert not {c.source for c in COLUMNS} & {"price", "amount", "budget"}
