"""The advisor's workbook (`worklists/<advisor_id>.xlsx`): one row per customer, most urgent first, with
columns the advisor fills in so the workbook can be dropped back as follow-ups (SPEC §6, §9)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from reports.cells import set_text_safe
from schemas.vocab import OUTCOMES
from transforms.tasks_pipeline import STAGE_LABELS

# (header, source column or None for a column the advisor fills in, width). The headers of lead_id, phone,
# advisor_id and the filled-in columns are followups aliases, so a filled-in workbook reads back as follow-ups.
COLUMNS: tuple[tuple[str, str | None, int], ...] = (
    ("优先级", "priority", 7),
    ("客户姓名", "customer_name", 10),
    ("手机号", "phone", 16),
    ("跟进事项", "tasks", 16),
    ("应跟进日期", "due_date", 12),
    ("逾期天数", "days_overdue", 9),
    ("级别", "grade", 6),
    ("阶段", "stage_label", 8),
    ("原因", "reasons", 60),
    ("线索编号", "lead_id", 14),
    ("顾问编号", "advisor_id", 10),
    ("客户编号", "customer_id", 15),
    ("跟进时间", None, 17),
    ("跟进结果", None, 11),
    ("下次跟进时间", None, 14),
    ("沟通内容", None, 30),
)
PRIORITY_FILLS = {1: "F8CBAD", 2: "FCE4D6", 3: "FFF2CC"}
OVERDUE_FONT = Font(color="C00000", bold=True)
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")


def write_advisor_workbook(rows: pl.DataFrame, as_of: date, path: Path) -> Path:
    """`rows` is `transforms.views.per_customer` filtered to one advisor."""
    rows = rows.with_columns(
        pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage")).alias("stage_label")
    )
    wb = Workbook()
    ws = wb.active
    ws.title = f"跟进清单 {as_of:%m-%d}"
    for j, (header, _, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=j, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = width
    for i, record in enumerate(rows.iter_rows(named=True), start=2):
        for j, (_, source, _) in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=i, column=j)
            set_text_safe(cell, record[source] if source else None)
            if source == "due_date":
                cell.number_format = "yyyy-mm-dd"
            if source == "reasons":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        fill = PRIORITY_FILLS.get(record["priority"])
        if fill:
            ws.cell(row=i, column=1).fill = PatternFill("solid", fgColor=fill)
        if record["days_overdue"] > 0:
            for j in (5, 6):
                ws.cell(row=i, column=j).font = OVERDUE_FONT
    last = max(rows.height + 1, 2)
    outcome_col = get_column_letter(next(j for j, c in enumerate(COLUMNS, 1) if c[0] == "跟进结果"))
    choices = DataValidation(type="list", formula1='"' + ",".join(OUTCOMES) + '"', allow_blank=True)
    choices.add(f"{outcome_col}2:{outcome_col}{last}")
    ws.add_data_validation(choices)
    for header in ("跟进时间", "下次跟进时间"):
        col = get_column_letter(next(j for j, c in enumerate(COLUMNS, 1) if c[0] == header))
        for i in range(2, last + 1):
            ws[f"{col}{i}"].number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    wb.save(path)
    return path
