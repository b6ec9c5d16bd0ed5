"""The advisor's workbook (`worklists/<advisor_id>.xlsx`): one row per customer, most urgent first, with
columns the advisor fills in so the workbook can be dropped back as follow-ups (SPEC §6, §9); a second sheet
holds the talk-track hint (话术) of each task type from the policy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from reports.cells import set_text_safe
from schemas.vocab import CHANNELS, OUTCOMES
from transforms.labels import STAGE_LABELS, TASK_LABELS


class Column(NamedTuple):
    header: str
    source: str | None  # a column of transforms.views.per_customer; None for a column the advisor fills in
    width: float
    number_format: str | None = None
    choices: tuple[str, ...] = ()  # a drop-down list


DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
# The headers of lead_id, phone, advisor_id and the filled-in columns are followups aliases, so a filled-in
# workbook reads back as follow-ups. 线索编号 must stay left of 客户编号: both are lead_id aliases, the first
# one wins.
COLUMNS: tuple[Column, ...] = (
    Column("优先级", "priority", 7),
    Column("客户姓名", "customer_name", 12),
    Column("手机号", "phone", 16),
    Column("跟进事项", "tasks", 18),
    Column("应跟进日期", "due_date", 12, DATE),
    Column("逾期天数", "days_overdue", 9, "0"),
    Column("级别", "grade", 6),
    Column("阶段", "stage_label", 9),
    Column("原因", "reasons", 60),
    Column("线索编号", "lead_id", 14),
    Column("顾问编号", "advisor_id", 10),
    Column("客户编号", "customer_id", 16),
    Column("跟进时间", None, 17, DATETIME),
    Column("跟进方式", None, 9, None, CHANNELS),
    Column("跟进结果", None, 11, None, OUTCOMES),
    Column("下次跟进时间", None, 17, DATETIME),
    Column("沟通内容", None, 36),
)
FILL_IN = tuple(j for j, c in enumerate(COLUMNS, start=1) if c.source is None)
WRAPPED = ("原因", "沟通内容", "跟进事项")

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")  # columns genjin fills
INPUT_HEADER_FILL = PatternFill("solid", fgColor="375623")  # columns the advisor fills
INPUT_FILL = PatternFill("solid", fgColor="FFFBEA")
OVERDUE_FILL = PatternFill("solid", fgColor="FDE9E7")
OVERDUE_FONT = Font(color="C00000", bold=True)
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="D9D9D9")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def priority_fill(priority: int | None) -> PatternFill | None:
    """1 red (complaints), 2 orange (new leads), 3 yellow, 4–6 green; 7 and later uncoloured."""
    if priority is None or priority > 6:
        return None
    colour = {1: "FF7C80", 2: "F8CBAD", 3: "FFE699"}.get(priority, "E2EFDA")
    return PatternFill("solid", fgColor=colour)


@cache
def shipped_talk_tracks() -> dict[str, str]:
    from genjin.policy import load_policy

    return load_policy().talk_tracks


def _column(header: str) -> str:
    return get_column_letter(next(j for j, c in enumerate(COLUMNS, start=1) if c.header == header))


def _header_row(ws: Worksheet, headers: list[tuple[str, float, PatternFill]]) -> None:
    for j, (header, width, fill) in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j)
        set_text_safe(cell, header)
        cell.font = HEADER_FONT
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = 22


def _worklist_sheet(ws: Worksheet, rows: pl.DataFrame, as_of: date) -> None:
    ws.title = f"跟进清单 {as_of:%m-%d}"
    headers = [(c.header, c.width, INPUT_HEADER_FILL if c.source is None else HEADER_FILL) for c in COLUMNS]
    _header_row(ws, headers)
    for i, record in enumerate(rows.iter_rows(named=True), start=2):
        overdue = (record["days_overdue"] or 0) > 0
        for j, column in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=i, column=j)
            set_text_safe(cell, record[column.source] if column.source else None)
            cell.border = GRID
            cell.alignment = Alignment(vertical="top", wrap_text=column.header in WRAPPED)
            if column.number_format:
                cell.number_format = column.number_format
            if column.source is None:
                cell.fill = INPUT_FILL
            elif overdue:
                cell.fill = OVERDUE_FILL
                if column.source in ("due_date", "days_overdue"):
                    cell.font = OVERDUE_FONT
        fill = priority_fill(record["priority"])
        if fill:
            ws.cell(row=i, column=1).fill = fill
        ws.cell(row=i, column=1).alignment = Alignment(horizontal="center", vertical="top")
    last = max(rows.height + 1, 2)
    for column in COLUMNS:
        if column.choices:
            col = _column(column.header)
            choices = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                showErrorMessage=True, errorTitle=column.header, error=f"请从下拉列表中选择{column.header}",
                promptTitle=column.header, prompt="从下拉列表中选择", showInputMessage=True,
            )
            choices.add(f"{col}2:{col}{last}")
            ws.add_data_validation(choices)
    when = DataValidation(  # a warning, not a stop: the reader also understands dates typed as text
        type="date", operator="between", formula1="36526", formula2="73050", allow_blank=True,
        showErrorMessage=True, errorStyle="warning", errorTitle="日期",
        error="请填写日期和时间，如 2026-11-24 10:30",
    )
    for header in ("跟进时间", "下次跟进时间"):
        col = _column(header)
        when.add(f"{col}2:{col}{last}")
    ws.add_data_validation(when)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _talk_track_sheet(ws: Worksheet, rows: pl.DataFrame, talk_tracks: Mapping[str, str]) -> None:
    """One row per task type of the policy: today's task types first, in the order they first appear."""
    ws.title = "话术提示"
    headers = [("跟进事项", 14), ("任务代码", 20), ("今日客户数", 10), ("话术提示", 90)]
    _header_row(ws, [(header, width, HEADER_FILL) for header, width in headers])
    by_label = {label: task_type for task_type, label in TASK_LABELS.items()}
    today: dict[str, int] = {}
    for labels in rows["tasks"].to_list():
        for label in (labels or "").split("、"):
            task_type = by_label.get(label, label)
            if task_type:
                today[task_type] = today.get(task_type, 0) + 1
    order = [t for t in today if t in talk_tracks] + [t for t in talk_tracks if t not in today]
    for i, task_type in enumerate(order, start=2):
        label = TASK_LABELS.get(task_type, task_type)
        values = (label, task_type, today.get(task_type, 0), talk_tracks[task_type])
        for j, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=j)
            set_text_safe(cell, value)
            cell.border = GRID
            cell.alignment = Alignment(vertical="top", wrap_text=j == 4)
            if task_type in today:
                cell.font = Font(bold=j == 1)
    ws.freeze_panes = "A2"


def write_advisor_workbook(rows: pl.DataFrame, as_of: date, path: Path,
                           talk_tracks: Mapping[str, str] | None = None) -> Path:
    """`rows` is `transforms.views.per_customer` filtered to one advisor; `talk_tracks` is the policy's
    (`Policy.talk_tracks`; the shipped policy's when not given)."""
    rows = rows.with_columns(
        pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage")).alias("stage_label")
    )
    wb = Workbook()
    wb.properties.creator = "genjin"
    _worklist_sheet(wb.active, rows, as_of)
    _talk_track_sheet(wb.create_sheet(), rows, shipped_talk_tracks() if talk_tracks is None else talk_tracks)
    wb.active = 0
    wb.save(path)
    return path
