"""Which of the night's files are duplicates (SPEC §3, issue #13): a file whose content was loaded before — on
an earlier night, or earlier the same night — loads nothing and is recorded as a `duplicate` of that first
load. Decided from the ledger (which file, which night, first loaded each content), not from names or sizes —
except that when a file and its copy (`- 副本`, ` (1)`, `复件`, `- Copy`) bring a new content in one night, the
original's name is the one loaded, whatever the order of their names."""

from __future__ import annotations

import re
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
COPY = "是「{name}」的副本（内容相同），只载入原文件 / a copy of '{name}' (the same content): only the original loads"
# how Windows, macOS, WPS and browsers name a copy, on the name without its suffix: 线索 - 副本, 线索 - 副本 (2),
# 线索 - Copy, 线索 (1), 复件 线索, 复件 (2) 线索, Copy of 线索, 线索 副本 2, 线索的副本, 线索 copy
COPY_NAMES = (
    r"\s*-\s*(副本|copy)(\s*\(\d+\))?$",
    r"\s\(\d+\)$",
    r"^(复件|副本|copy of)(\s*\(\d+\))?\s",
    r"(的副本|\s副本|\scopy)(\s*\d+)?$",
)
_COPY = re.compile("|".join(f"(?:{p})" for p in COPY_NAMES), re.IGNORECASE)


def is_copy_name(name: str) -> bool:
    """`线索 - 副本.csv`, `线索 (1).csv`, `复件 线索.csv`: a name the system gave a copy."""
    return bool(_COPY.search(Path(name).stem))


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
    `archive_night` is archive/<as-of>/. A content the ledger does not hold yet is loaded by its first file in
    the night's order whose name is not a copy's (`is_copy_name`), else by its first file."""
    tonight: dict[str, FileLoad] = {}  # each content the ledger does not hold: the file that loads it
    for load in loads:
        if load.status != "loaded" or load.sha256 in firsts:
            continue
        chosen = tonight.get(load.sha256)
        if chosen is None or (is_copy_name(chosen.name) and not is_copy_name(load.name)):
            tonight[load.sha256] = load
    seen = dict(firsts) | {sha: (load.name, as_of.isoformat()) for sha, load in tonight.items()}
    marked = []
    for load in loads:
        first = seen.get(load.sha256)
        if (load.status == "quarantined" or first is None or tonight.get(load.sha256) is load
                or (load.sha256 in firsts and _is_first(load, first, as_of, archive_night))):
            marked.append(load)
            continue
        name, night = first
        copy = load.sha256 in tonight and is_copy_name(load.name)
        marked.append(replace(load, sheets=[], skipped_sheets=[], status="duplicate",
                              why=(COPY if copy else DUPLICATE).format(name=name, night=night),
                              duplicate_of={"name": name, "night": night}))
    return marked
