"""The history of every loaded row across nights, so that a night's worklist sees everything dropped on
earlier nights (SPEC §3). One Parquet file per loaded sheet under history/<kind>/, and a ledger entry per
loaded file (history/ledger/<sha256>.json) written last: a file counts as loaded only once its ledger entry
exists, so a run killed half-way loads the file again and overwrites the same Parquet names."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from genjin.ingest import SOURCE, FileLoad, empty_inputs
from transforms.frames import Inputs

NIGHT = "__night"  # the as-of date of the night that loaded the row
ORDER = "__order"  # the position of its file in that night's processing order


@dataclass(frozen=True)
class History:
    root: Path

    @property
    def ledger(self) -> Path:
        return self.root / "ledger"

    def entry(self, sha256: str) -> dict[str, Any] | None:
        path = self.ledger / f"{sha256}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def record(self, load: FileLoad, as_of: date, order: int) -> None:
        """Store the file's loaded rows, then its ledger entry."""
        for n, sheet in enumerate(load.sheets):
            folder = self.root / sheet.kind
            folder.mkdir(parents=True, exist_ok=True)
            frame = sheet.loaded.with_columns(
                pl.lit(load.path.name).alias(SOURCE),
                pl.lit(as_of.isoformat()).alias(NIGHT),
                pl.lit(order).alias(ORDER),
            )
            _atomic_parquet(frame, folder / f"{load.sha256}-{n}.parquet")
        self.ledger.mkdir(parents=True, exist_ok=True)
        entry = {"sha256": load.sha256, "name": load.path.name, "night": as_of.isoformat(), "order": order,
                 "sheets": len(load.sheets), "kinds": [s.kind for s in load.sheets]}
        _atomic_text(json.dumps(entry, ensure_ascii=False), self.ledger / f"{load.sha256}.json")

    def inputs(self, as_of: date) -> Inputs:
        """Every row loaded on or before the night of `as_of`, oldest first: no later night leaks in."""
        committed = {}
        if self.ledger.exists():
            for path in self.ledger.glob("*.json"):
                entry = json.loads(path.read_text(encoding="utf-8"))
                if entry["night"] <= as_of.isoformat():
                    committed[entry["sha256"]] = entry
        frames = {}
        for kind, empty in empty_inputs().items():
            files = [
                p for p in sorted((self.root / kind).glob("*.parquet"))
                if p.stem.rsplit("-", 1)[0] in committed
            ]
            parts = [empty.with_columns(pl.lit(None, pl.String).alias(NIGHT), pl.lit(None, pl.Int64).alias(ORDER))]
            parts += [pl.read_parquet(p) for p in files]
            frames[kind] = pl.concat(parts, how="diagonal_relaxed").sort(NIGHT, ORDER, "__row").lazy()
        return Inputs(**frames)


def _atomic_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def _atomic_text(text: str, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
