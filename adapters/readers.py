"""Reading a dropped file into sheets of text cells, exactly as the spreadsheet shows them.

Everything is read as text (type inference drops values: ../shared/PITFALLS.md) and parsed by `schemas`.
Row positions are kept so that a reject can name the row as Excel numbers it.

A file is judged by its content, not only by its name: a zip is an .xlsx/.xlsm, an OLE2 container is an .xls
or a password-protected .xlsx. Workbooks are checked against `ReadLimits` before calamine unpacks them (a
small zip can unpack to gigabytes), and every failure is an `UnreadableFile` with a reason in Chinese and
English, so that the file can be quarantined with a `.why.txt` ops staff can act on.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fastexcel
import olefile
import polars as pl

from adapters.localzone import local_zone

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv"}
SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # strict, in this order: gb18030 first would garble UTF-8
CSV_DELIMITERS = ",;\t|"
CSV_SNIFF_LINES = 30

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty archive
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
MB = 1024 * 1024
# what Python's zipfile raises for a damaged archive: a bad header, a truncated or corrupt deflate stream, a
# compression method or version it does not know
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError, KeyError)


@dataclass(frozen=True)
class ReadLimits:
    """What a workbook may unpack to before it is refused as a zip bomb or as too large."""

    max_unpacked_bytes: int = 200 * MB  # all members of an .xlsx together, uncompressed
    max_ratio: float = 100.0  # uncompressed ÷ compressed, for any member larger than ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MB
    max_rows: int = 2_000_000  # per sheet


LIMITS = ReadLimits()


class UnreadableFile(Exception):
    """The file cannot be read at all; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class Sheet:
    name: str
    cells: pl.DataFrame  # all String; row i is Excel row i + 1


# --- messages -------------------------------------------------------------------------------------------

EMPTY_FILE = "文件为空（0 字节）/ the file is empty (0 bytes)"
EMPTY_CSV = "文件中没有任何内容（只有空行）/ the file holds nothing but blank lines"
PASSWORD = "工作簿有密码保护 / the workbook is password-protected"
NOT_ZIP = "工作簿已损坏（不是完整的 xlsx 压缩包）/ the workbook is damaged (not a complete .xlsx zip archive)"
ZIP_NOT_WORKBOOK = "这是 zip 压缩包，不是 Excel 工作簿 / this is a zip archive, not an Excel workbook"
OLE_NOT_WORKBOOK = (
    "这是其他 Office 文件（如 Word），不是 Excel 工作簿 / "
    "this is another Office file (e.g. Word), not an Excel workbook"
)
OLE_DAMAGED = (
    "工作簿已损坏（.xls 文件结构无法读取）/ the workbook is damaged (the .xls structure cannot be read)"
)
HTML_NOT_WORKBOOK = (
    "这是网页（HTML/XML）文件，不是真正的 Excel 工作簿，请在 Excel 中另存为 .xlsx / "
    "this is a web page (HTML/XML), not a real Excel workbook: open it in Excel and save it as .xlsx"
)
NOT_WORKBOOK = (
    "无法打开：不是 Excel 工作簿（内容既不是 xlsx 也不是 xls，文件可能已损坏）/ "
    "cannot open: not an Excel workbook (the content is neither .xlsx nor .xls; the file may be damaged)"
)
BAD_ENCODING = (
    "无法识别文件编码（应为 UTF-8 或 GBK/GB18030）/ the text encoding is neither UTF-8 nor GBK/GB18030"
)
BINARY_CSV = "不是文本 CSV 文件（含有二进制内容）/ not a text CSV file (it holds binary content)"


def _too_many_rows(sheet: str, rows: int, limits: ReadLimits) -> UnreadableFile:
    return UnreadableFile(
        f"工作表「{sheet}」有 {rows} 行，超过上限 {limits.max_rows} 行 / "
        f"sheet '{sheet}' has {rows} rows, more than the limit of {limits.max_rows}"
    )


# --- containers -----------------------------------------------------------------------------------------


def container_of(path: Path) -> str:
    """`zip`, `ole`, `html` or `other`, from the first bytes; an empty file is unreadable."""
    with path.open("rb") as f:
        head = f.read(512)
    if not head:
        raise UnreadableFile(EMPTY_FILE)
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "html"
    return "other"


