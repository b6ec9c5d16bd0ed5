"""The weekly maintenance `genjin serve` deploys beside the night: the history's Delta tables compacted and
vacuumed (adapters/maintenance.py) under the run lock, on Sundays at 03:30 in the store's time zone — after the
02:00 night, before the day's pick-ups."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow

from adapters.lock import run_lock
from adapters.maintenance import DEFAULT_KEEP, maintain

MAINTAIN_CRON = "30 3 * * 0"
MAINTAIN_FLOW = "genjin-maintain-scheduled"
LOCK_WAIT_SECONDS = 3600.0  # a night that runs late finishes first


@flow(name=MAINTAIN_FLOW, log_prints=False)
def maintain_scheduled(history: str, keep_days: float = DEFAULT_KEEP.days) -> list[dict[str, Any]]:
    with run_lock(Path(history), wait_seconds=LOCK_WAIT_SECONDS):
        return [asdict(done) for done in maintain(Path(history), timedelta(days=keep_days))]
