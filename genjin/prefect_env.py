"""Prefect settings genjin needs before prefect is imported: offline, quiet, and its own home."""

from __future__ import annotations

import os
from pathlib import Path

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}


def configure(home: Path | None = None) -> None:
    """Set Prefect's environment unless the user already set it."""
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    if home is not None and "PREFECT_HOME" not in os.environ:
        home.mkdir(parents=True, exist_ok=True)  # prefect creates its home but not the folders above it
        os.environ["PREFECT_HOME"] = str(home)
