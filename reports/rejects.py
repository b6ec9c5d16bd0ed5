"""`rejects/<file>.rejects.xlsx`: each rejected row with its sheet, Excel row number, the columns at fault,
the reasons in Chinese and English, and every original cell (SPEC §3)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from reports.cells import set_text_safe
from schemas.columns import DECISIONS
from schemas.validate import ROW, SHEET
from schemas.vocab import DECISION_LABELS

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


def write_rejects(sheets: list[tuple[pl.DataFrame, pl.DataFrame]], path: Path, append: bool = False) -> Path:
    """`sheets`: (original, rejects) of each sheet of one file that has rejects; one worksheet each. With
    `append`, the worksheets are added to the rejects workbook already at `path` (when there is one)."""
    if append and path.is_file():
        wb = load_workbook(path)
    else:
        wb = Workbook()
        wb.remove(wb.active)
    for original, rejects in sheets:
        rows = rejected_rows(original, rejects)
        ws = wb.create_sheet(title=f"rejects{len(wb.worksheets) + 1}")
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


def refused_decision_sheet(refused: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(original, rejects) of decisions refused by the night (transforms.decisions): the decision's cells
    under the review workbook's headers, and why each could not hold."""
    from_kind = {c.name: (c.aliases[0] if c.aliases else c.name) for c in DECISIONS.columns}
    shown = refused.with_columns(pl.col("decision").replace(DECISION_LABELS))
    original = shown.select(
        ROW, SHEET, *(pl.col(name).cast(pl.String).alias(header) for name, header in from_kind.items())
    )
    rejects = refused.select(
        ROW, pl.col("refused_column").alias("column"), pl.col("refusal_zh").alias("reason_zh"),
        pl.col("refusal_en").alias("reason_en"),
    )
    return original, rejects
