"""Group-chat robots (issue #18): a WeCom (企业微信) group robot webhook and a DingTalk (钉钉) custom robot, per
store, behind one small interface (`Robot.post`), and the batch that posts messages once each.

- WeCom: `POST <webhook>` (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`), JSON
  `{"msgtype": "markdown", "markdown": {"content": …}}`. Its markdown cannot @-mention by mobile; a message
  that mentions an advisor goes as `text` with `mentioned_mobile_list`. Throttled: errcode 45009.
- DingTalk: `POST <webhook>&timestamp=<ms>&sign=<base64 HMAC-SHA256 of "timestamp\\nsecret">` (the robot's
  加签 security setting), JSON `{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles"}}`;
  the mobile must also appear as `@138…` in the text. Throttled: errcode 130101 (send too fast), 660026,
  410100. A wrong signature is 310000.
- Both allow 20 messages a minute per robot: `RateLimit` spaces posts so that no 60 s window holds more, and a
  throttle answer is waited out (`backoff`) and tried again; other errors fail that message (`SendError`).

The webhook URL (it holds the robot's key) and the DingTalk secret come from the environment only, named in the
settings (`[robots."<store>"]`), and never appear in a log line, an error or run.json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from adapters.mail import SendError, SentLedger

log = logging.getLogger("genjin.robots")  # under the "genjin" logger, as genjin.mail

Channel = Literal["wecom", "dingtalk"]
PER_MINUTE = 20
THROTTLED: dict[str, frozenset[int]] = {"wecom": frozenset({45009}), "dingtalk": frozenset({130101, 660026, 410100})}
LEDGER_NAME = "sent_alerts.jsonl"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class GroupMessage:
    """One post to one store's group. `key` is what the ledger remembers; `mobiles` are @-mentioned."""

    key: str
    store: str
    kind: str  # "alert" | "overdue" | "summary"
    title: str
    markdown: str
    text: str  # the same in plain text (WeCom's text message, which can @-mention by mobile)
    mobiles: tuple[str, ...] = ()


class Robot(Protocol):
    channel: Channel

    def post(self, message: GroupMessage) -> None:
        """Raises `SendError` (safe to log) when the message did not go out."""


@dataclass
class RateLimit:
    """At most `per_minute` posts in any 60 s: `wait()` sleeps until the next post may go."""

    per_minute: int = PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Any] = time.sleep
    sent: deque[float] = field(default_factory=deque)

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= 60:
            self.sent.popleft()
        if len(self.sent) >= self.per_minute:
            self.sleep(60 - (now - self.sent[0]))
            self.sent.popleft()
        self.sent.append(self.clock())


class WebhookRobot:
    """The HTTP part both robots share: a JSON POST, the 20-a-minute limit, throttle answers retried."""

    channel: Channel

    def __init__(self, url: str, *, limit: RateLimit | None = None, backoff: Sequence[float] = (30.0, 60.0),
                 timeout: float = 10.0, sleep: Callable[[float], Any] = time.sleep) -> None:
        self._url = url
        self.limit = limit or RateLimit(sleep=sleep)
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self._sleep = sleep

    def __repr__(self) -> str:  # the URL holds the key
        return f"{type(self).__name__}(***)"

    def body(self, message: GroupMessage) -> dict[str, Any]:
        raise NotImplementedError

    def url(self) -> str:
        return self._url

    def post(self, message: GroupMessage) -> None:
        payload = json.dumps(self.body(message), ensure_ascii=False).encode("utf-8")
        for wait in (*self.backoff, None):
            self.limit.wait()
            code, text = self._send(payload)
            if code == 0:
                return
            if code in THROTTLED[self.channel] and wait is not None:
                log.warning("%s 机器人限流，%s 秒后重试 / throttled (errcode %s), retrying in %s s",
                            self.channel, wait, code, wait)
                self._sleep(wait)
                continue
            raise SendError(f"{self.channel} errcode {code}: {text}")

    def _send(self, payload: bytes) -> tuple[int, str]:
        request = urllib.request.Request(self.url(), data=payload, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            raise SendError(f"{self.channel} HTTP {err.code}") from None
        except (urllib.error.URLError, OSError) as err:  # the reason, never the URL
            reason = getattr(err, "reason", err)
            raise SendError(f"{self.channel} 无法连接 / cannot connect: {type(reason).__name__}") from None
        except (ValueError, UnicodeDecodeError):
            raise SendError(f"{self.channel} 应答不是 JSON / answer is not JSON") from None
        if not isinstance(answer, dict):
            raise SendError(f"{self.channel} 应答无效 / unexpected answer")
        return int(answer.get("errcode", -1)), str(answer.get("errmsg", ""))[:200]


class WeComRobot(WebhookRobot):
    channel: Channel = "wecom"

    def body(self, message: GroupMessage) -> dict[str, Any]:
        if message.mobiles:
            return {"msgtype": "text", "text": {"content": message.text,
                                                "mentioned_mobile_list": list(message.mobiles)}}
        return {"msgtype": "markdown", "markdown": {"content": message.markdown}}


class DingTalkRobot(WebhookRobot):
    channel: Channel = "dingtalk"

    def __init__(self, url: str, secret: str | None = None, *, clock: Callable[[], float] = time.time,
                 **kw: Any) -> None:
        super().__init__(url, **kw)
        self._secret = secret
        self._clock = clock

    def url(self) -> str:
        if not self._secret:
            return self._url
        timestamp = str(int(self._clock() * 1000))
        return f"{self._url}&timestamp={timestamp}&sign={sign(timestamp, self._secret)}"

    def body(self, message: GroupMessage) -> dict[str, Any]:
        mentions = " ".join(f"@{m}" for m in message.mobiles)
        text = f"{message.markdown}\n\n{mentions}" if mentions else message.markdown
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text},
                "at": {"atMobiles": list(message.mobiles), "isAtAll": False}}


