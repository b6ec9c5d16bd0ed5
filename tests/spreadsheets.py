"""Writers for the test corpus: the same rows written by different producers (openpyxl, xlsxwriter,
LibreOffice or xlwt for .xls, CSV in several encodings and delimiters), as ops staff's files would arrive.

A sheet is a list of rows; a cell is str, int, float, bool, date, datetime or None (an empty cell).
`title` puts a merged title row and a blank row above the rows.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

Cell = str | int | float | bool | date | datetime | None
Rows = Sequence[Sequence[Cell]]
Sheets = dict[str, Rows]

XLSM_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _with_title(rows: Rows, title: str | None) -> list[Sequence[Cell]]:
    return [[title], [], *rows] if title else list(rows)


def _width(rows: Rows) -> int:
    return max((len(r) for r in rows), default=1)


def write_openpyxl(path: Path, sheets: Sheets, title: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in _with_title(rows, title):
            ws.append(list(row))
        if title:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=_width(rows))
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(cell.value, date):
                    cell.number_format = 'yyyy"年"m"月"d"日"'
    wb.save(path)
    if path.suffix == ".xlsm":  # what Excel writes for a macro-enabled workbook (no VBA project here)
        _set_workbook_type(path, XLSM_TYPE)
    return path


def _set_workbook_type(path: Path, content_type: bytes) -> None:
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "[Content_Types].xml":
                data = data.replace(XLSX_TYPE, content_type)
            dst.writestr(info, data)


def write_xlsxwriter(path: Path, sheets: Sheets, title: str | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy/m/d"})
    datetime_fmt = wb.add_format({"num_format": "yyyy/m/d h:mm"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        if title:
            ws.merge_range(0, 0, 0, _width(rows) - 1, title)
        offset = 2 if title else 0
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                _xlsxwriter_cell(ws, r + offset, c, value, date_fmt, datetime_fmt)
    wb.close()
    return path


def _xlsxwriter_cell(ws, r: int, c: int, value: Cell, date_fmt, datetime_fmt) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, datetime_fmt)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, value)  # never write(): a text starting with = would become a formula


def write_xls(path: Path, sheets: Sheets, title: str | None = None) -> Path:
    """A real .xls: LibreOffice converts the openpyxl workbook when it is installed, else xlwt writes it.
    LibreOffice runs with a profile of its own in a temporary folder: with the user's profile, a LibreOffice
    already open (or a second test run) takes the job or refuses it (exit 77)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        source = write_openpyxl(path.with_suffix(".src.xlsx"), sheets, title)
        with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
            subprocess.run(
                [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "xls",
                 "--outdir", str(source.parent), str(source)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        source.with_suffix(".xls").rename(path)
        source.unlink()
        return path
    xlwt = pytest.importorskip("xlwt", reason="no .xls producer: neither LibreOffice (soffice) nor xlwt")
    return _write_xlwt(xlwt, path, sheets, title)


def _write_xlwt(xlwt, path: Path, sheets: Sheets, title: str | None) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    datetime_style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        if title:
            ws.write_merge(0, 0, 0, _width(rows) - 1, title)
        offset = 2 if title else 0
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    ws.write(r + offset, c, value, datetime_style)
                elif isinstance(value, date):
                    ws.write(r + offset, c, datetime(value.year, value.month, value.day), date_style)
                else:
                    ws.write(r + offset, c, value)
    wb.save(str(path))
    return path


def csv_text(rows: Rows, delimiter: str = ",", title: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in _with_title(rows, title):
        writer.writerow(["" if v is None else str(v) for v in row])
    return buffer.getvalue()


def write_csv(
    path: Path, rows: Rows, encoding: str = "utf-8", delimiter: str = ",", title: str | None = None
) -> Path:
    path.write_bytes(csv_text(rows, delimiter, title).encode(encoding))
    return path
