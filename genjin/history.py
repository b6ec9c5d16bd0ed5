"""The history of every loaded row across nights (SPEC §3, issue #5), in Delta Lake tables.

- `history/<kind>`: every loaded row, appended, with where it came from (`__file`, `__sha256`, `__sheet_n`,
  `__row`) and the night that loaded it (`__night`, `__order` = the file's place in that night's order).
- `history/ledger`: one row per loaded file, appended after its rows. A file counts as loaded only once its
  ledger row exists. A run killed between the rows and the ledger row leaves rows no ledger row vouches for:
  they are never read, and the next run deletes them before appending the file's rows again, so the tables
  hold each row once. A file the ledger already has is not recorded again (a re-run of the night).
  Reads also dedupe by source key (SHA-256, sheet, row), so a row can never count twice.

A night reads the rows of files loaded on or before it, oldest first, so that a later row for the same key
wins and a backfill (`--as-of` in the past) sees the history as it stood then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from genjin.ingest import KINDS, SOURCE, FileLoad, empty_inputs
from schemas.validate import ROW
from transforms.frames import Inputs

NIGHT = "__night"
ORDER = "__order"
SHA = "__sha256"
SHEET_N = "__sheet_n"
SOURCE_KEY = (SHA, SHEET_N, ROW)
LEDGER_SCHEMA = {
    "sha256": pl.String, "name": pl.String, "night": pl.String, "order": pl.Int64,
    "kinds": pl.String, "rows_in": pl.Int64, "rows_loaded": pl.Int64, "rows_rejected": pl.Int64,
}


def _is_hex(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _exists(table: Path) -> bool:
    return (table / "_delta_log").is_dir()


@dataclass(frozen=True)
class History:
    root: Path

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

    def record(self, load: FileLoad, as_of: date, order: int) -> bool:
        """Append the file's loaded rows, then its ledger row; nothing when the ledger has the file already.
        Returns whether it recorded."""
        if self.recorded(load.sha256):
            return False
        self.record_rows(load, as_of, order)
        self.record_ledger(load, as_of, order)
        return True

    def record_rows(self, load: FileLoad, as_of: date, order: int) -> None:
        """Append the file's loaded rows, after deleting any left by a run killed before the ledger row."""
        if not _is_hex(load.sha256):
            raise ValueError(f"not a SHA-256: {load.sha256!r}")
        for kind in dict.fromkeys(s.kind for s in load.sheets):
            if _exists(self.table(kind)):
                DeltaTable(str(self.table(kind))).delete(f"{SHA} = '{load.sha256}'")
        for n, sheet in enumerate(load.sheets):
            if sheet.loaded.height == 0:
                continue
            rows = sheet.loaded.with_columns(
                pl.lit(load.path.name).alias(SOURCE),
                pl.lit(load.sha256).alias(SHA),
                pl.lit(n, dtype=pl.Int64).alias(SHEET_N),
                pl.lit(as_of.isoformat()).alias(NIGHT),
                pl.lit(order, dtype=pl.Int64).alias(ORDER),
            )
            rows.write_delta(str(self.table(sheet.kind)), mode="append")

    def record_ledger(self, load: FileLoad, as_of: date, order: int) -> None:
        entry = pl.DataFrame(
            [{"sha256": load.sha256, "name": load.path.name, "night": as_of.isoformat(), "order": order,
              "kinds": load.kind, "rows_in": load.rows_in, "rows_loaded": load.rows_loaded,
              "rows_rejected": load.rows_rejected}],
            schema=LEDGER_SCHEMA,
        )
        entry.write_delta(str(self.table("ledger")), mode="append")

    def inputs(self, as_of: date) -> Inputs:
        """Every row of files loaded on or before the night of `as_of`, oldest first, each once."""
        committed = self.ledger(as_of).select(pl.col("sha256").alias(SHA)).lazy()
        frames = {}
        empties = empty_inputs()
        for kind in KINDS:
            empty = empties[kind].with_columns(
                pl.lit(None, pl.String).alias(SHA), pl.lit(None, pl.Int64).alias(SHEET_N),
                pl.lit(None, pl.String).alias(NIGHT), pl.lit(None, pl.Int64).alias(ORDER),
            ).lazy()
            if _exists(self.table(kind)):
                stored = pl.scan_delta(str(self.table(kind))).join(committed, on=SHA, how="semi")
                rows = pl.concat([empty, stored], how="diagonal_relaxed")
            else:
                rows = empty
            frames[kind] = rows.unique(subset=list(SOURCE_KEY), keep="first", maintain_order=True).sort(
                NIGHT, ORDER, SHEET_N, ROW
            )
        return Inputs(**frames)
