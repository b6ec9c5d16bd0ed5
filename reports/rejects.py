"""`rejects/<file>.rejects.xlsx` (SPEC §3, issue #13): a workbook a clerk can act on. One sheet per original
sheet, named after it; per rejected row its Excel row number, the column at fault by the file's own header,
the reason, how to fix it, and a copy of the original row with the bad cell highlighted. Rows that loaded
with a warning (a returned worklist's unreadable next date, a row dated after the night, a next date without its
year that reads before its row) are listed too, in yellow. The English reason
for ops comes last.

openpyxl is imported when a rejects workbook is written, not with this module: most nights reject nothing, and
the night's start should not pay for it (issue #17)."""

from __future__ import annotations

import re
from collections.abc import Callable
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from adapters.ingest import SheetLoad
from reports.cells import safe_text, set_text_safe
from schemas.columns import DECISIONS, KIND_BY_NAME
from schemas.validate import REJECT_SCHEMA, ROW, SHEET
from schemas.vocab import DECISION_LABELS

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Side
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet.worksheet import Worksheet

LEAD = (("原行号", 8), ("状态", 12), ("出错列", 16), ("原因", 36), ("改正方法", 40))
ENGLISH = ("reason (English)", 36)
REJECTED, WARNED = "拒绝，未载入", "已载入，有提示"
RED, YELLOW = "FFC7CE", "FFEB9C"
LEAD_FILL, ORIGINAL_FILL = "FCE4D6", "DDEBF7"
ORIGINAL_WIDTH = (8, 30)  # an original column's width: its header or longest value, within these bounds
THIN = {"style": "thin", "color": "BFBFBF"}  # a cell's bottom border (openpyxl Side)
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
TITLE_ROW, HEADER_ROW = 1, 2


def sheet_title(name: str, taken: set[str]) -> str:
    """`name` as Excel accepts a sheet name: no `[ ] : * ? / \\`, no leading or trailing apostrophe, at most
    31 characters, not "History", unique (Excel ignores case) — shortened and numbered when it must be."""
    base = _FORBIDDEN.sub("_", safe_text(name, None)).strip("'").strip() or "Sheet"
    if base.lower() == "history":
        base += "_"
    title, n = base[:31], 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _rows(sheet: SheetLoad, header_of: Callable[[str], str]) -> pl.DataFrame:
    """One row per listed input row: status, columns at fault, reasons, hints; rejects first by row number."""
    failures = pl.concat([
        sheet.rejects.with_columns(pl.lit(REJECTED).alias("status")),
        sheet.warnings.with_columns(pl.lit(WARNED).alias("status")),
    ])
    several = pl.col("column").n_unique().over(ROW) > 1  # then each line says which column it is about
    tag = pl.when(several).then(pl.format("【{}】", "header")).otherwise(pl.lit(""))
    return (
        failures.with_columns(pl.col("column").map_elements(header_of, return_dtype=pl.String).alias("header"))
        .with_columns((tag + pl.col("reason_zh")).alias("reason_zh"),
                      pl.when(pl.col("hint").fill_null("") != "").then(tag + pl.col("hint")).alias("hint"))
        .group_by(ROW, maintain_order=True)
        .agg(
            pl.col("status").first(),
            pl.col("column").unique(maintain_order=True),
            pl.col("header").unique(maintain_order=True).str.join("、"),
            pl.col("reason_zh").str.join("\n"),
            pl.col("hint").drop_nulls().unique(maintain_order=True).str.join("\n"),
            pl.col("reason_en").str.join("\n"),
        )
        .sort(ROW)
    )


def _header(ws: Worksheet, j: int, text: str, width: float, fill: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    cell = ws.cell(row=HEADER_ROW, column=j)
    set_text_safe(cell, text)
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor=fill)
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    cell.border = Border(bottom=Side(**THIN))
    ws.column_dimensions[get_column_letter(j)].width = width


def _columns_wide(line: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in line)  # CJK characters are two columns wide


def _width(header: str, values: list[object]) -> float:
    def length(text: object) -> int:
        return max((_columns_wide(line) for line in str(text).splitlines()), default=0)

    longest = max([length(header), *(length(v) for v in values if v is not None)])
    return float(min(max(longest + 2, ORIGINAL_WIDTH[0]), ORIGINAL_WIDTH[1]))


