"""Mail delivery (SPEC §9): a small `Transport` interface — SMTP for real, a folder of `.eml` files for the
outbox — and the sent ledger that keeps a re-run from sending the same message twice.

The mail settings travel as a typed value, `MailSettings` (genjin.toml's `[mail]` or `GENJIN_*`, read by
genjin/settings.py), without the password: a flow parameter is stored by the Prefect server. The password is
read from the environment (`GENJIN_SMTP_PASSWORD`) only when an SMTP transport is made, and is never logged,
never part of a repr and never part of an error message: every failure becomes a `SendError` whose text is
safe to log and to write into run.json.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, Protocol

from adapters.failures import is_contained, one_line

log = logging.getLogger("genjin.mail")  # under the "genjin" logger: its warnings reach the run's console

LEDGER_NAME = "sent_mail.jsonl"
DEFAULT_SENDER = "genjin <genjin@localhost>"
Security = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
LOOPBACK = ("localhost", "127.0.0.1", "::1")
# One plain address: no spaces, no second @, nothing that could open another header or recipient. The same
# pattern serves Python's `re` and Polars' `str.contains`.
_PART = r"[^@\s<>()\[\],;:\"'\\]+"
ADDRESS_PATTERN = rf"^{_PART}@{_PART}\.{_PART}$"
_ADDRESS = re.compile(ADDRESS_PATTERN)


class MailConfigError(ValueError):
    """SMTP settings that cannot be used; the message names the variable, never a secret's value."""


class SendError(Exception):
    """One message was not delivered; its text is safe to log and to put in run.json."""


def is_address(text: object) -> bool:
    return isinstance(text, str) and _ADDRESS.match(text.strip()) is not None


def ledger_path(history: Path) -> Path:
    """Where the sent ledger lives: beside the history tables (`Folders.history`)."""
    return history / LEDGER_NAME


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient. `key` (as-of date + kind + recipient) is what the ledger remembers."""

    kind: str  # "advisor" (the worklist email) | "digest" (the manager's team digest)
    recipient_id: str  # advisor_id of the recipient
    to: str  # the address
    as_of: date
    message: EmailMessage
    filename: str  # where the outbox folder keeps it, relative: "S1.eml", "digest/M1.eml"

    @property
    def key(self) -> str:
        return f"{self.as_of.isoformat()}|{self.kind}|{self.recipient_id}|{self.to.strip().lower()}"


class Transport(Protocol):
    """Delivers messages one at a time; `send` raises `SendError` for a message that did not go out."""

    def send(self, item: Outgoing) -> None: ...

    def close(self) -> None: ...


# --- settings ---------------------------------------------------------------------------------------------

PASSWORD_ENV = "GENJIN_SMTP_PASSWORD"
ENV_NAMES = {"host": "GENJIN_SMTP_HOST", "port": "GENJIN_SMTP_PORT", "security": "GENJIN_SMTP_SECURITY",
             "user": "GENJIN_SMTP_USER", "sender": "GENJIN_MAIL_FROM", "ops_email": "GENJIN_OPS_EMAIL",
             "ops_email_always": "GENJIN_OPS_EMAIL_ALWAYS"}
TRUE = ("1", "true", "yes", "y", "是")


@dataclass(frozen=True)
class MailSettings:
    """Where the night's mail goes, as the settings give it — no password (see the module's docstring).
    Checked when a transport is made (`smtp_settings`): a value that cannot be used fails each message
    with why, it does not stop the night."""

    host: str | None = None
    port: int | None = None
    security: str | None = None  # none | starttls | ssl
    user: str | None = None
    sender: str | None = None  # the From header, e.g. "某某4S店 <crm@dealer.cn>"
    ops_email: str | None = None  # the ops email's address (reports/ops_email.py)
    ops_email_always: bool = False  # the ops email also on a clean night

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailSettings:
        """The `GENJIN_*` names (`ENV_NAMES`), as scripts and tests write them; a port that is not a number
        is kept out and reported by `smtp_settings`' check of the same names."""
        values: dict[str, Any] = {f: (env.get(name) or "").strip() or None for f, name in ENV_NAMES.items()}
        port = values["port"]
        values["port"] = int(port) if port and port.isdigit() else None
        values["ops_email_always"] = (values["ops_email_always"] or "").lower() in TRUE
        return cls(**values)

    def env(self) -> dict[str, str]:
        """The settings under their `GENJIN_*` names (no password)."""
        values = {name: getattr(self, f) for f, name in ENV_NAMES.items() if f != "ops_email_always"}
        env = {name: str(v) for name, v in values.items() if v is not None}
        if self.ops_email_always:
            env[ENV_NAMES["ops_email_always"]] = "true"
        return env

    @property
    def outbox_sender(self) -> str:
        """The From header of messages that are only written to the outbox."""
        return (self.sender or "").strip() or DEFAULT_SENDER


