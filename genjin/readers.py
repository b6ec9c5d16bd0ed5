"""Reading a dropped file into sheets of text cells, exactly as the spreadsheet shows them.

Everything is read as text (type inference drops values: ../shared/PITFALLS.md) and parsed by `schemas`.
Row positions are kept so that a reject can name the row as Excel numbers it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv"}
SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # strict, in this order: gb18030 first would garble UTF-8


class UnreadableFile(Exception):
    """The file cannot be read at all; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class Sheet:
    name: str
    cells: pl.DataFrame  # all String; row i is Excel row i + 1


def decode_csv(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文件编码（应为 UTF-8 或 GBK）/ encoding is neither UTF-8 nor GBK")


def read_csv(path: Path) -> list[Sheet]:
    text = decode_csv(path.read_bytes())
    if not text.strip():
        raise UnreadableFile("文件为空 / the file is empty")
    cells = pl.read_csv(
        io.BytesIO(text.encode("utf-8")), has_header=False, infer_schema=False, truncate_ragged_lines=True
    )
    return [Sheet(path.stem, cells)]


def read_workbook(path: Path) -> list[Sheet]:
    try:
        reader = fastexcel.read_excel(path)
        sheets = [
            Sheet(name, reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars())
            for name in reader.sheet_names
        ]
    except Exception as err:  # calamine reports corrupt, encrypted and foreign files in many ways
        raise UnreadableFile(f"无法打开工作簿 / cannot open the workbook: {err}") from err
    return [s for s in sheets if s.cells.height > 0]


def read_sheets(path: Path) -> list[Sheet]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(path)
    raise UnreadableFile(f"不支持的文件类型 {suffix} / unsupported file type {suffix}")
