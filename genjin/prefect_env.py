"""Prefect settings genjin needs before prefect is imported: offline, quiet, and its own home."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _output_to(log_path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at `log_path` for the block; a process started inside inherits them."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def start_temporary_server() -> Path | None:
    """Start Prefect's temporary server now, with its output going to `PREFECT_HOME/server.log` instead of the
    terminal: on shutdown it can print database tracebacks (CancelledError) that mean nothing to a user.
    Does nothing when a real server is configured (PREFECT_API_URL). Returns the log's path."""
    # Imported here, not at the top: genjin/cli.py imports this module to call configure() before Prefect is
    # imported at all, and Prefect's server code (FastAPI, SQLAlchemy) is not imported when a real server is used.
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    log_path = Path(PREFECT_HOME.value()) / "server.log"
    with _output_to(log_path):
        SubprocessASGIServer().start()
    return log_path