def password_from(env: Mapping[str, str]) -> str | None:
    """The SMTP password, from the environment only (never from a file, never a parameter)."""
    return env.get(PASSWORD_ENV) or None  # not stripped: a password may end in a space


def smtp_settings(settings: MailSettings, password: str | None) -> SmtpSettings:
    """The SMTP connection `settings` and `password` describe; `MailConfigError` says what is missing or
    wrong, under the setting's `GENJIN_*` name."""
    return SmtpSettings.from_env(settings.env() | ({PASSWORD_ENV: password} if password else {}))


def smtp_transport(settings: MailSettings, password: str | None) -> tuple[Transport, str]:
    """The SMTP transport and sender for `settings`; settings that cannot be used give a transport that
    records every message as failed, with why (the run goes on)."""
    try:
        smtp = smtp_settings(settings, password)
    except MailConfigError as err:
        return Unavailable(f"邮件设置有误 / mail settings: {err}"), settings.outbox_sender
    return SmtpTransport(smtp), smtp.sender


def transport_for(settings: MailSettings, send: bool, env: Mapping[str, str] | None = None,
                  ) -> tuple[Transport | None, str]:
    """The transport and the From header: with `send`, SMTP as `settings` and the environment's password
    (`env`, default `os.environ`) describe; without, none (the outbox only)."""
    if not send:
        return None, settings.outbox_sender
    return smtp_transport(settings, password_from(os.environ if env is None else env))


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    sender: str  # the From header, e.g. "某某4S店 <crm@dealer.cn>"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        """GENJIN_SMTP_HOST (required), GENJIN_SMTP_PORT (default by security: 25 / 587 / 465),
        GENJIN_SMTP_SECURITY (none | starttls | ssl, default starttls), GENJIN_SMTP_USER and
        GENJIN_SMTP_PASSWORD (both or neither), GENJIN_MAIL_FROM (default: the user, when it is an
        address)."""

        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        host = get("GENJIN_SMTP_HOST")
        if not host:
            raise MailConfigError("GENJIN_SMTP_HOST 未设置 / is not set: the mail server to send through")
        security = get("GENJIN_SMTP_SECURITY").lower() or "starttls"
        if security not in DEFAULT_PORTS:
            raise MailConfigError(f"GENJIN_SMTP_SECURITY 应为 none、starttls 或 ssl / "
                                  f"must be none, starttls or ssl, got {security!r}")
        port_text = get("GENJIN_SMTP_PORT")
        if not port_text:
            port = DEFAULT_PORTS[security]
        elif port_text.isdigit() and 0 < int(port_text) < 65536:
            port = int(port_text)
        else:
            raise MailConfigError(f"GENJIN_SMTP_PORT 应为端口号 / must be a port number, got {port_text!r}")
        user = get("GENJIN_SMTP_USER") or None
        password = password_from(env)
        if user and not password:
            raise MailConfigError("GENJIN_SMTP_USER 已设置但 GENJIN_SMTP_PASSWORD 未设置 / "
                                  "GENJIN_SMTP_USER is set but GENJIN_SMTP_PASSWORD is not")
        if password and not user:
            raise MailConfigError("GENJIN_SMTP_PASSWORD 已设置但 GENJIN_SMTP_USER 未设置 / "
                                  "GENJIN_SMTP_PASSWORD is set but GENJIN_SMTP_USER is not")
        if user and security == "none" and host.lower() not in LOOPBACK:
            raise MailConfigError("不加密时不发送密码 / refusing to send the password unencrypted: "
                                  "set GENJIN_SMTP_SECURITY to starttls or ssl")
        sender = get("GENJIN_MAIL_FROM") or (user if is_address(user) else "")
        if not sender:
            raise MailConfigError("GENJIN_MAIL_FROM 未设置 / is not set: the sender address, e.g. "
                                  "'某某4S店 <crm@dealer.cn>'")
        if not is_address(parseaddr(sender)[1]):
            raise MailConfigError(f"GENJIN_MAIL_FROM 不是邮箱地址 / is not an email address: {sender!r}")
        return cls(host=host, port=port, security=security, sender=sender, user=user,  # type: ignore[arg-type]
                   password=password)


# --- transports -------------------------------------------------------------------------------------------


class OutboxFolder:
    """Writes each message as an `.eml` file under `folder` (what a run without `--send` does)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, item: Outgoing) -> None:
        path = (self.folder / item.filename).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise ValueError(f"outbox file name leaves the outbox: {item.filename!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.message.as_bytes())

    def close(self) -> None:
        pass


class Unavailable:
    """Every message fails with the same reason (e.g. the SMTP settings are missing); the ledger records
    each, so the next run retries them."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def send(self, item: Outgoing) -> None:
        raise SendError(self.reason)

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP session for the whole batch. Connecting is tried `attempts` times with a short backoff; once
    the server cannot be reached, or refuses the login, the rest of the batch fails at once with the same
    reason (the ledger has them retried on the next run). A refused recipient fails that message only."""

    def __init__(self, settings: SmtpSettings, *, attempts: int = 3, backoff: Sequence[float] = (1.0, 2.0),
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        self.settings = settings
        self.attempts = max(1, attempts)
        self.backoff = tuple(backoff) or (0.0,)
        self._sleep = sleep
        self._conn: smtplib.SMTP | None = None
        self._down: str | None = None

    def __repr__(self) -> str:
        return f"SmtpTransport({self.settings!r})"

    def send(self, item: Outgoing) -> None:
        for last_try in (False, True):
            conn = self._connection()
            try:
                refused = conn.send_message(item.message, from_addr=self.settings.sender_address,
                                            to_addrs=[item.to.strip()])
            except smtplib.SMTPRecipientsRefused as err:
                reasons = "; ".join(f"{_reply(code, text)}" for code, text in err.recipients.values())
                raise SendError(self._safe(f"收件人被拒 / recipient refused: {reasons}")) from None
            except smtplib.SMTPSenderRefused as err:
                reply = _reply(err.smtp_code, err.smtp_error)
                raise SendError(self._safe(f"发件人被拒 / sender refused: {reply}")) from None
            except smtplib.SMTPDataError as err:
                reply = _reply(err.smtp_code, err.smtp_error)
                raise SendError(self._safe(f"邮件被拒 / message refused: {reply}")) from None
            except smtplib.SMTPNotSupportedError as err:  # e.g. a non-ASCII address, no SMTPUTF8
                raise SendError(self._safe(f"服务器不支持 / not supported: {_describe(err)}")) from None
            except OSError as err:  # the session broke (disconnected, reset, 421): reconnect once
                self._drop()
                if last_try:
                    raise SendError(self._safe(f"发送中断 / connection lost while sending: {_describe(err)}")
                                    ) from None
                continue
            except Exception as err:  # anything else about this one message must not stop the others
                raise SendError(self._safe(f"无法发送 / cannot send: {_describe(err)}")) from None
            if refused:
                raise SendError(self._safe(f"收件人被拒 / recipient refused: {refused}"))
            return

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def _connection(self) -> smtplib.SMTP:
        if self._down:
            raise SendError(self._down)
        if self._conn is not None:
            return self._conn
        s = self.settings
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff[min(attempt - 1, len(self.backoff) - 1)])
            try:
                self._conn = self._open()
                return self._conn
            except smtplib.SMTPAuthenticationError as err:  # a wrong password does not get better by retrying
                self._down = self._safe(f"SMTP 认证失败 / authentication refused by {s.host}:{s.port}: "
                                        f"{_reply(err.smtp_code, err.smtp_error)}")
                raise SendError(self._down) from None
            except smtplib.SMTPNotSupportedError as err:
                reason = f"服务器不支持 / not supported by {s.host}:{s.port}: {_describe(err)}"
                self._down = self._safe(reason)
                raise SendError(self._down) from None
            except OSError as err:  # refused, timed out, TLS failed, 4xx greeting (SMTPException too)
                last = _describe(err)
                log.info("SMTP connect attempt %d/%d to %s:%d failed: %s", attempt + 1, self.attempts,
                         s.host, s.port, self._safe(last))
            except Exception as err:  # not a network problem: retrying will not help
                reason = f"无法使用邮件服务器 / cannot use {s.host}:{s.port}: {_describe(err)}"
                self._down = self._safe(reason)
                raise SendError(self._down) from None
        self._down = self._safe(f"无法连接邮件服务器 / cannot connect to {s.host}:{s.port} "
                                f"({self.attempts} attempts): {last}")
        raise SendError(self._down)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if s.security == "ssl":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.user and s.password:
                self._login(conn, s.user, s.password)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
        """smtplib sends credentials as ASCII only; others go as UTF-8 in AUTH PLAIN (RFC 4616)."""
        if (user + password).isascii():
            conn.login(user, password)
            return
        if not conn.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
        code, reply = conn.docmd("AUTH", "PLAIN " + _b64(f"\0{user}\0{password}"))
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _safe(self, text: str) -> str:
        """The text with the password — plain or as it travels in AUTH PLAIN / LOGIN — blanked out."""
        s = self.settings
        if not s.password:
            return text
        secrets = {s.password, _b64(s.password), _b64(f"\0{s.user or ''}\0{s.password}")}
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


def _describe(err: BaseException) -> str:
    if isinstance(err, smtplib.SMTPResponseException):
        return _reply(err.smtp_code, err.smtp_error)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


# --- the sent ledger --------------------------------------------------------------------------------------


class SentLedger:
    """An append-only JSON-lines file: one line per attempt, `status` sent or failed. A key that was sent
    once is never sent again; a failed one is tried again by the next run that builds the same message. Each
    line is flushed to disk right after the attempt, so a crash loses at most the line of the message in
    flight."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a crash
                continue
            if isinstance(entry, dict) and "key" in entry:
                found.append(entry)
        return found

    def sent_keys(self) -> set[str]:
        return {e["key"] for e in self.entries() if e.get("status") == "sent"}

    def record(self, item: Outgoing, status: Literal["sent", "failed"], error: str | None = None) -> None:
        self.append({
            "key": item.key, "as_of": item.as_of.isoformat(), "kind": item.kind,
            "recipient_id": item.recipient_id, "to": item.to, "status": status, "error": error,
            "message_id": item.message.get("Message-ID"),
        })

    def append(self, entry: dict[str, Any]) -> None:
        """One attempt (`key`, `status` sent | failed, and what else says what it was — never content)."""
        entry = entry | {"at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


# --- one batch --------------------------------------------------------------------------------------------


NOT_MADE = "邮件无法生成 / the message could not be made"


def not_made(err: BaseException) -> str:
    """run.json's `emails.failed` error of a message that could not be built or written."""
    return f"{NOT_MADE}: {one_line(err)}"


def unsent(failed: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """The failures of `failed` that sending again could mend: the transport's, not a message never made."""
    return [f for f in failed if not f.get("error", "").startswith(NOT_MADE)]


@dataclass
class Delivery:
    written: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)


def dispatch(items: Iterable[Outgoing], outbox: Transport, transport: Transport | None = None,
             ledger: SentLedger | None = None) -> Delivery:
    """Every message goes to the outbox; with a transport, each one the ledger has not seen sent is sent too.
    A message that fails is recorded and reported, and the others go on."""
    result = Delivery()
    written = []
    for item in items:
        try:
            outbox.send(item)
        except BaseException as err:  # this message cannot be made: the others still go (adapters/failures.py)
            if not is_contained(err):
                raise
            result.failed.append({"to": item.to, "error": not_made(err)})
            continue
        written.append(item)
        result.written += 1
    items = written
    if transport is None:
        return result
    if ledger is None:
        raise ValueError("sending needs a sent ledger")
    done = ledger.sent_keys()
    try:
        for item in items:
            if item.key in done:
                result.already_sent += 1
                continue
            try:
                transport.send(item)
            except SendError as err:
                ledger.record(item, "failed", str(err))
                result.failed.append({"to": item.to, "error": str(err)})
                log.warning("邮件未发出 / not sent: %s to %s: %s", item.kind, item.to, err)
                continue
            ledger.record(item, "sent")
            done.add(item.key)
            result.sent += 1
    finally:
        transport.close()
    return result
