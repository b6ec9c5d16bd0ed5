"""genjin/prefect_env.py: `genjin run` starts Prefect's temporary server before the flow is imported (issue #17),
keeps its output off the terminal, and leaves no server process behind when the night ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genjin import prefect_env

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


# --- Prefect as the user configured it (issue #27) -----------------------------------------------------------


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user with no PREFECT_* in the environment and a HOME of their own."""
    for key in list(os.environ):
        if key.startswith("PREFECT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def profile(home: Path, text: str) -> Path:
    path = home / ".prefect" / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_genjins_own_prefect_home_only_for_a_user_without_one(bare: Path) -> None:
    prefect_env.configure(bare / "genjin-home")
    assert os.environ["PREFECT_HOME"] == str(bare / "genjin-home")
    assert os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] == "genjin"
    assert "PREFECT_LOGGING_LEVEL" not in os.environ  # Prefect's own level (INFO), not a forced WARNING


def test_a_users_profile_keeps_prefects_home_and_names_the_server(bare: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = profile(bare, 'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://10.0.0.9:4200/api"\n'
                         '[profiles.ephemeral]\nPREFECT_SERVER_EPHEMERAL_ENABLED = "true"\n')
    monkeypatch.setenv("PREFECT_LOGGING_EXTRA_LOGGERS", "dask")
    prefect_env.configure(bare / "genjin-home")
    assert "PREFECT_HOME" not in os.environ  # ~/.prefect, the user's: its profile is read
    assert os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] == "dask,genjin"
    assert prefect_env.api_url() == ("http://10.0.0.9:4200/api", f"Prefect profile 'local' ({path})")
    assert prefect_env.server_configured()
    # genjin.toml's prefect_api_url beats the profile, PREFECT_API_URL beats both
    assert prefect_env.api_url("http://genjin:4200/api") == ("http://genjin:4200/api",
                                                             "genjin.toml: prefect_api_url")
    monkeypatch.setenv("PREFECT_API_URL", "http://env:4200/api")
    assert prefect_env.api_url("http://genjin:4200/api") == ("http://env:4200/api", "PREFECT_API_URL")
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    monkeypatch.delenv("PREFECT_API_URL")
    assert prefect_env.api_url()[0] is None  # the ephemeral profile names no server


def test_a_prefect_file_in_the_current_folder_leaves_the_server_to_prefect(bare: Path) -> None:
    assert not prefect_env.server_configured()
    (bare / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert not prefect_env.server_configured()  # a pyproject without [tool.prefect] says nothing
    (bare / ".env").write_text("PREFECT_API_URL=http://10.0.0.9:4200/api\n", encoding="utf-8")
    assert prefect_env.server_configured()


def test_genjin_sets_no_private_prefect_settings() -> None:
    """PREFECT__* are Prefect's internal variables for its own subprocess server, not settings: an upgrade may
    drop or change them silently. genjin's code names none (its temporary server is `prefect server start`)."""
    sources = [p for folder in ("genjin", "flows", "adapters", "reports") for p in (REPO / folder).rglob("*.py")]
    assert sources and [p for p in sources if "PREFECT__" in p.read_text(encoding="utf-8")] == []
