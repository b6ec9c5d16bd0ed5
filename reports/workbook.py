"""The advisor's workbook (`worklists/<advisor_id>.xlsx`): one row per customer, most urgent first, with
columns the advisor fills in so the workbook can be dropped back as follow-ups (SPEC §6, §9); a second sheet
holds the talk-track hint (话术) of each task type from the policy.

Written with xlsxwriter (issue #8: openpyxl's per-cell style objects were most of a night's writing time):
each cell style is a Format made once per workbook (`_Formats`), and every string goes through `write_string`,
so text starting with `=`, `+`, `-` or `@` is stored as text, never as a formula (../shared/PITFALLS.md).
docProps/core.xml gets `created` = `modified` = the time of writing in UTC, as openpyxl stamped it on save: a
returned workbook's `modified` is when it was filled in (schemas/returned_worklist.py, adapters.readers.file_time)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from reports.cells import safe_text
from schemas.phones import with_shown_phones
from schemas.vocab import CHANNELS, OUTCOMES
from transforms.labels import STAGE_LABELS, TASK_LABELS


class Column(NamedTuple):
    header: str
    source: str | None  # a column of transforms.views.per_customer; None for a column the advisor fills in
    width: float
    number_format: str | None = None
    choices: tuple[str, ...] = ()  # a drop-down list
    align: str | None = None


DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
# Layout (issue #15): who and why first (rank, urgency, name, phone, task, days overdue, reason), then the columns
# the advisor fills in — the printed page ends there —, then the dates, grade and stage, and the ids at the far
# right. The headers of lead_id, phone, advisor_id and the filled-in columns are followups aliases, so a filled-in
# workbook reads back as follow-ups. 线索编号 must stay left of 客户编号: both are lead_id aliases, the first one wins.
# Printed (A4 landscape, fit to the page's width) the first twelve columns take 157 units, which A4 holds at 92%:
# 11 pt text prints at 10 pt, and the columns written in by hand keep 2–5 cm (tests/reports/test_workbook_print.py).
COLUMNS: tuple[Column, ...] = (
    Column("序号", "plan_rank", 5),
    Column("紧急程度", "urgency_label", 9),
    Column("客户姓名", "customer_name", 10),
    Column("手机号", "phone", 14),
    Column("跟进事项", "tasks", 10),
    Column("逾期天数", "days_overdue", 6, "0", (), "center"),
    Column("原因", "reasons", 30),
    Column("跟进时间", None, 14, DATETIME),
    Column("跟进方式", None, 9, None, CHANNELS),
    Column("跟进结果", None, 10, None, OUTCOMES),
    Column("下次跟进时间", None, 14, DATETIME),
    Column("沟通内容", None, 26),
    Column("应跟进日期", "due_date", 11, DATE),
    Column("已顺延天数", "carried_nights", 10, "0"),
    Column("级别", "grade", 6, None, (), "center"),
    Column("阶段", "stage_label", 8),
    Column("线索编号", "lead_id", 14),
    Column("顾问编号", "advisor_id", 10),
    Column("客户编号", "customer_id", 16),
)
PRINTED = next(j for j, c in enumerate(COLUMNS) if c.header == "应跟进日期")  # the columns on paper: up to here
WRAPPED = ("原因", "沟通内容", "跟进事项", "紧急程度")
TALK_TRACK_HEADERS = (("跟进事项", 14), ("今日客户数", 11), ("话术提示", 90))

HEADER_FILL = "#1F4E78"  # columns genjin fills
INPUT_HEADER_FILL = "#375623"  # columns the advisor fills
INPUT_FILL = "#FFFBEA"
ESCALATED_FONT = {"font_color": "#C00000", "bold": True}  # carried longer than the policy allows
HEADER = {"bold": True, "font_color": "#FFFFFF", "align": "center", "valign": "vcenter", "text_wrap": True}
GRID = {"border": 1, "border_color": "#D9D9D9"}  # thin, light grey, all four sides
HEADER_HEIGHT = 22
PRINTED_HEADER_HEIGHT = 32  # two lines: 逾期天数 wraps in its narrow column
LINE_HEIGHT = 15  # points per line of Calibri 11 / the CJK fallback font
WRITING_HEIGHT = 30  # the least row height, in points: room to write an outcome by hand (9.6 mm printed at 92%)
MAX_DIGIT_WIDTH = 7  # pixels of a digit in Calibri 11, the unit of Excel's column width


NARROW = frozenset(" -.,:;/()'|")  # about half a digit wide in Calibri


def text_units(text: str) -> float:
    """`text`'s width in Excel's column unit (a digit of Calibri 11): a Chinese character two, narrow
    punctuation and spaces a half, anything else one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0.5 if c in NARROW else 1 for c in text)


