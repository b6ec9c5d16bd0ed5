"""Loopback HTTP servers playing the WeCom group robot and the DingTalk custom robot (issue #18): each records
the posts it got and answers from a script (`answers`, then `{"errcode": 0}`); the DingTalk one checks the
signature as DingTalk documents it (HMAC-SHA256 of "timestamp\\nsecret", base64) and answers 310000 when it
does not match or the timestamp is more than an hour off. `Inbox` is an aiosmtpd handler keeping what it got."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class RobotServer:
    kind: str  # "wecom" | "dingtalk"
    key: str = "test-key"
    secret: str | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)  # bodies of the posts answered errcode 0
    attempts: int = 0
    url: str = ""

    def answer(self, path: str, body: bytes) -> dict[str, Any]:
        self.attempts += 1
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.kind == "wecom":
            if parts.path != "/cgi-bin/webhook/send" or query.get("key") != self.key:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
        else:
            if parts.path != "/robot/send" or query.get("access_token") != self.key:
                return {"errcode": 300001, "errmsg": "token is not exist"}
            if self.secret is not None and not self._signed(query):
                return {"errcode": 310000, "errmsg": "sign not match"}
        try:
            message = json.loads(body.decode("utf-8"))
        except ValueError:
            return {"errcode": 40008, "errmsg": "invalid message"}
        if self.answers:
            return self.answers.pop(0)
        self.posts.append(message)
        return {"errcode": 0, "errmsg": "ok"}

    def _signed(self, query: dict[str, str]) -> bool:
        assert self.secret is not None
        stamp = query.get("timestamp", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600_000:
            return False
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        return hmac.compare_digest(query.get("sign", ""), expected)  # parse_qs has undone the urlencoding


@contextmanager
def robot_server(kind: str, **kw: Any) -> Iterator[RobotServer]:
    state = RobotServer(kind, **kw)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            data = json.dumps(state.answer(self.path, body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state.url = (f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={state.key}" if kind == "wecom"
                 else f"http://127.0.0.1:{port}/robot/send?access_token={state.key}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Inbox:
    """An aiosmtpd handler: every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        """The messages sent to `address`."""
        return [m for m in self.messages if address in str(m["To"])]
