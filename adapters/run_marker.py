"""Where a run is (issue #27): the running night or intraday pick-up writes its current stage to
`history/.genjin-run.json`, so that whoever tells ops about a failure — the flow's own state hooks, or the
`genjin serve` process that found the run's process gone (Prefect runs `on_crashed` there) — can say at which
stage it stopped. One small JSON file, replaced whole at each stage; never needed for the night itself, so a
history folder that cannot be written only costs the stage in the message."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MARKER_NAME = ".genjin-run.json"


def marker_path(history: Path) -> Path:
    return history / MARKER_NAME


def mark(history: Path, run_id: str, stage: str, **facts: Any) -> None:
    """Record that run `run_id` is now at `stage` (with `facts`: the night, the run's name)."""
    entry = {"run_id": run_id, "stage": stage, "at": datetime.now(UTC).isoformat(timespec="seconds"), **facts}
    path = marker_path(history)
    with contextlib.suppress(OSError):
        temporary = path.with_name(f"{MARKER_NAME}.{os.getpid()}")
        temporary.write_text(json.dumps(entry, ensure_ascii=False, default=str), encoding="utf-8")
        temporary.replace(path)


def stage_of(history: Path, run_id: str) -> str | None:
    """The last stage run `run_id` recorded, or None (another run's marker, none, or unreadable)."""
    try:
        entry = json.loads(marker_path(history).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("run_id") != run_id:
        return None
    stage = entry.get("stage")
    return stage if isinstance(stage, str) else None
