"""report.html in a real headless Chromium (Debian's `chromium`), driven over the DevTools protocol: it
renders every chart, its tables sort, and it raises no console error and makes no network request — opened
from `file://` with nothing served, under the page's own Content-Security-Policy.

A control page that does reach for the network and throws proves the harness would see it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.reports.test_report_html import write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    "--remote-debugging-port=0", "--window-size=1200,900",
)
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is missing: .ci/run installs it", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@dataclass
class Page:
    """One browser tab over the DevTools protocol; every event it sends is kept in `events`."""

    ws: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def settle(self, seconds: float = 0.5) -> None:
        """Collect what arrives in the next moment (late console messages)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                break

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, path: Path) -> None:
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        self.settle()

    def requests(self) -> list[str]:
        sent = [e for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return [e["params"]["request"]["url"] for e in sent]

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and log entries (CSP violations among them)."""
        found = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                thrown = params["exceptionDetails"].get("exception", {})
                found.append(f"exception: {thrown.get('description')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(f"log {params['entry']['source']}: {params['entry']['text']}")
        return found


@contextmanager
def chromium(tmp: Path) -> Iterator[Page]:
    profile = tmp / "profile"
    profile.mkdir()
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],  # type: ignore[list-item]
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def report(tmp_path_factory, policy) -> Path:
    out = tmp_path_factory.mktemp("out")
    write(policy, out / "2026-11-20", as_of=date(2026, 11, 20))  # an earlier night, for the trend chart
    return write(policy, out / "2026-11-23").report


def test_report_renders_offline_without_errors(report, tmp_path):
    with chromium(tmp_path) as page:
        page.open(report)
        assert page.problems() == []
        requests = page.requests()
        assert requests[0] == report.resolve().as_uri()  # the listener is live: it saw the page itself
        assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
        assert page.evaluate("document.title").startswith("跟进 KPI 报告")
        charts = page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth > 0, i.src.slice(0, 26)])"
        )
        assert charts == [[True, True, "data:image/svg+xml;base64,"]] * 7
        assert page.evaluate("document.body.dataset.sortable") == "ready"
        assert page.evaluate("document.querySelectorAll('table.sortable').length") >= 9

        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        png = tmp_path / "report.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        if keep := os.environ.get("GENJIN_SCREENSHOT_DIR"):
            shutil.copy(png, Path(keep) / "report.png")
        assert png.stat().st_size > 50_000
        assert page.problems() == []


def test_tables_sort_by_clicking_a_header(report, tmp_path):
    column = """Array.from(document.querySelectorAll('#kpi-group tbody tr'))
                .map(r => r.cells[1].dataset.v).map(v => v === '' ? null : Number(v))"""
    with chromium(tmp_path) as page:
        page.open(report)
        before = page.evaluate(column)
        page.evaluate("document.querySelectorAll('#kpi-group th')[1].click()")
        ascending = page.evaluate(column)
        page.evaluate("document.querySelectorAll('#kpi-group th')[1].click()")
        descending = page.evaluate(column)
        assert page.problems() == []
    numbers = [v for v in before if v is not None]
    assert ascending == sorted(numbers) + [None] * (len(before) - len(numbers))  # blanks last
    assert descending == sorted(numbers, reverse=True) + [None] * (len(before) - len(numbers))
    assert ascending != before or numbers == sorted(numbers)


def test_the_harness_sees_network_requests_and_errors(tmp_path):
    control = tmp_path / "control.html"
    control.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}"></head>'
        '<body><img src="http://127.0.0.1:9/pixel.png"><script>no_such_function()</script></body></html>',
        encoding="utf-8",
    )
    with chromium(tmp_path) as page:
        page.open(control)
        problems = page.problems()
    assert any("Content Security Policy" in p and "127.0.0.1:9" in p for p in problems), problems
    assert any("no_such_function" in p for p in problems), problems