@lru_cache(maxsize=2**16)  # the same reasons and tasks come back on many rows
def lines_in(text: str | None, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` units wide."""
    if not text:
        return 1
    usable = max(width - 1, 1)
    return sum(max(1, math.ceil(text_units(line) / usable)) for line in text.split("\n"))


def plan_note(rows: pl.DataFrame) -> str:
    """The printed page's header: how many customers today, how many wait (transforms.plan.advisor_plans)."""
    note = f"今日计划 {rows.height} 位客户"
    waiting = int(rows["waiting"][0] or 0) if "waiting" in rows.columns and rows.height else 0
    stale = int(rows["stale"][0] or 0) if "stale" in rows.columns and rows.height else 0
    if waiting:
        note += f" · 另有 {waiting} 位待安排"
    if stale:
        note += f" · {stale} 位已交经理处理"
    return note


def row_height(record: Mapping[str, Any]) -> float:
    """Points that show every wrapped cell of a row whole (Excel does not grow rows written by a program), and
    never less than a line to write in."""
    lines = max(lines_in(record.get(c.source) if c.source else None, c.width) for c in COLUMNS if c.header in WRAPPED)
    return max(LINE_HEIGHT * lines + 3, WRITING_HEIGHT)


Style = tuple[tuple[str, Any], ...]  # xlsxwriter format properties, sorted: hashable


def style(fill: str | None = None, **properties: Any) -> Style:
    if fill:
        properties |= {"pattern": 1, "bg_color": fill}
    return tuple(sorted(properties.items()))


@cache
def row_styles(urgency_colour: str | None, escalated: bool) -> tuple[Style, ...]:
    """The style of each column of a customer's row: the rank and urgency cells in the urgency class's colour
    (the policy's `[[plan.urgency]] colour`), the nights carried in red once escalated."""
    styles = []
    for column in COLUMNS:
        properties: dict[str, Any] = {**GRID, "valign": "top", "text_wrap": column.header in WRAPPED}
        if column.number_format:
            properties["num_format"] = column.number_format
        fill = INPUT_FILL if column.source is None else None
        if column.align:
            properties["align"] = column.align
        if column.source in ("plan_rank", "urgency_label"):
            properties["align"] = "center"
            fill = urgency_colour
        if escalated and column.source == "carried_nights":
            properties |= ESCALATED_FONT
        styles.append(style(fill, **properties))
    return tuple(styles)


def talk_track_style(column: int, bold: bool) -> Style:
    return style(**GRID, valign="top", text_wrap=column == 2, bold=bold)


class _Formats(dict[Style, Format]):
    """The workbook's Format of each style, made on first use (a Format belongs to one workbook)."""

    def __init__(self, wb: Workbook) -> None:
        super().__init__()
        self._wb = wb

    def __missing__(self, key: Style) -> Format:
        made = self[key] = self._wb.add_format(dict(key))
        return made


def _write(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    """A value as the cell type it is: text always as text (never a formula), dates as Excel dates."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, safe_text(value), fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, value, fmt)
    elif isinstance(value, date | datetime):
        ws.write_datetime(row, col, value, fmt)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to a worksheet cell: {value!r}")


def _header_row(ws: Worksheet, formats: _Formats, headers: list[tuple[str, float, str]],
                height: float = HEADER_HEIGHT) -> None:
    ws.set_row_pixels(0, height * 4 / 3)  # `height` pt exactly (set_row rounds to whole pixels: 21.75 for 22)
    for j, (header, width, fill) in enumerate(headers):
        # in pixels, so the file holds exactly `width` (set_column adds Excel's cell padding to it)
        ws.set_column_pixels(j, j, width * MAX_DIGIT_WIDTH)
        ws.write_string(0, j, header, formats[style(fill, **HEADER)])


def _validations(ws: Worksheet, last: int) -> None:
    """Drop-downs on the channel and outcome columns, a date check on the two times (rows 2..`last`)."""
    for j, column in enumerate(COLUMNS):
        if column.choices:
            ws.data_validation(1, j, last - 1, j, {
                "validate": "list", "source": list(column.choices), "ignore_blank": True,
                "show_error": True, "error_title": column.header, "error_message": f"请从下拉列表中选择{column.header}",
                "show_input": True, "input_title": column.header, "input_message": "从下拉列表中选择",
            })
    first, second = (next(j for j, c in enumerate(COLUMNS) if c.header == h) for h in ("跟进时间", "下次跟进时间"))
    ws.data_validation(1, first, last - 1, first, {  # a warning, not a stop: the reader also understands text dates
        "validate": "date", "criteria": "between", "minimum": 36526, "maximum": 73050, "ignore_blank": True,
        "show_input": False, "show_error": True, "error_type": "warning", "error_title": "日期",
        "error_message": "请填写日期和时间，如 2026-11-24 10:30", "other_cells": [[1, second, last - 1, second]],
    })


def _worklist_sheet(ws: Worksheet, formats: _Formats, rows: pl.DataFrame) -> None:
    _header_row(ws, formats, [(c.header, c.width, INPUT_HEADER_FILL if c.source is None else HEADER_FILL)
                              for c in COLUMNS], PRINTED_HEADER_HEIGHT)
    sources = [c.source for c in COLUMNS]
    for i, record in enumerate(with_shown_phones(rows).iter_rows(named=True), start=1):
        record["stage_label"] = STAGE_LABELS.get(record["stage"], record["stage"])
        styles = row_styles(record.get("urgency_colour"), bool(record.get("escalated")))
        ws.set_row(i, row_height(record))
        for j, source in enumerate(sources):
            _write(ws, i, j, record.get(source) if source else None, formats[styles[j]])
    last = max(rows.height + 1, 2)  # Excel's row number of the last row (the first below the header if none)
    _validations(ws, last)
    ws.freeze_panes(1, 3)  # D2: the header row, the rank, the urgency and the customer's name stay in view
    ws.autofilter(0, 0, last - 1, len(COLUMNS) - 1)
    ws.repeat_rows(0)
    ws.print_area(0, 0, last - 1, PRINTED - 1)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.set_margins(left=0.25, right=0.25, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.set_header("&L" + plan_note(rows).replace("&", "&&"))


def _talk_track_sheet(ws: Worksheet, formats: _Formats, rows: pl.DataFrame, talk_tracks: Mapping[str, str]) -> None:
    """One row per task type of the policy: today's task types first, in the order they first appear."""
    _header_row(ws, formats, [(header, width, HEADER_FILL) for header, width in TALK_TRACK_HEADERS])
    by_label = {label: task_type for task_type, label in TASK_LABELS.items()}
    today: dict[str, int] = {}
    for labels in rows["tasks"].to_list():
        for label in (labels or "").split("、"):
            task_type = by_label.get(label, label)
            if task_type:
                today[task_type] = today.get(task_type, 0) + 1
    order = [t for t in today if t in talk_tracks] + [t for t in talk_tracks if t not in today]
    for i, task_type in enumerate(order, start=1):
        label = TASK_LABELS.get(task_type, task_type)
        values = (label, today.get(task_type, 0), talk_tracks[task_type])
        ws.set_row(i, LINE_HEIGHT * lines_in(talk_tracks[task_type], TALK_TRACK_HEADERS[2][1]) + 3)
        for j, value in enumerate(values):
            _write(ws, i, j, value, formats[talk_track_style(j, bold=j == 0 and task_type in today)])
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def write_advisor_workbook(rows: pl.DataFrame, as_of: date, path: Path, talk_tracks: Mapping[str, str]) -> Path:
    """`rows` is `transforms.views.per_customer` filtered to one advisor; `talk_tracks` is the policy's
    (`Policy.talk_tracks`)."""
    # in_memory: no temporary files (creating and deleting a dozen a workbook cost more than the writing), and
    # nothing on disk until close(): a failure leaves no half-written workbook
    wb = Workbook(str(path), {"in_memory": True})
    wb.set_properties({"author": "genjin", "created": datetime.now(UTC)})  # also written as `modified`
    formats = _Formats(wb)
    _worklist_sheet(wb.add_worksheet(f"跟进清单 {as_of:%m-%d}"), formats, rows)
    _talk_track_sheet(wb.add_worksheet("话术提示"), formats, rows, talk_tracks)
    wb.close()
    return path
