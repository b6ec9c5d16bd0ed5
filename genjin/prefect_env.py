"""Prefect as the user configured it (issue #27), and what genjin needs before Prefect is imported.

- The Prefect server: `PREFECT_API_URL` from the environment, else genjin.toml's `prefect_api_url`, else what
  Prefect itself finds (a `.env` or `prefect.toml` in the current folder, the active profile of the user's
  Prefect home, `prefect config set PREFECT_API_URL=…`). With none of these, `genjin run` starts a temporary
  server of its own (`prefect server start` on a free loopback port) for the night.
- Prefect's home: the user's (`PREFECT_HOME`, or `~/.prefect` when it holds a profiles file); genjin's own
  (`~/.genjin/prefect`) only for a user who has never configured Prefect.
- Logging: genjin's records go to the runs' logs through Prefect's own setting
  `PREFECT_LOGGING_EXTRA_LOGGERS=genjin`, at Prefect's own `PREFECT_LOGGING_LEVEL`.

Only public Prefect settings are set, each only when the user has not set it."""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # genjin's records outside a run (the CLI's own)
}
EXTRA_LOGGERS = "PREFECT_LOGGING_EXTRA_LOGGERS"
GENJIN_HOME = Path.home() / ".genjin" / "prefect"

# The temporary server `genjin run` starts: `prefect server start` with its public settings, no UI, no block types
# registered at start — genjin keeps no blocks, and checking whether they changed imports every installed Prefect
# collection (prefect-dask: dask and distributed), ~2.7 s of CPU taken from the night's own start on a 2-core
# machine (issue #17, py-spy) — and none of the services that only serve deployments (scheduling, late runs,
# workers, cancellation, pauses): a night run by hand has no deployment. The services that record what the run
# does (events, task runs, logs) stay on.
TEMPORARY_SERVER = {
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
}


def user_home(env: Mapping[str, str] | None = None) -> Path | None:
    """The Prefect home the user configured: PREFECT_HOME, else ~/.prefect when it holds a profiles file (any
    `prefect config set` writes one); None for a user who never configured Prefect."""
    env = os.environ if env is None else env
    if env.get("PREFECT_HOME"):
        return Path(env["PREFECT_HOME"]).expanduser()
    default = Path.home() / ".prefect"
    if env.get("PREFECT_PROFILES_PATH") or (default / "profiles.toml").is_file():
        return default
    return None


def configure(home: Path | None = None) -> None:
    """Set Prefect's environment unless the user already set it: quiet offline defaults, genjin's records in the
    runs' logs, and Prefect's home `home` only when the user has none (`user_home`)."""
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    extra = [name for name in os.environ.get(EXTRA_LOGGERS, "").split(",") if name.strip()]
    os.environ[EXTRA_LOGGERS] = ",".join([*extra, *(["genjin"] if "genjin" not in extra else [])])
    if home is not None and user_home() is None:
        home.mkdir(parents=True, exist_ok=True)  # prefect creates its home but not the folders above it
        os.environ["PREFECT_HOME"] = str(home)


