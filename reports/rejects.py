"""`rejects/<file>.rejects.xlsx`: each rejected row with its sheet, Excel row number, the columns at fault,
the reasons in Chinese and English, and every original cell (SPEC §3)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from reports.cells import set_text_safe
from schemas.validate import ROW, SHEET

LEAD_HEADERS = ("工作表 sheet", "行号 row", "出错列 column", "原因", "reason")


def rejected_rows(original: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """One row per rejected input row: its reasons joined, then its original cells."""
    reasons = rejects.group_by(ROW, maintain_order=True).agg(
        pl.col("column").unique(maintain_order=True).str.join(", "),
        pl.col("reason_zh").str.join("；"),
        pl.col("reason_en").str.join("; "),
    )
    cells = [c for c in original.columns if c not in (ROW, SHEET)]
    return reasons.join(original, on=ROW, how="left").select(SHEET, ROW, "column", "reason_zh", "reason_en", *cells)


def write_rejects(sheets: list[tuple[pl.DataFrame, pl.DataFrame]], path: Path) -> Path:
    """`sheets`: (original, rejects) of each sheet of one file that has rejects; one worksheet each."""
    wb = Workbook()
    wb.remove(wb.active)
    for n, (original, rejects) in enumerate(sheets, start=1):
        rows = rejected_rows(original, rejects)
        ws = wb.create_sheet(title=f"rejects{n}")
        headers = [*LEAD_HEADERS, *rows.columns[len(LEAD_HEADERS):]]
        for j, header in enumerate(headers, start=1):
            cell = ws.cell(row=1, column=j)
            set_text_safe(cell, header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FCE4D6" if j <= len(LEAD_HEADERS) else "DDEBF7")
        for i, record in enumerate(rows.iter_rows(), start=2):
            for j, value in enumerate(record, start=1):
                set_text_safe(ws.cell(row=i, column=j), value)
        ws.freeze_panes = "F2"
    wb.save(path)
    return path