def check_zip(path: Path, limits: ReadLimits = LIMITS) -> None:
    """Refuse a damaged archive, a zip that is no workbook, and a zip bomb — before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except ZIP_ERRORS as err:
        raise UnreadableFile(NOT_ZIP) from err
    if not any(m.filename.lower().startswith("xl/") for m in members):  # .docx has word/, .pptx ppt/
        raise UnreadableFile(ZIP_NOT_WORKBOOK)
    total = sum(m.file_size for m in members)
    limit = limits.max_unpacked_bytes // MB
    if total > limits.max_unpacked_bytes:
        raise UnreadableFile(
            f"工作簿解压后 {total // MB} MB，超过上限 {limit} MB（疑似压缩炸弹）/ "
            f"the workbook unpacks to {total // MB} MB, over the limit of {limit} MB (a zip bomb?)"
        )
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise UnreadableFile(
                f"工作簿中的 {m.filename} 压缩比 {ratio:.0f}:1，超过上限 {limits.max_ratio:.0f}:1"
                f"（疑似压缩炸弹）/ {m.filename} in the workbook is compressed {ratio:.0f}:1, "
                f"over the limit of {limits.max_ratio:.0f}:1 (a zip bomb?)"
            )


def check_ole(path: Path) -> None:
    """An OLE2 file is a real .xls (a `Workbook` or `Book` stream) or an encrypted .xlsx
    (`EncryptedPackage`)."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except Exception as err:  # olefile raises OSError and its own errors for damaged files
        raise UnreadableFile(OLE_DAMAGED) from err
    if "EncryptedPackage" in streams:
        raise UnreadableFile(PASSWORD)
    if not streams & {"Workbook", "Book"}:
        raise UnreadableFile(OLE_NOT_WORKBOOK)


def _refuse_other(container: str) -> None:
    raise UnreadableFile(HTML_NOT_WORKBOOK if container == "html" else NOT_WORKBOOK)


# --- workbooks ------------------------------------------------------------------------------------------


def _calamine_failure(err: Exception) -> UnreadableFile:
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "password" in str(err).lower():
        return UnreadableFile(PASSWORD)
    return UnreadableFile(
        f"无法打开工作簿（文件可能已损坏）/ cannot open the workbook (the file may be damaged): {first_line}"
    )


def _load_sheet(reader: fastexcel.ExcelReader, name: str, limits: ReadLimits) -> Sheet:
    sheet = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0, n_rows=limits.max_rows + 1)
    if sheet.total_height > limits.max_rows:
        raise _too_many_rows(name, sheet.total_height, limits)
    return Sheet(name, sheet.to_polars())


def _matches_suffix(path: Path, container: str) -> bool:
    suffix = path.suffix.lower()
    return (container == "zip" and suffix in {".xlsx", ".xlsm"}) or (container == "ole" and suffix == ".xls")


def read_workbook(path: Path, limits: ReadLimits = LIMITS) -> list[Sheet]:
    """Every sheet that holds at least one cell, as read; a sheet of only a header is a sheet of 0 rows."""
    container = container_of(path)
    if container == "zip":
        check_zip(path, limits)
    elif container == "ole":
        check_ole(path)
    else:
        _refuse_other(container)
    # calamine picks the format by the name; a workbook saved under the other name is read by its content
    source: Path | bytes = path if _matches_suffix(path, container) else path.read_bytes()
    try:
        reader = fastexcel.read_excel(source)
        sheets = [_load_sheet(reader, name, limits) for name in reader.sheet_names]
    except UnreadableFile:
        raise
    except Exception as err:  # calamine reports damaged and foreign files in many ways
        raise _calamine_failure(err) from err
    return [s for s in sheets if s.cells.height > 0]


# --- CSV ------------------------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (which covers GBK); strictly, never lossy."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise UnreadableFile(BAD_ENCODING) from err
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(BAD_ENCODING)


def _widest(lines: list[str], delimiter: str) -> int:
    return max((len(row) for row in csv.reader(lines, delimiter=delimiter)), default=0)


def sniff_delimiter(text: str) -> str:
    """`,` unless the first lines split only on `;`, tab or `|`: csv.Sniffer's choice (else the delimiter that
    splits a line widest), taken only when it splits the header row — the widest row — wider than `,` does."""
    first = text[: 64 * 1024].splitlines()[:CSV_SNIFF_LINES]
    lines = [line for line in first if any(d in line for d in CSV_DELIMITERS)]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:  # too few lines agree, e.g. a title row and a header only
        found = max(CSV_DELIMITERS, key=lambda d: _widest(lines, d))
    if found in CSV_DELIMITERS and _widest(lines, found) > _widest(lines, ","):
        return found
    return ","