def _lines(text: object, width: float) -> int:
    """How many lines `text` wraps to in a column `width` characters wide (Excel does not grow a row for
    wrapped text that openpyxl wrote; the row height is set from this)."""
    if text is None:
        return 1
    return sum(max(1, -(-_columns_wide(line) // max(int(width) - 1, 1))) for line in str(text).splitlines() or [""])


LINE_HEIGHT = 15.0
MAX_ROW_HEIGHT = 409.0  # Excel's limit, in points
PAGE_WIDTH = 170  # characters of column width on a landscape A4 page


def _styled(cell: Cell, fill: str | None, made: dict[str | None, StyleArray], thin: Side) -> None:
    """A body cell's style — wrapped, top-aligned, a thin bottom border, `fill` (a colour) or none — set once
    per sheet and style through openpyxl's descriptors, then copied as the cell's style array, as openpyxl's own
    worksheet copy does: each descriptor set hashes the style object, ~70% of a rejects workbook's time at group
    scale (issue #17, py-spy)."""
    from openpyxl.styles import Alignment, Border, PatternFill

    if fill in made:
        cell._style = copy(made[fill])
        return
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    cell.border = Border(bottom=thin)
    if fill is not None:
        cell.fill = PatternFill("solid", fgColor=fill)
    made[fill] = copy(cell._style)


def _write_sheet(ws: Worksheet, sheet: SheetLoad) -> None:
    from openpyxl.styles import Alignment, Font, Side
    from openpyxl.utils import get_column_letter

    thin = Side(**THIN)
    kind = KIND_BY_NAME[sheet.kind]
    header_of = sheet.header_of
    rows = _rows(sheet, header_of)
    originals = sheet.original.drop(SHEET)
    cells = [c for c in originals.columns if c != ROW]
    by_row = {r[ROW]: r for r in originals.iter_rows(named=True)}
    n_rejected = int((rows["status"] == REJECTED).sum())
    n_warned = rows.height - n_rejected
    title = (f"工作表「{sheet.sheet}」（{kind.label}）："
             + (f"{n_rejected} 行被拒，未载入" if n_rejected else "没有被拒的行")
             + (f"；{n_warned} 行已载入但有提示（黄色），请看「原因」" if n_warned else "")
             + ("。请按「改正方法」改正标红的单元格，再把改好的行重新放入投放目录。" if n_rejected else "。"))
    set_text_safe(ws.cell(row=TITLE_ROW, column=1), title)
    ws.cell(row=TITLE_ROW, column=1).font = Font(bold=True, size=11)
    ws.cell(row=TITLE_ROW, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=len(LEAD))
    ws.row_dimensions[TITLE_ROW].height = min(LINE_HEIGHT * 1.2 * _lines(title, sum(w for _, w in LEAD)),
                                              MAX_ROW_HEIGHT)
    for j, (text, width) in enumerate(LEAD, start=1):
        _header(ws, j, text, width, LEAD_FILL)
    first_original = len(LEAD) + 1
    for j, header in enumerate(cells, start=first_original):
        _header(ws, j, header, _width(header, [r.get(header) for r in by_row.values()]), ORIGINAL_FILL)
    english = first_original + len(cells)
    _header(ws, english, *ENGLISH, LEAD_FILL)
    widths = [ws.column_dimensions[get_column_letter(j)].width for j in range(1, english + 1)]
    styled: dict[str | None, StyleArray] = {}  # each body style made once, then copied (see `_styled`)
    for i, record in enumerate(rows.iter_rows(named=True), start=HEADER_ROW + 1):
        headers = [h for col in record["column"] for h in header_of(col).split(" / ")]
        fill = RED if record["status"] == REJECTED else YELLOW
        lead = (record[ROW], record["status"], record["header"], record["reason_zh"], record["hint"])
        values = [*lead, *(by_row.get(record[ROW], {}).get(c) for c in cells)]
        lines = max(_lines(v, w) for v, w in zip([*values, record["reason_en"]], widths, strict=True))
        ws.row_dimensions[i].height = min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT)
        for j, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=j)
            set_text_safe(cell, value)
            marked = j == 2 or (j >= first_original and cells[j - first_original] in headers)
            _styled(cell, fill if marked else None, styled, thin)
        cell = ws.cell(row=i, column=english)
        set_text_safe(cell, record["reason_en"])
        _styled(cell, None, styled, thin)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=2)
    ws.page_setup.orientation = "landscape"
    total = sum(ws.column_dimensions[get_column_letter(j)].width or 8 for j in range(1, english + 1))
    # a page holds about PAGE_WIDTH characters at a readable size: a wider sheet prints on more pages across
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = max(1, -(-int(total) // PAGE_WIDTH)), 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def write_rejects(sheets: list[SheetLoad], path: Path, append: bool = False) -> Path:
    """`sheets`: the sheets of one file that have rejected or warned rows; one worksheet each, named after it.
    With `append`, the worksheets are added to the rejects workbook already at `path` (when there is one)."""
    from openpyxl import Workbook, load_workbook

    if append and path.is_file():
        wb = load_workbook(path)
    else:
        wb = Workbook()
        wb.remove(wb.active)
    taken: set[str] = {ws.title.lower() for ws in wb.worksheets}
    for sheet in sheets:
        _write_sheet(wb.create_sheet(title=sheet_title(sheet.sheet, taken)), sheet)
    wb.save(path)
    return path


def refused_decision_sheet(refused: pl.DataFrame) -> SheetLoad:
    """The decisions of one sheet refused by the night (transforms.decisions), as a sheet of rejects: the
    decision's cells under the review workbook's headers, and why each could not hold."""
    from_kind = {c.name: (c.aliases[0] if c.aliases else c.name) for c in DECISIONS.columns}
    shown = refused.with_columns(pl.col("decision").replace(DECISION_LABELS),
                                 pl.when(pl.col("bulk")).then(pl.lit("是")).alias("bulk"),  # as the 整批 sheet says it
                                 pl.col("idle_days").cast(pl.Int64))
    original = shown.select(
        ROW, SHEET, *(pl.col(name).cast(pl.String).alias(header) for name, header in from_kind.items())
    )
    rejects = refused.select(
        ROW, pl.col("refused_column").alias("column"), pl.col("refusal_zh").alias("reason_zh"),
        pl.col("refusal_en").alias("reason_en"), pl.lit(None, pl.String).alias("hint"),
    ).cast(REJECT_SCHEMA)
    sheet = str(refused[SHEET][0]) if refused.height else "经理决定"
    return SheetLoad(sheet, DECISIONS.name, pl.DataFrame(), rejects, original, 0, from_kind)
