"""One dropped file → its typed rows per kind and its rejected rows with reasons (SPEC §2–§3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from adapters.failures import is_contained, reason
from adapters.readers import LIMITS, ReadLimits, Sheet, UnreadableFile, file_time, read_sheets, shown_name
from schemas import decisions, returned_worklist
from schemas.columns import KIND_BY_NAME
from schemas.header import find_header, what_each_kind_needs
from schemas.validate import REJECT_SCHEMA, ROW, SHEET, label, parse, validate
from transforms.warnings import dated_after, future_rows, future_warning


@dataclass(frozen=True)
class SheetLoad:
    sheet: str
    kind: str
    loaded: pl.DataFrame  # typed canonical columns
    rejects: pl.DataFrame  # ROW, column, reason_zh, reason_en — one row per failure
    original: pl.DataFrame  # every original cell of the rejected rows (for the rejects file), original headers
    rows_in: int  # data rows read (blank rows and the header not counted)
    headers: dict[str, str] = field(default_factory=dict)  # canonical column → the header as the file has it
    stored_rows: int | None = None  # set by `FileLoad.release_rows`: how many `loaded` held before
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))  # loaded, part dropped
    not_worked: dict[str, int] = field(default_factory=dict)  # returned worklist: advisor → rows left empty
    future: pl.DataFrame | None = None  # loaded rows dated after the night (transforms.warnings.dated_after)
    undecided: dict[str, int] = field(default_factory=dict)  # review workbook: manager → rows with 决定 empty

    @property
    def rows_loaded(self) -> int:
        return self.loaded.height if self.stored_rows is None else self.stored_rows

    @property
    def data_rows(self) -> list[int]:
        """The row numbers (as Excel shows them) of the data rows, loaded or rejected."""
        return sorted({*self.loaded[ROW].to_list(), *self.original[ROW].to_list()})

    @property
    def rows_rejected(self) -> int:
        return self.rejects[ROW].n_unique()

    def header_of(self, column: str) -> str:
        """A column at fault as the file names it (`联系电话`), else as a clerk knows it; a check on two columns
        (`lead_id/phone`) names both."""
        kind = KIND_BY_NAME[self.kind]
        return " / ".join(self.headers.get(c) or label(kind, c) for c in column.split("/"))

    @property
    def rows_not_worked(self) -> int:
        """Rows of a returned worklist left empty: neither loaded nor rejected (rows_in counts them)."""
        return sum(self.not_worked.values())

    @property
    def rows_undecided(self) -> int:
        """Rows of a review workbook whose 决定 is empty: neither loaded nor rejected (rows_in counts them)."""
        return sum(self.undecided.values())


@dataclass
class FileLoad:
    path: Path
    sha256: str
    sheets: list[SheetLoad] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    status: str = "loaded"  # loaded | duplicate | quarantined
    why: str = ""
    duplicate_of: dict[str, str] | None = None  # a duplicate's first load: {name, night}

    @property
    def name(self) -> str:
        """The file's name as text (adapters.readers.shown_name): what run.json, the ledger and the rows say."""
        return shown_name(self.path.name)

    @property
    def kind(self) -> str:
        return ",".join(dict.fromkeys(s.kind for s in self.sheets))

    @property
    def rows_in(self) -> int:
        return sum(s.rows_in for s in self.sheets)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sheets)

    @property
    def rows_loaded(self) -> int:
        return sum(s.rows_loaded for s in self.sheets)

    @property
    def rows_not_worked(self) -> int:
        return sum(s.rows_not_worked for s in self.sheets)

    @property
    def rows_undecided(self) -> int:
        return sum(s.rows_undecided for s in self.sheets)

    @property
    def rows_warned(self) -> int:
        """Loaded rows of which one cell was dropped with a warning (a returned worklist's unreadable date)."""
        return sum(s.warnings[ROW].n_unique() for s in self.sheets)

    @property
    def not_worked(self) -> dict[str, int]:
        return add_counts(s.not_worked for s in self.sheets)

    @property
    def undecided(self) -> dict[str, int]:
        return add_counts(s.undecided for s in self.sheets)

    def release_rows(self) -> None:
        """Let the typed rows go once the history holds them; the counts stay. (Prefect keeps every task's
        result until the flow run ends, and a group's night holds millions of rows: 1.6 GB of its peak.)"""
        self.sheets = [replace(s, loaded=s.loaded.clear(), stored_rows=s.rows_loaded) for s in self.sheets]


