"""Prefect settings genjin needs before prefect is imported: offline, quiet, and its own home."""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}

# the launched temporary server's own settings: no UI, ephemeral, and no block types registered at start — genjin
# keeps no blocks, and checking whether they changed imports every installed Prefect collection (prefect-dask:
# dask and distributed), ~2.7 s of CPU taken from the night's own start on a 2-core machine (issue #17, py-spy)
TEMPORARY_SERVER = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
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


def launch_temporary_server() -> bool:
    """Start Prefect's temporary server now, before Prefect is imported in this process, and point this process
    at it (PREFECT_API_URL): the server boots on the other core while the command imports what it needs, and
    this process never imports Prefect's server code (issue #17: an empty night is cheap). The same server
    Prefect would start itself (uvicorn on `prefect.server.api.server:create_app`, loopback, no UI), its output
    in `PREFECT_HOME/server.log`; stopped when this process exits. Only for a process that has not imported
    Prefect yet and has no server configured; False (nothing started) otherwise — then
    `start_temporary_server` starts Prefect's own, as before. Call `configure` first."""
    global _early
    if "prefect" in sys.modules or os.environ.get("PREFECT_API_URL") or _early is not None:
        return False
    spec = find_spec("prefect")
    home = os.environ.get("PREFECT_HOME")
    if spec is None or spec.origin is None or home is None:
        return False
    port = _free_port()
    log_path = Path(home) / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TEMPORARY_SERVER}
    with log_path.open("ab") as log:
        _early = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent), "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"],
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
                               f"(code {_early.returncode}); see PREFECT_HOME/server.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Prefect 临时服务器 {timeout:.0f} 秒内未就绪 / the temporary Prefect server did not answer "
                       f"within {timeout:.0f} s; see PREFECT_HOME/server.log")


def start_temporary_server() -> Path | None:
    """Make sure Prefect's temporary server is up: the one `launch_temporary_server` started (waited for), or
    else start it now, with its output going to `PREFECT_HOME/server.log` instead of the terminal: on shutdown
    it can print database tracebacks (CancelledError) that mean nothing to a user. Does nothing when a real
    server is configured (PREFECT_API_URL). Returns the log's path."""
    if _early is not None:
        _wait_for_early(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
        return Path(os.environ["PREFECT_HOME"]) / "server.log"
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
