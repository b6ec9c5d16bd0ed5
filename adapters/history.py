"""The history of every loaded row across nights (SPEC §3, issue #5), in Delta Lake tables.

- `history/<kind>`: every loaded row, appended, with where it came from (`__file`, `__sha256`, `__sheet_n`,
  `__row`) and the night that loaded it (`__night`, `__order` = the file's place in that night's order).
- `history/ledger`: one row per loaded file, appended after its rows. A file counts as loaded only once its
  ledger row exists. A run killed between the rows and the ledger row leaves rows no ledger row vouches for:
  they are never read, and the next run deletes them before appending the file's rows again, so the tables
  hold each row once. A file the ledger already has is not recorded again (a re-run of the night).
  A night appends once per kind and writes its ledger rows in one append (issue #8: a commit per file made
  the tables slow to write and to read).

- `history/plans`: each night's plan (issue #15, `transforms/plan.py` STORED_COLUMNS plus `night`), one row per
  open task, partitioned by night; a re-run of a night replaces that night's rows. The next night counts each
  task's carried nights from the last plan stored before it, so a re-run of a night and a backfill give the
  same counts.

A night reads the rows of files loaded on or before it, oldest first, so that a later row for the same key
wins and a backfill (`--as-of` in the past) sees the history as it stood then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from adapters import history_schema
from adapters.ingest import KINDS, SOURCE, FileLoad, empty_inputs
from schemas.columns import ORDER, ROW, SHEET_N
from schemas.validate import SHEET
from transforms.frames import Inputs
from transforms.plan import PREVIOUS_SCHEMA, STORED_COLUMNS

NIGHT = "__night"
SHA = "__sha256"
BOOKKEEPING = (SOURCE, SHEET, SHA, NIGHT)  # where a row came from: kept in the tables, not read by a night
# ... except by the decisions, few and reported back to the file that brought them (rejects/<file>.rejects.xlsx)
READ_BOOKKEEPING = {"decisions": (SOURCE, SHEET, NIGHT)}
LEDGER_SCHEMA = {
    "sha256": pl.String, "name": pl.String, "night": pl.String, "order": pl.Int64,
    "kinds": pl.String, "rows_in": pl.Int64, "rows_loaded": pl.Int64, "rows_rejected": pl.Int64,
}


def _is_hex(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _unread(kind: str, drop: tuple[str, ...]) -> tuple[str, ...]:
    """The bookkeeping columns of `drop` that the night does not read for `kind`."""
    return tuple(c for c in drop if c not in READ_BOOKKEEPING.get(kind, ()))


def _exists(table: Path) -> bool:
    return (table / "_delta_log").is_dir()


@dataclass(frozen=True)
class History:
    root: Path

    def __post_init__(self) -> None:
        history_schema.check(self.root)  # a history a newer genjin wrote is refused before it is read

    def table(self, name: str) -> Path:
        return self.root / name

    def ledger(self, as_of: date | None = None) -> pl.DataFrame:
        """One row per loaded file (its first load), of nights on or before `as_of`."""
        if not _exists(self.table("ledger")):
            return pl.DataFrame(schema=LEDGER_SCHEMA)
        ledger = pl.read_delta(str(self.table("ledger")))
        if as_of is not None:
            ledger = ledger.filter(pl.col("night") <= as_of.isoformat())
        return ledger.sort("night", "order").unique("sha256", keep="first", maintain_order=True)

    def loaded_before(self, sha256: str, as_of: date) -> bool:
        """Was a file with this content loaded on an earlier night? (The same night may load it again.)"""
        ledger = self.ledger()
        return ledger.filter((pl.col("sha256") == sha256) & (pl.col("night") < as_of.isoformat())).height > 0

    def recorded(self, sha256: str) -> bool:
        """Does the ledger hold this content (on any night)?"""
        return self.ledger().filter(pl.col("sha256") == sha256).height > 0

    def next_order(self, as_of: date) -> int:
        """The place after the last file the ledger holds for the night of `as_of` (0 for a new night)."""
        night = self.ledger().filter(pl.col("night") == as_of.isoformat())
        return 0 if night.height == 0 else int(night["order"].max()) + 1

    def digests(self, before: date | None = None) -> frozenset[str]:
        """The SHA-256 of every file the ledger holds (of nights before `before`, when given)."""
        ledger = self.ledger()
        if before is not None:
            ledger = ledger.filter(pl.col("night") < before.isoformat())
        return frozenset(ledger["sha256"])

    def to_record(self, loads: Sequence[FileLoad]) -> list[FileLoad]:
        """The loaded files the ledger does not hold yet, each content once, in the given order."""
        known = set(self.digests())
        fresh = []
        for load in loads:
            if load.status == "loaded" and load.sha256 not in known:
                known.add(load.sha256)
                fresh.append(load)
        return fresh

    def record(self, load: FileLoad, as_of: date, order: int) -> bool:
        """Append the file's loaded rows, then its ledger row; nothing when the ledger has the file already.
        Returns whether it recorded."""
        if self.recorded(load.sha256):
            return False
        self.record_rows([load], as_of, order)
        self.record_ledger([load], as_of, order)
        return True

    def record_rows(self, loads: Sequence[FileLoad], as_of: date, first_order: int) -> None:
        """Append the loaded rows of `loads` (the files of one night, the n-th with order `first_order + n`):
        one append per kind, after deleting any rows of these files left by a run killed before their
        ledger rows."""
        for load in loads:
            if not _is_hex(load.sha256):
                raise ValueError(f"not a SHA-256: {load.sha256!r}")
        history_schema.stamp(self.root)
        by_kind: dict[str, list[pl.DataFrame]] = {}
        for order, load in enumerate(loads, start=first_order):
            for n, sheet in enumerate(load.sheets):
                by_kind.setdefault(sheet.kind, []).append(
                    sheet.loaded.with_columns(
                        pl.lit(load.name).alias(SOURCE),
                        pl.lit(load.sha256).alias(SHA),
                        pl.lit(n, dtype=pl.Int64).alias(SHEET_N),
                        pl.lit(as_of.isoformat()).alias(NIGHT),
                        pl.lit(order, dtype=pl.Int64).alias(ORDER),
                    )
                )
        digests = [load.sha256 for load in loads]
        for kind, frames in by_kind.items():
            self._delete_unvouched(kind, digests)
            rows = pl.concat(frames, how="diagonal_relaxed")  # files list columns in their own order
            if rows.height:  # merge: a column a kind gained since the table was made is added to it
                rows.write_delta(str(self.table(kind)), mode="append", delta_write_options={"schema_mode": "merge"})

    def _delete_unvouched(self, kind: str, digests: Sequence[str]) -> None:
        table = self.table(kind)
        if not digests or not _exists(table):
            return
        left = pl.scan_delta(str(table)).filter(pl.col(SHA).is_in(list(digests))).select(pl.len()).collect().item()
        if left:  # the table's file statistics make this check cheap; a delete rewrites files
            listed = ", ".join(f"'{d}'" for d in digests)
            DeltaTable(str(table)).delete(f"{SHA} IN ({listed})")

    def record_ledger(self, loads: Sequence[FileLoad], as_of: date, first_order: int) -> None:
        """The ledger rows of `loads`, in one append: from here on these files count as loaded."""
        entries = pl.DataFrame(
            [{"sha256": load.sha256, "name": load.name, "night": as_of.isoformat(), "order": order,
              "kinds": load.kind, "rows_in": load.rows_in, "rows_loaded": load.rows_loaded,
              "rows_rejected": load.rows_rejected}
             for order, load in enumerate(loads, start=first_order)],
            schema=LEDGER_SCHEMA,
        )
        if entries.height:
            entries.write_delta(str(self.table("ledger")), mode="append")

    def inputs(self, as_of: date) -> Inputs:
        """Every row of files loaded on or before the night of `as_of`, oldest first. Each row is there once:
        `record_rows` deletes what a killed run left before appending a file again, and rows no ledger row
        vouches for are not read. The bookkeeping text (file name, sheet, SHA-256, night) stays in the tables:
        no rule reads it, and at group scale it was a third of a night's memory."""
        return self._scan(as_of, BOOKKEEPING)

    def rows_by_night(self, last: date) -> Inputs:
        """`inputs(last)` read once into memory, each row with the night that loaded it (`__night`): `as_stood`
        cuts it to any earlier night without reading the tables again (`genjin simulate` replays many)."""
        rows = self._scan(last, tuple(c for c in BOOKKEEPING if c != NIGHT))
        frames = pl.collect_all([getattr(rows, kind) for kind in KINDS])
        return Inputs(**{kind: frame.lazy() for kind, frame in zip(KINDS, frames, strict=True)})

    def nights(self) -> list[date]:
        """Every night the ledger holds a file for, oldest first."""
        return sorted({date.fromisoformat(night) for night in self.ledger()["night"]})

    def _scan(self, as_of: date, drop: tuple[str, ...]) -> Inputs:
        committed = self.ledger(as_of)["sha256"].implode()
        frames = {}
        for kind, empty in empty_inputs().items():
            schema = empty.with_columns(
                pl.lit(None, pl.String).alias(SHA), pl.lit(None, pl.Int64).alias(SHEET_N),
                pl.lit(None, pl.String).alias(NIGHT), pl.lit(None, pl.Int64).alias(ORDER),
            ).schema
            if not _exists(self.table(kind)):
                frames[kind] = pl.LazyFrame(schema=schema).drop(*_unread(kind, drop))
                continue
            # pinned to the table's version now: a LazyFrame of scan_delta reads the version current when it is
            # collected, and a night collects these frames at several times (the roster, the decisions, …)
            version = DeltaTable(str(self.table(kind))).version()
            stored = pl.scan_delta(str(self.table(kind)), version=version)
            present = stored.collect_schema()
            frames[kind] = (
                stored.filter(pl.col(SHA).is_in(committed))
                .select(  # the columns of today's schema, in its order and types: older tables may lack some
                    (pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype).alias(name))
                    for name, dtype in schema.items()
                )
                .sort(NIGHT, ORDER, SHEET_N, ROW)
                .drop(*_unread(kind, drop))
            )
        return Inputs(**frames)

    def record_plan(self, planned: pl.DataFrame, as_of: date) -> None:
        """The night's plan (`transforms.plan.plan_worklist`'s rows), replacing any stored for the same night."""
        history_schema.stamp(self.root)
        rows = planned.select(STORED_COLUMNS).with_columns(pl.lit(as_of).alias("night"))
        table = str(self.table("plans"))
        if _exists(self.table("plans")):
            rows.write_delta(table, mode="overwrite",
                             delta_write_options={"predicate": f"night = '{as_of.isoformat()}'"})
        else:
            rows.write_delta(table, mode="overwrite", delta_write_options={"partition_by": ["night"]})

    def previous_plan(self, as_of: date) -> pl.DataFrame:
        """The last plan stored for a night before `as_of` (PREVIOUS_SCHEMA); empty when there is none."""
        if not _exists(self.table("plans")):
            return pl.DataFrame(schema=PREVIOUS_SCHEMA)
        stored = pl.scan_delta(str(self.table("plans"))).filter(pl.col("night") < as_of)
        last = stored.select(pl.col("night").max()).collect().item()
        if last is None:
            return pl.DataFrame(schema=PREVIOUS_SCHEMA)
        return stored.filter(pl.col("night") == last).select(PREVIOUS_SCHEMA.keys()).collect().cast(PREVIOUS_SCHEMA)


def as_stood(rows: Inputs, night: date) -> Inputs:
    """`History.rows_by_night` as `History.inputs(night)` reads it: only rows of files loaded on or before
    `night` (the backfill rule), in the same order, without the `__night` column."""
    on_or_before = pl.col(NIGHT) <= night.isoformat()
    return Inputs(**{kind: getattr(rows, kind).filter(on_or_before).drop(NIGHT) for kind in KINDS})
