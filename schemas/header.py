"""Finding a sheet's kind from its header row (SPEC §2): title rows and blank rows above it are skipped; the
header is the first row that holds every required column of a kind."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.columns import KINDS, Kind, alias_table, normalise_header

HEADER_SEARCH_ROWS = 30
_ALIASES = {kind.name: alias_table(kind) for kind in KINDS}


@dataclass(frozen=True)
class Header:
    kind: Kind
    row_index: int  # 0-based position of the header row in the sheet
    columns: dict[str, str]  # sheet column → canonical column


def _match(kind: Kind, cells: list[str | None]) -> dict[int, str] | None:
    table = _ALIASES[kind.name]
    found: dict[int, str] = {}
    for i, cell in enumerate(cells):
        canonical = table.get(normalise_header(cell))
        if canonical and canonical not in found.values():
            found[i] = canonical
    names = set(found.values())
    if not set(kind.required) <= names:
        return None
    if any(not names & set(group) for group in kind.one_of):
        return None
    return found


def find_header(sheet: pl.DataFrame) -> Header | None:
    """The first row within the first HEADER_SEARCH_ROWS that is the header of some kind; when a row fits
    several kinds, the kind that recognises the most of its columns."""
    for row_index, row in enumerate(sheet.head(HEADER_SEARCH_ROWS).iter_rows()):
        cells = [None if v is None else str(v) for v in row]
        fits = [(kind, m) for kind in KINDS if (m := _match(kind, cells))]
        if fits:
            kind, found = max(fits, key=lambda km: len(km[1]))
            return Header(kind, row_index, {sheet.columns[i]: name for i, name in found.items()})
    return None
