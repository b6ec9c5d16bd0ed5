"""Text as genjin writes it: every writer (workbooks, rejects, CSV, HTML, email) passes what it read through
`safe_text`, so that whatever a cell held, the output can hold it and a person still sees it was there:

- control characters (which xlsx XML cannot hold, and which are invisible elsewhere) become their visible
  pictures from the Control Pictures block — `\\x07` → `␇`, NUL → `␀`, DEL → `␡`; tab, line feed and carriage
  return are ordinary text and stay;
- lone surrogates (a file name in a foreign encoding) and the non-characters U+FFFE/U+FFFF become `�`;
- text longer than Excel's cell limit (32,767 characters) is cut, ending in a marker that says how long it was;
- and no text ever becomes a formula: workbooks store strings as strings (`set_text_safe`, xlsxwriter's
  `write_string`), and in a CSV text starting with `= + - @`, tab, CR or LF gets a leading apostrophe
  (OWASP CSV injection; ../shared/PITFALLS.md) — `csv_safe`, `csv_safe_expr`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl

from transforms.frames import format_text

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL = 32_767  # Excel's limit, in UTF-16 units

KEPT = "\t\n\r"
CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in KEPT] + ["\x7f"]
PICTURES = [chr(0x2400 + ord(c)) if c != "\x7f" else "\u2421" for c in CONTROLS]
_PICTURE = str.maketrans(dict(zip(CONTROLS, PICTURES, strict=True)))
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
KEEP = MAX_CELL - 80  # what an over-long cell keeps; the marker takes fewer than 80


def truncation_marker(length: int | pl.Expr) -> str | pl.Expr:
    template = "…〔已截断，原文共 {} 字 / truncated, {} characters in all〕"
    if isinstance(length, pl.Expr):
        return format_text(template, length, length)  # pl.format panics in Polars 2.1 (test_polars_panic.py)
    return template.format(length, length)


def _units(text: str) -> int:
    """Its length as Excel counts it: characters beyond the BMP (emoji, rare hanzi) are two UTF-16 units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(text: str) -> str:
    """The longest start of `text` of at most KEEP UTF-16 units."""
    end = KEEP
    while _units(text[:end]) > KEEP:
        end -= _units(text[:end]) - KEEP  # each character dropped is one unit or two
    return text[:end]


def safe_text(value: Any, limit: int | None = MAX_CELL) -> Any:
    """`value` itself unless it is a string a writer cannot hold as it is (module docstring); not a formula
    guard by itself (see `csv_safe`). `limit=None` for formats without a cell limit (HTML, email)."""
    if not isinstance(value, str) or (len(value) <= MAX_CELL // 2 and value.isprintable()):
        return value  # nearly every cell: the fast way out (isprintable is False for controls and surrogates)
    if _UNSAFE.search(value) is not None:
        value = _UNENCODABLE.sub(REPLACEMENT, value).translate(_PICTURE)
    if limit is not None and len(value) > limit // 2 and _units(value) > limit:
        value = _cut(value) + truncation_marker(len(value))
    return value


def is_dangerous(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(DANGEROUS_FIRST)


def csv_safe(value: Any) -> Any:
    """In a CSV the only guard Excel honours is a leading apostrophe."""
    value = safe_text(value)
    return "'" + value if is_dangerous(value) else value


def csv_safe_expr(column: str) -> pl.Expr:
    """`csv_safe` for a whole String column (Polars strings hold no lone surrogates)."""
    danger = "^[" + "".join("\\" + c if c in "-+" else c for c in DANGEROUS_FIRST) + "]"
    text = pl.col(column).str.replace_many(CONTROLS, PICTURES)
    length = text.str.len_chars()
    text = pl.when(length > MAX_CELL).then(text.str.slice(0, KEEP) + truncation_marker(length)).otherwise(text)
    return pl.when(text.str.contains(danger)).then("'" + text).otherwise(text).alias(column)


def set_text_safe(cell: Cell, value: Any) -> None:
    """Write `value` (made safe); a string is always stored as a string, never as a formula."""
    value = safe_text(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
