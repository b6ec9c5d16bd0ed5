"""Which of the night's files are duplicates (SPEC §3, issue #13): a file whose content was loaded before — on
an earlier night, or earlier the same night — loads nothing and is recorded as a `duplicate` of that first
load. Decided from the ledger (which file, which night, first loaded each content), not from names or sizes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl

from adapters import archive
from adapters.ingest import FileLoad
from adapters.readers import shown_name

DUPLICATE = ("与 {night} 已载入的文件「{name}」内容相同，不重复载入 / "
             "same content as '{name}', loaded {night}: not loaded again")


def first_loads(ledger: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """sha256 → (name, night) of each content's first load; `ledger` is `History.ledger(as_of)`."""
    return {sha: (name, night) for sha, name, night in ledger.select("sha256", "name", "night").iter_rows()}


def _is_first(load: FileLoad, first: tuple[str, str], as_of: date, archive_night: Path) -> bool:
    """The ledger's first load of tonight's content: the original of that name, archived tonight — or still in
    the drop folder when the run that recorded it was killed before moving it."""
    name, night = first
    archived = archive.fit_name(name)  # a long name is archived cut to fit (adapters/archive.py)
    if night != as_of.isoformat() or load.name not in (name, shown_name(archived)):
        return False
    return load.path.parent == archive_night or not (archive_night / archived).exists()


def mark_duplicates(loads: Sequence[FileLoad], firsts: dict[str, tuple[str, str]], as_of: date,
                    archive_night: Path) -> list[FileLoad]:
    """`loads` in the night's order, each duplicate marked (its rows let go, so it loads nothing);
    `archive_night` is archive/<as-of>/. A content the ledger does not hold yet is first loaded by its first
    file in the night's order."""
    seen = dict(firsts)
    marked = []
    for load in loads:
        first = seen.get(load.sha256)
        if load.status == "quarantined" or first is None or _is_first(load, first, as_of, archive_night):
            if load.status == "loaded" and first is None:
                seen[load.sha256] = (load.name, as_of.isoformat())
            marked.append(load)
            continue
        name, night = first
        marked.append(replace(load, sheets=[], skipped_sheets=[], status="duplicate",
                              why=DUPLICATE.format(name=name, night=night),
                              duplicate_of={"name": name, "night": night}))
    return marked