def profile_api_url(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """The active Prefect profile's PREFECT_API_URL and where it is ("profile 'local' (~/.prefect/profiles.toml)"),
    read as Prefect reads it: PREFECT_PROFILES_PATH, else PREFECT_HOME/profiles.toml; PREFECT_PROFILE, else the
    file's `active`."""
    env = os.environ if env is None else env
    home = Path(env["PREFECT_HOME"]).expanduser() if env.get("PREFECT_HOME") else Path.home() / ".prefect"
    path = Path(env["PREFECT_PROFILES_PATH"]).expanduser() if env.get("PREFECT_PROFILES_PATH") else \
        home / "profiles.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = env.get("PREFECT_PROFILE") or str(data.get("active") or "ephemeral")
    profile = data.get("profiles", {}).get(name, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return (str(url), f"Prefect profile {name!r} ({path})") if url else None


# where Prefect also looks, in the current folder, and what in each could name a server
LOCAL_FILES = {".env": "PREFECT_API_URL", "prefect.toml": "", "pyproject.toml": "[tool.prefect"}


def api_url(configured: str | None = None, env: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The Prefect server genjin will use and where that comes from: PREFECT_API_URL, else genjin.toml's
    `prefect_api_url` (`configured`), else the active Prefect profile's; (None, why) when none is set."""
    env = os.environ if env is None else env
    if env.get("PREFECT_API_URL"):
        return env["PREFECT_API_URL"], "PREFECT_API_URL"
    if configured:
        return configured, "genjin.toml: prefect_api_url"
    found = profile_api_url(env)
    if found:
        return found
    return None, "无：`genjin run` 自己启动临时服务器 / none: `genjin run` starts a temporary server"


def use_api_url(configured: str | None) -> None:
    """genjin.toml's `prefect_api_url`, for Prefect, unless PREFECT_API_URL is set already (it wins)."""
    if configured and not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_API_URL"] = configured


@contextmanager
def _output_to(log_path: Path, fds: tuple[int, ...] = (1, 2)) -> Iterator[None]:
    """Point file descriptors `fds` (default stdout and stderr) at `log_path` for the block; a process started
    inside inherits them."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    with log_path.open("ab") as log:
        for fd in fds:
            os.dup2(log.fileno(), fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip(fds, saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)


def errors_to(log_path: Path) -> contextlib.AbstractContextManager[None]:
    """stderr into `log_path` for the block: what Prefect's console handler writes (its records, tracebacks
    included) goes to the night's log file, and the terminal keeps genjin's own lines (stdout)."""
    return _output_to(log_path, (2,))


_early: subprocess.Popen[bytes] | None = None  # the temporary server `launch_temporary_server` started


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_early() -> None:
    """Stop the launched server at exit: asked to terminate, killed if it is still there after 5 s."""
    global _early
    if _early is not None:
        _early.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _early.wait(timeout=5)
        _early.kill()  # nothing happens to a process already gone
        _early.wait()
    _early = None


def server_configured(env: Mapping[str, str] | None = None, folder: Path | None = None) -> bool:
    """Whether a Prefect server may be configured for this process: PREFECT_API_URL, the active profile's, or a
    file in the current folder where Prefect also looks (then Prefect's own reading decides)."""
    env = os.environ if env is None else env
    folder = Path.cwd() if folder is None else folder
    return bool(env.get("PREFECT_API_URL")) or profile_api_url(env) is not None or any(
        _mentions(folder / name, text) for name, text in LOCAL_FILES.items())


def _mentions(path: Path, text: str) -> bool:
    try:
        return path.is_file() and text in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def launch_temporary_server() -> bool:
    """Start a temporary Prefect server now, before Prefect is imported in this process, and point this process
    at it (PREFECT_API_URL): the server boots on the other core while the command imports what it needs, and
    this process never imports Prefect's server code (issue #17: an empty night is cheap). It is Prefect's own
    `prefect server start` on a free loopback port with the public settings of `TEMPORARY_SERVER`, its output
    in `PREFECT_HOME/server.log`; stopped when this process exits. Only for a process that has not imported
    Prefect yet and has no server configured (`server_configured`); False (nothing started) otherwise — then
    `start_temporary_server` leaves it to Prefect. Call `configure` first."""
    global _early
    if "prefect" in sys.modules or server_configured() or _early is not None:
        return False
    home = os.environ.get("PREFECT_HOME") or str(Path.home() / ".prefect")
    if find_spec("prefect") is None:
        return False
    port = _free_port()
    log_path = Path(home) / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TEMPORARY_SERVER}
    with log_path.open("ab") as log:
        _early = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui", "--analytics-off"],
            env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    atexit.register(_stop_early)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    return True


def _wait_for_early(timeout: float) -> None:
    """Until the launched server answers /health; a server that exited or never answered is an error."""
    assert _early is not None
    url = os.environ["PREFECT_API_URL"] + "/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _early.poll() is not None:
            raise RuntimeError(f"Prefect 临时服务器未能启动 / the temporary Prefect server exited "
                               f"(code {_early.returncode}); see {_server_log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Prefect 临时服务器 {timeout:.0f} 秒内未就绪 / the temporary Prefect server did not answer "
                       f"within {timeout:.0f} s; see {_server_log()}")


def _server_log() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect") / "server.log"


def start_temporary_server() -> Path | None:
    """Make sure Prefect's temporary server is up: the one `launch_temporary_server` started (waited for), or
    else start it now, with its output going to `PREFECT_HOME/server.log` instead of the terminal: on shutdown
    it can print database tracebacks (CancelledError) that mean nothing to a user. Does nothing when a real
    server is configured (PREFECT_API_URL). Returns the log's path."""
    if _early is not None:
        _wait_for_early(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
        return _server_log()
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
