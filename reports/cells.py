"""Cell values that cannot become formulas (OWASP CSV injection; ../shared/PITFALLS.md)."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_dangerous(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(DANGEROUS_FIRST)


def csv_safe(value: Any) -> Any:
    """In a CSV the only guard Excel honours is a leading apostrophe."""
    return "'" + value if is_dangerous(value) else value


def set_text_safe(cell: Cell, value: Any) -> None:
    """Write `value`; a string is always stored as a string, never as a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
