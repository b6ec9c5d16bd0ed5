"""The night's outputs appear all at once (issue #5): they are built in a hidden sibling folder
`OUT/.<as-of>.partial-<pid>` and swapped into `OUT/<as-of>` at the end — the old folder is renamed aside to
`OUT/.<as-of>.old-<pid>`, the new one renamed in, the aside copy removed. So `OUT/<as-of>` is always either
the previous complete night or the new complete night, never half-written.

A run killed part-way leaves hidden folders only; the next run of that night removes them (and puts an aside
copy back when it was killed between the two renames). Hidden folders are not dates, so nothing that lists the
nights (`reports.kpi_json.read_earlier_kpis`) reads them. Callers hold the run lock (`adapters.lock`)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path


def final_dir(out: Path, as_of: date) -> Path:
    return out / as_of.isoformat()


def _leftovers(out: Path, as_of: date, kind: str) -> list[Path]:
    prefix = f".{as_of.isoformat()}.{kind}-"
    return sorted(p for p in out.iterdir() if p.name.startswith(prefix)) if out.is_dir() else []


def start(out: Path, as_of: date) -> Path:
    """Clean up what a killed run of this night left, and make an empty partial folder to build in."""
    out.mkdir(parents=True, exist_ok=True)
    final = final_dir(out, as_of)
    asides = _leftovers(out, as_of, "old")
    if asides and not final.exists():
        asides[-1].rename(final)  # killed between "rename the old aside" and "rename the new in"
    for leftover in _leftovers(out, as_of, "partial") + _leftovers(out, as_of, "old"):
        shutil.rmtree(leftover, ignore_errors=True)
    partial = out / f".{as_of.isoformat()}.partial-{os.getpid()}"
    partial.mkdir()
    return partial


def publish(partial: Path, out: Path, as_of: date) -> Path:
    """Swap the finished partial folder in as `OUT/<as-of>`."""
    final = final_dir(out, as_of)
    aside = out / f".{as_of.isoformat()}.old-{os.getpid()}"
    if final.exists():
        final.rename(aside)
    partial.rename(final)
    if aside.exists():
        shutil.rmtree(aside)
    return final
