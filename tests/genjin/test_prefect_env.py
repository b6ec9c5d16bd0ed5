"""genjin/prefect_env.py: `genjin run` starts Prefect's temporary server before the flow is imported (issue #17),
keeps its output off the terminal, and leaves no server process behind when the night ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def processes_with(home: Path) -> list[int]:
    """Process ids whose environment holds PREFECT_HOME=`home` (Linux /proc)."""
    found = []
    needle = f"PREFECT_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.slow  # a whole (empty) night with its own temporary Prefect server
def test_an_empty_night_starts_its_server_early_and_leaves_none_behind(tmp_path: Path) -> None:
    (tmp_path / "drop").mkdir()
    home = tmp_path / "prefect"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env |= {"HOME": str(tmp_path), "PREFECT_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from genjin.cli import main; "
         "code = main(sys.argv[1:]); print('server code imported:', 'prefect.server.api.server' in sys.modules); "
         "sys.exit(code)", "run", "--data-root", str(tmp_path), "--settle-seconds", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "server code imported: False" in proc.stdout  # the server ran in its own process, started early
    assert "uvicorn" not in proc.stdout + proc.stderr and "Starting temporary server" not in proc.stderr
    assert (home / "server.log").is_file()
    assert (tmp_path / "out").is_dir() and list((tmp_path / "out").glob("*/run.json"))
    assert processes_with(home) == []  # the server stopped with the night