def sign(timestamp: str, secret: str) -> str:
    """DingTalk's 加签: urlencode(base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


# --- configuration: which store posts where --------------------------------------------------------------


class RobotConfig(BaseModel):
    """One store's robot, as the settings name it (`[robots."浦东店"]` in genjin.toml): the channel and the
    names of the environment variables that hold the webhook URL and (DingTalk, 加签) the secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    webhook_env: str = Field(pattern=ENV_NAME.pattern)
    secret_env: str | None = Field(None, pattern=ENV_NAME.pattern)

    def __init__(self, channel: Channel, webhook_env: str, secret_env: str | None = None, **kw: Any) -> None:
        super().__init__(channel=channel, webhook_env=webhook_env, secret_env=secret_env, **kw)

    def shown(self) -> str:
        return f"{self.channel} ({self.webhook_env}{', ' + self.secret_env if self.secret_env else ''})"


def robots_from(config: Mapping[str, RobotConfig], env: Mapping[str, str],
                **kw: Any) -> tuple[dict[str, Robot], list[str]]:
    """The robot of each configured store, and what is missing (a variable not set), in Chinese and English."""
    robots: dict[str, Robot] = {}
    missing = []
    for store, c in config.items():
        url = env.get(c.webhook_env, "").strip()
        if not url:
            missing.append(f"{store}: 未设置 / not set: {c.webhook_env}")
            continue
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):  # never file:// or the like
            missing.append(f"{store}: {c.webhook_env} 不是 https 地址 / is not an https URL")
            continue
        if c.channel == "wecom":
            robots[store] = WeComRobot(url, **kw)
        else:
            secret = env.get(c.secret_env, "").strip() if c.secret_env else ""
            if c.secret_env and not secret:
                missing.append(f"{store}: 未设置 / not set: {c.secret_env}")
                continue
            robots[store] = DingTalkRobot(url, secret or None, **kw)
    return robots, missing


# --- one batch --------------------------------------------------------------------------------------------


@dataclass
class Posts:
    sent: int = 0
    already_sent: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    no_robot: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "already_sent": self.already_sent, "failed": self.failed,
                "no_robot": self.no_robot}


def post_all(messages: Iterable[GroupMessage], robots: Mapping[str, Robot], ledger: SentLedger) -> Posts:
    """Each message its ledger has not seen sent goes to its store's robot; a failure is recorded (and tried
    again by the next run that builds the same message) and the others go on."""
    done = ledger.sent_keys()
    result = Posts()
    for message in messages:
        robot = robots.get(message.store)
        if robot is None:
            result.no_robot += 1
            continue
        if message.key in done:
            result.already_sent += 1
            continue
        entry = {"key": message.key, "kind": message.kind, "store": message.store, "channel": robot.channel}
        try:
            robot.post(message)
        except SendError as err:
            ledger.append(entry | {"status": "failed", "error": str(err)})
            result.failed.append({"store": message.store, "kind": message.kind, "error": str(err)})
            log.warning("群消息未发出 / not posted: %s to %s: %s", message.kind, message.store, err)
            continue
        ledger.append(entry | {"status": "sent", "error": None})
        done.add(message.key)
        result.sent += 1
    return result
