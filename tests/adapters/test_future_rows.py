"""Nothing dated after the night is silently ignored: a follow-up dated D+3 loads (tonight's rules do not know it
yet, SPEC §6a) and is told — per row in the rejects workbook in yellow and in `genjin check`, per file in the
night's warnings with how many and which rows. A next date typed without its year (`11/28`) is read in the year
nearest its own row's date, and never moved a year ahead of it without a word."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl

import tests.spreadsheets as ss
from adapters.ingest import file_warnings, load_file
from genjin.check import check
from reports.rejects import write_rejects
from schemas.validate import ROW

AS_OF = date(2026, 11, 25)
HEADER = ["线索编号", "销售顾问工号", "跟进时间", "跟进结果", "沟通内容", "下次跟进时间"]
ROWS = [
    HEADER,
    ["L1", "S1", "2026-11-25 10:00", "已接通", "约周末到店", "11/28"],  # row 2: on the night; 3 days on
    ["L2", "S1", "2026-11-28 09:30", "已接通", "PC 时钟快了三天", None],  # row 3: D+3
    ["L3", "S1", "2026-12-03 15:00", "已接通", "年份或日期写错", "11/28"],  # row 4: D+8, and 11/28 five days before it
    ["L4", "S1", "2026-11-24 16:00", "未接通", None, None],  # row 5: before the night
    ["L5", "S1", "2026-11-28", "已接通", None, None],  # row 6: D+3, no time
]


def _followups(tmp_path: Path) -> Path:
    return ss.write_csv(tmp_path / "跟进记录_S1.csv", ROWS)


def test_rows_dated_after_the_night_load_and_each_is_told(tmp_path: Path) -> None:
    load = load_file(_followups(tmp_path), as_of=AS_OF)
    (sheet,) = load.sheets
    assert sheet.rejects.is_empty() and sheet.loaded[ROW].to_list() == [2, 3, 4, 5, 6]  # nothing dropped
    future = sheet.warnings.filter(sheet.warnings["column"] == "contacted_at")
    assert future[ROW].to_list() == [3, 4, 6]
    by_row = dict(zip(future[ROW], future["reason_zh"], strict=True))
    assert by_row[3] == ("跟进时间「2026-11-28 09:30」晚于运行日期 2026-11-25：已载入，但到 2026-11-28 才计入"
                         "（在那之前视为还没发生）")
    assert by_row[6].startswith("跟进时间「2026-11-28」晚于运行日期")
    assert "年份写错或电脑时钟不对" in future["hint"][0]
    assert load.rows_warned == 3

    (warning,) = file_warnings(load, AS_OF)
    assert {k: warning[k] for k in ("code", "count", "file", "rows", "store")} == {
        "code": "future_dated", "count": 3, "file": "跟进记录_S1.csv", "rows": [3, 4, 6], "store": None}
    assert warning["zh"].startswith(
        "「跟进记录_S1.csv」有 3 行的跟进时间晚于运行日期 2026-11-25（第 3、4、6 行，最晚 2026-12-03）")
    assert "已载入" in warning["zh"] and "黄色" in warning["zh"]
    assert "3 rows dated after the night of 2026-11-25 (rows 3, 4, 6; the latest 2026-12-03): loaded" in warning["en"]


def test_without_a_night_no_row_is_judged_by_its_date(tmp_path: Path) -> None:
    load = load_file(_followups(tmp_path))
    assert file_warnings(load, AS_OF) == [] and "contacted_at" not in load.sheets[0].warnings["column"].to_list()


def test_a_next_date_without_its_year_is_read_nearest_its_own_row(tmp_path: Path) -> None:
    (sheet,) = load_file(_followups(tmp_path), as_of=AS_OF).sheets
    nexts = dict(zip(sheet.loaded[ROW], sheet.loaded["next_followup_at"], strict=True))
    assert nexts[2] == datetime(2026, 11, 28)  # three days after its contact of 11-25
    assert nexts[4] == datetime(2026, 11, 28)  # not 2027-11-28: five days before its contact of 12-03 …
    told = sheet.warnings.filter(sheet.warnings["column"] == "next_followup_at")
    assert told[ROW].to_list() == [4]  # … and said: it is no promise
    assert told["reason_zh"][0] == ("下次跟进时间「11/28」没写年份，按跟进时间（2026-12-03）读作 2026-11-28："
                                    "早于跟进时间，不算约定的下次跟进")
    assert told["hint"][0] == "如果指的是明年，请写完整日期，如 2027-11-28"


def test_a_month_day_across_new_year_reads_in_the_next_year(tmp_path: Path) -> None:
    rows = [HEADER, ["L1", "S1", "2026-12-20 10:00", "已接通", None, "1月5日 10:30"],
            ["L2", "S1", "2027-01-03 10:00", "已接通", None, "12/30"]]
    (sheet,) = load_file(ss.write_csv(tmp_path / "跟进.csv", rows)).sheets
    assert sheet.loaded["next_followup_at"].to_list() == [datetime(2027, 1, 5, 10, 30), datetime(2026, 12, 30)]
    assert sheet.warnings[ROW].to_list() == [3]  # 12-30 lies before its contact of 01-03


def test_the_rejects_workbook_lists_them_in_yellow(tmp_path: Path) -> None:
    (sheet,) = load_file(_followups(tmp_path), as_of=AS_OF).sheets
    path = write_rejects([sheet], tmp_path / "跟进记录_S1.csv.rejects.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value.startswith("工作表「跟进记录_S1」（跟进记录）：没有被拒的行；3 行已载入但有提示（黄色）")
    listed = [(row[0].value, row[1].value, row[1].fill.fgColor.rgb) for row in ws.iter_rows(min_row=3)]
    assert listed == [(3, "已载入，有提示", "00FFEB9C"), (4, "已载入，有提示", "00FFEB9C"),
                      (6, "已载入，有提示", "00FFEB9C")]
    header = [c.value for c in ws[2]]
    contact = header.index("跟进时间") + 1
    assert ws.cell(row=3, column=contact).value == "2026-11-28 09:30"  # the original cell, marked
    assert ws.cell(row=3, column=contact).fill.fgColor.rgb == "00FFEB9C"


def test_genjin_check_tells_them_without_failing(tmp_path: Path) -> None:
    out = io.StringIO()
    assert check([_followups(tmp_path)], out, AS_OF) == 0
    text = out.getvalue()
    assert "按 2026-11-25 这一晚的运行检查" in text
    assert "共 5 行，可载入 5 行，拒绝 0 行" in text
    assert "! 第 3 行「跟进时间」：跟进时间「2026-11-28 09:30」晚于运行日期 2026-11-25" in text
    assert "! 「跟进记录_S1.csv」有 3 行的跟进时间晚于运行日期 2026-11-25（第 3、4、6 行" in text
