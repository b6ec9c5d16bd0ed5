"""Where genjin reads and writes. Everything it makes stays under these folders (SPEC §3, §9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Folders:
    drop: Path  # ops put files here; genjin only reads it and moves processed files out of it
    archive: Path  # archive/<as-of>/: every processed original, byte-identical, never overwritten
    quarantine: Path  # files that cannot be read at all, each with a .why.txt
    history: Path  # every loaded row of every night
    out: Path  # out/<as-of>/: the night's outputs

    @classmethod
    def beside(cls, drop: Path, out: Path | None = None) -> Folders:
        """The default layout: archive/, quarantine/ and history/ next to the drop folder."""
        root = drop.parent
        return cls(drop, root / "archive", root / "quarantine", root / "history", out or root / "out")