def _split_plain(text: str, delimiter: str) -> pl.DataFrame:
    """`parse_csv` for text without quotes or bare carriage returns, where a record is a line and a cell is
    what lies between delimiters: split in Polars instead of row by row in Python."""
    lines = pl.Series("line", text.split("\n"), dtype=pl.String)
    if text.endswith("\n"):
        lines = lines.head(-1)  # the last line break ends the last record, it does not start one
    cells = lines.str.strip_suffix("\r").str.split(delimiter)
    width = int(cells.list.len().max() or 0)
    fields = [f"column_{i}" for i in range(width)]
    frame = cells.list.to_struct(fields=fields).struct.unnest()
    return frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in fields)


def parse_csv(text: str, delimiter: str) -> pl.DataFrame:
    """Records as Excel shows them: a blank line is a row (row numbers stay true), short rows are padded."""
    if '"' not in text and "\r" not in text.replace("\r\n", "\n"):
        return _split_plain(text, delimiter)
    try:
        # newline="": the csv module then ends a record at \r\n, \n or a bare \r (old Excel for Mac)
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [[cell if cell != "" else None for cell in row] for row in records]
    except csv.Error as err:
        raise UnreadableFile(BINARY_CSV) from err
    width = max((len(row) for row in rows), default=0)
    columns = [f"column_{i}" for i in range(width)]
    padded = [row + [None] * (width - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=dict.fromkeys(columns, pl.String), orient="row")


def read_csv(path: Path, limits: ReadLimits = LIMITS) -> list[Sheet]:
    data = path.read_bytes()
    if not data:
        raise UnreadableFile(EMPTY_FILE)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(BINARY_CSV)
    text = decode_csv(data)
    if not text.strip():
        raise UnreadableFile(EMPTY_CSV)
    cells = parse_csv(text, sniff_delimiter(text))
    if cells.height > limits.max_rows:
        raise _too_many_rows(shown_name(path.stem), cells.height, limits)
    return [Sheet(shown_name(path.stem), cells)]


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a name made on a GBK system) shown as `�` — Polars,
    JSON and the terminal hold no lone surrogates, which is how Python keeps such bytes."""
    return os.fsencode(name).decode("utf-8", "replace")


# --- entry point ----------------------------------------------------------------------------------------


def read_sheets(path: Path, limits: ReadLimits = LIMITS) -> list[Sheet]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 {suffix} / unsupported file type {suffix}")
    if suffix in CSV_SUFFIXES and container_of(path) in {"zip", "ole"}:
        return read_workbook(path, limits)  # a workbook saved under a .csv name
    if suffix in CSV_SUFFIXES or (container_of(path) == "other" and _looks_like_text(path)):
        return read_csv(path, limits)  # also CSV text saved under a workbook's name (by content, SPEC §2)
    return read_workbook(path, limits)


def _looks_like_text(path: Path) -> bool:
    """The first bytes decode as UTF-8/GB18030 text (or UTF-16 with its BOM) without control characters."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    for encoding in CSV_ENCODINGS:
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as err:
            if err.start < len(head) - 4:  # a character cut at the end of the look is no failure
                continue
            text = head[: err.start].decode(encoding)
        return not any(ord(c) < 32 and c not in "\t\r\n" for c in text)
    return False


_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>")


def file_time(path: Path) -> datetime:
    """When the file was last saved, in the store's wall-clock time (adapters/localzone.py): the workbook's own
    `modified` property (Excel and WPS set it on save), else the file system's modification time."""
    try:
        with zipfile.ZipFile(path) as zf:
            found = _MODIFIED.search(zf.read("docProps/core.xml"))
        if found:
            stamp = datetime.fromisoformat(found.group(1).decode().replace("Z", "+00:00"))
            if stamp.tzinfo is not None:
                return stamp.astimezone(local_zone()).replace(tzinfo=None)
    except ZIP_ERRORS:  # no readable core.xml: the file system's time
        pass
    return datetime.fromtimestamp(path.stat().st_mtime, local_zone()).replace(tzinfo=None)