def file_warnings(load: FileLoad, as_of: date) -> list[dict[str, Any]]:
    """The night's warnings about one file's rows: those dated after the night, per sheet (none for a duplicate
    or a quarantined file: nothing of them loads)."""
    return [future_warning(load.name, s.sheet, KIND_BY_NAME[s.kind], s.future, as_of)
            for s in load.sheets if s.future is not None and s.future.height]


def add_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Per-person counts (rows left empty per advisor or manager) added up, by person."""
    counts: dict[str, int] = {}
    for part in parts:
        for who, n in part.items():
            counts[who] = counts.get(who, 0) + n
    return dict(sorted(counts.items()))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unique_headers(cells: list[str | None]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for i, cell in enumerate(cells):
        name = (cell or "").strip() or f"列{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}({seen[name]})")
    return names


def load_sheet(sheet: Sheet, filled_at: datetime | None = None, as_of: date | None = None) -> SheetLoad | None:
    """`filled_at`: when the file was saved — the contact time of a returned worklist's filled rows; `as_of`: the
    night it is read for — its rows dated after it load with a warning (none looked for without it)."""
    header = find_header(sheet.cells)
    if header is None:
        return None
    cells = sheet.cells.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    body = cells.slice(header.row_index + 1)
    data_cols = sheet.cells.columns
    body = body.filter(~pl.all_horizontal(pl.col(data_cols).str.strip_chars().fill_null("") == ""))
    body = body.with_columns(pl.lit(sheet.name).alias(SHEET))
    names = dict(zip(data_cols, _unique_headers(list(sheet.cells.row(header.row_index))), strict=True))
    rows_in = body.height
    raw = body.select(ROW, SHEET, *(pl.col(src).alias(dst) for src, dst in header.columns.items()))
    header_cells = list(sheet.cells.row(header.row_index))
    returned = header.kind.name == "followups" and returned_worklist.is_returned_worklist(header_cells)
    warnings, not_worked, undecided = pl.DataFrame(schema=REJECT_SCHEMA), {}, {}
    if returned and filled_at is not None:
        prepared = returned_worklist.prepare(raw, filled_at)
        raw, not_worked = prepared.filled, returned_worklist.count_by_advisor(prepared.not_worked)
        checked = validate(header.kind, raw)
        # a warned row that is rejected for another reason is a reject: it says every reason there
        warnings = prepared.warnings.filter(pl.col(ROW).is_in(checked.loaded[ROW].implode()))
        checked = replace(checked, rejects=pl.concat([checked.rejects, prepared.warnings.join(
            warnings, on=ROW, how="anti")]).sort(ROW, maintain_order=True))
    elif header.kind.name == "decisions":
        decided = decisions.prepare(raw)  # an empty 决定 is undecided, not an error
        raw, undecided = decided.decided, decided.undecided
        checked = validate(header.kind, raw)
    else:
        checked = validate(header.kind, raw)
    warnings = pl.concat([warnings, checked.warnings])
    future = None
    if as_of is not None:  # rows dated after the night load, each told (transforms/warnings.py)
        future = dated_after(checked.loaded, header.kind, as_of)
        warnings = pl.concat([warnings, future_rows(future, header.kind, as_of)])
    warnings = warnings.sort(ROW, maintain_order=True)
    headers = {dst: names[src] for src, dst in header.columns.items()}
    # only the rejected and warned rows' cells are kept: the loaded rows live on, typed, and a night holds millions
    kept = pl.concat([checked.rejects[ROW], warnings[ROW]]).implode()
    original = body.filter(pl.col(ROW).is_in(kept)).rename(names)
    return SheetLoad(sheet.name, header.kind.name, checked.loaded, checked.rejects, original, rows_in, headers,
                     warnings=warnings, not_worked=not_worked, future=future, undecided=undecided)


READ_FAILED = ("读取或校验此文件时出错，整个文件已隔离，其他文件照常处理",
               "reading or validating this file failed; the file is quarantined, the other files go on")


def load_new_file(path: Path, already_loaded: Callable[[str], bool], as_of: date | None = None) -> FileLoad:
    """`load_file`, unless a file with the same SHA-256 was loaded before: then it is a `duplicate`. Whatever
    goes wrong in reading or validating it — a Rust panic included — the file comes back `quarantined` with
    the reason, and the night goes on (adapters/failures.py)."""
    digest = ""
    try:
        digest = sha256_of(path)
        if already_loaded(digest):
            return FileLoad(path=path, sha256=digest, status="duplicate",
                            why="同样内容的文件已载入过 / a file with the same content was loaded before")
        return load_file(path, digest, as_of=as_of)
    except BaseException as err:
        if not is_contained(err):
            raise
        failed = FileLoad(path=path, sha256=digest)
        quarantine(failed, reason(*READ_FAILED, err))
        return failed


def quarantine(load: FileLoad, why: str) -> None:
    """Make `load` a quarantined file: none of its rows loaded or rejected (rows_in 0), `why` said."""
    load.sheets, load.skipped_sheets, load.status, load.why = [], [], "quarantined", why


NO_HEADER = (
    "找不到可识别的表头（线索/跟进记录/销售订单/售后工单/顾问名单/经理决定）/ "
    "no recognisable header row (leads, followups, sales, service, advisors, decisions)"
)
NO_CELLS = "工作簿中所有工作表都是空的 / every sheet of the workbook is empty"


def load_file(path: Path, digest: str | None = None, limits: ReadLimits = LIMITS,
              as_of: date | None = None) -> FileLoad:
    """Read and validate one file. A file that cannot be read or has no recognisable header comes back
    `quarantined` with the reason; nothing is moved here. A sheet of only a header loads 0 rows. `as_of`: the
    night it is read for (rows dated after it load with a warning)."""
    result = FileLoad(path=path, sha256=digest or sha256_of(path))
    try:
        sheets = read_sheets(path, limits)
        filled_at = file_time(path)
        loads = [(sheet.name, load_sheet(sheet, filled_at, as_of)) for sheet in sheets]
    except (UnreadableFile, ValueError) as err:  # ValueError: a failure of the whole sheet (schemas.validate)
        result.status, result.why = "quarantined", str(err)
        return result
    result.sheets = [loaded for _, loaded in loads if loaded is not None]
    result.skipped_sheets = [name for name, loaded in loads if loaded is None]
    if not result.sheets:  # which columns each kind needs, and which the first sheet has (issue #13)
        needs = "\n".join(f"  {line}" for line in what_each_kind_needs(sheets[0].cells)) if sheets else ""
        result.status, result.why = "quarantined", f"{NO_HEADER}\n{needs}" if sheets else NO_CELLS
    return result


SOURCE = "__file"
KINDS = ("leads", "followups", "sales", "service", "advisors", "decisions")


def _typed_empty(kind: str) -> pl.DataFrame:
    spec = KIND_BY_NAME[kind]
    raw = pl.DataFrame(schema={ROW: pl.Int64, SHEET: pl.String} | {c.name: pl.String for c in spec.columns})
    return parse(spec, raw).with_columns(pl.lit(None, dtype=pl.String).alias(SOURCE))


def empty_inputs() -> dict[str, pl.DataFrame]:
    """A typed, empty frame per kind: what a night with no rows of that kind works on."""
    return {kind: _typed_empty(kind) for kind in KINDS}
