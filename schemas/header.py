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


def _labels(kind: Kind, names: list[str]) -> str:
    return "、".join(kind.column(n).aliases[0] if kind.column(n).aliases else n for n in names)


def what_each_kind_needs(sheet: pl.DataFrame) -> list[str]:
    """For a sheet with no recognised header: per kind, the columns it needs and which of them the row that
    comes closest (within the first HEADER_SEARCH_ROWS) holds — in Chinese and English."""
    rows = [[None if v is None else str(v) for v in row] for row in sheet.head(HEADER_SEARCH_ROWS).iter_rows()]
    lines = []
    for kind in KINDS:
        table = _ALIASES[kind.name]
        needed = [*kind.required, *(n for group in kind.one_of for n in group)]
        best: list[str] = []
        for cells in rows:
            names = {table.get(normalise_header(c)) for c in cells}
            found = [n for n in needed if n in names]
            if len(found) > len(best):
                best = found
        missing = [n for n in kind.required if n not in best]
        missing_groups = [" 或 ".join(_labels(kind, [n]) for n in g) for g in kind.one_of if not set(g) & set(best)]
        lacking = "、".join([_labels(kind, missing)] * bool(missing) + missing_groups) or "—"
        required = _labels(kind, list(kind.required)) + "".join(
            f"，以及 {' 或 '.join(_labels(kind, [n]) for n in g)}" for g in kind.one_of)
        lines.append(f"{kind.label}（{kind.name}）需要：{required}；找到：{_labels(kind, best) or '无'}；"
                     f"缺少：{lacking} / {kind.name}: {len(best)} of the columns it needs found")
    return lines
