"""Sending for real: a real SMTP server (aiosmtpd) on loopback that requires AUTH. Messages and attachments
arrive, a server that is down is retried by the next run, a refused login or recipient is recorded and not
raised, and a re-run never sends a message twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from adapters import mail
from adapters.mail import MailSettings
from flows.night_mail import deliver
from policy.model import Policy, load_policy
from tests.mail_night import ROSTER, Night, free_port, night_frames, parse, write_night

AS_OF = date(2026, 11, 23)
USER, PASSWORD = "crm@dealer.cn", "s3cret-密码 "  # smtplib itself only sends ASCII credentials
ASCII_PASSWORD = "plain-ascii-s3cret"
REFUSED = "nobody@dealer.cn"
# aiosmtpd warns when AUTH is required without TLS; on loopback that is what the brief asks for.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@dataclass
class Inbox:
    """What the server received: (envelope sender, recipients, raw message, login) per message."""

    received: list[tuple[str, list[str], bytes, str | None]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == REFUSED:
            return "550 5.1.1 <nobody@dealer.cn>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.authenticated else None
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login))
        return "250 Message accepted"

    def to(self) -> list[str]:
        return sorted(r for _, rcpts, _, _ in self.received for r in rcpts)

    def message_to(self, address: str) -> list[EmailMessage]:
        return [parse(raw) for _, rcpts, raw, _ in self.received if address in rcpts]


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) in (
        (USER.encode(), PASSWORD.encode()), (USER.encode(), ASCII_PASSWORD.encode())
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture
def server() -> Iterator[Callable[[int], Inbox]]:
    """`server(port)` starts an SMTP server that requires AUTH on 127.0.0.1:port."""
    started: list[Controller] = []

    def start(port: int) -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                                auth_required=True, auth_require_tls=False)
        controller.start()
        started.append(controller)
        return inbox

    yield start
    for controller in started:
        controller.stop()


def env(port: int, **changes: str) -> dict[str, str]:
    return {
        "GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(port), "GENJIN_SMTP_SECURITY": "none",
        "GENJIN_SMTP_USER": USER, "GENJIN_SMTP_PASSWORD": PASSWORD,
        "GENJIN_MAIL_FROM": "某某4S店 <crm@dealer.cn>",
    } | changes


@pytest.fixture(scope="module")
def frames(policy: Policy) -> tuple[pl.DataFrame, pl.DataFrame]:
    return night_frames(policy)


@pytest.fixture
def night(tmp_path: Path, frames: tuple[pl.DataFrame, pl.DataFrame], policy: Policy) -> Night:
    return write_night(tmp_path / "out" / "2026-11-23", frames, policy)


def run(night: Night, environment: dict[str, str], ledger: Path, **kw: Any) -> dict[str, Any]:
    """One night's mail sent, the settings and the password as `environment` gives them."""
    kw.setdefault("transport", mail.transport_for(MailSettings.from_env(environment), True, environment)[0])
    return deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, ledger, True,
                   MailSettings.from_env(environment), load_policy(), **kw)


def quick(environment: dict[str, str]) -> mail.SmtpTransport:
    """The real SMTP transport with a backoff short enough for a test."""
    return mail.SmtpTransport(mail.SmtpSettings.from_env(environment), backoff=(0.01, 0.02))


def ledger_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_messages_and_attachments_arrive(night: Night, server: Callable[[int], Inbox],
                                         tmp_path: Path) -> None:
    port = free_port()
    inbox = server(port)
    result = run(night, env(port), tmp_path / "history" / mail.LEDGER_NAME)
    assert result == {"written": 3, "sent": 3, "already_sent": 0, "failed": [], "without_email": ["S4", "V1"]}
    assert inbox.to() == ["m1@dealer.cn", "m1@dealer.cn", "s1@dealer.cn"]
    assert {(sender, login) for sender, _, _, login in inbox.received} == {("crm@dealer.cn", USER)}
    (s1,) = inbox.message_to("s1@dealer.cn")
    assert s1["Subject"] == "【跟进清单】2026-11-23 张三 · 今日 3 位客户"
    assert s1["From"] == "某某4S店 <crm@dealer.cn>"
    (workbook,) = s1.iter_attachments()
    assert workbook.get_filename() == "跟进计划 11-23 张三.xlsx"
    assert workbook.get_payload(decode=True) == night.workbooks["S1"].read_bytes()
    digest, worklist = sorted(inbox.message_to("m1@dealer.cn"), key=lambda m: m["Subject"])
    assert worklist["Subject"] == "【跟进清单】2026-11-23 王经理 · 今日 1 位客户"
    assert digest["Subject"] == "【团队日报】王经理 11-23：逾期 6 项（共 8 项），转交给您 1 位"
    (report,) = digest.iter_attachments()
    assert report.get_filename() == "KPI 报告 11-23 浦东店.html"
    assert report.get_payload(decode=True) == b"<html>KPI</html>"
    assert "194****7822" in digest.get_body(("plain",)).get_content()
    outbox = night.run_dir / "outbox"  # the outbox keeps a copy of what was sent
    assert parse((outbox / "S1.eml").read_bytes())["Message-ID"] == s1["Message-ID"]


def test_an_ascii_password_logs_in_the_usual_way(night: Night, server: Callable[[int], Inbox],
                                                  tmp_path: Path) -> None:
    port = free_port()
    inbox = server(port)
    result = run(night, env(port, GENJIN_SMTP_PASSWORD=ASCII_PASSWORD), tmp_path / mail.LEDGER_NAME)
    assert (result["sent"], result["failed"]) == (3, [])
    assert {login for *_, login in inbox.received} == {USER}


def test_without_credentials_a_server_that_requires_them_refuses_each_message(
    night: Night, server: Callable[[int], Inbox], tmp_path: Path
) -> None:
    port = free_port()
    inbox = server(port)
    anonymous = env(port, GENJIN_SMTP_USER="", GENJIN_SMTP_PASSWORD="")
    result = run(night, anonymous, tmp_path / mail.LEDGER_NAME)
    assert result["sent"] == 0 and inbox.received == []
    refused = "发件人被拒 / sender refused: 530 5.7.0 Authentication required"
    assert [f["error"] for f in result["failed"]] == [refused] * 3


def test_a_server_that_is_down_is_retried_by_the_next_run(night: Night, server: Callable[[int], Inbox],
                                                          tmp_path: Path) -> None:
    port = free_port()
    ledger = tmp_path / "history" / mail.LEDGER_NAME
    first = run(night, env(port), ledger, transport=quick(env(port)))
    assert (first["written"], first["sent"]) == (3, 0)
    assert [f["to"] for f in first["failed"]] == ["m1@dealer.cn", "s1@dealer.cn", "m1@dealer.cn"]
    assert all(f"cannot connect to 127.0.0.1:{port} (3 attempts)" in f["error"] for f in first["failed"])
    assert [e["status"] for e in ledger_lines(ledger)] == ["failed"] * 3

    inbox = server(port)
    second = run(night, env(port), ledger, transport=quick(env(port)))
    assert (second["sent"], second["already_sent"], second["failed"]) == (3, 0, [])
    assert inbox.to() == ["m1@dealer.cn", "m1@dealer.cn", "s1@dealer.cn"]

    third = run(night, env(port), ledger)
    assert (third["sent"], third["already_sent"], third["failed"]) == (0, 3, [])
    assert len(inbox.received) == 3  # no duplicates
    assert [e["status"] for e in ledger_lines(ledger)] == ["failed"] * 3 + ["sent"] * 3


def test_a_server_that_comes_up_during_the_backoff_gets_the_mail(night: Night, server: Callable[[int], Inbox],
                                                                 tmp_path: Path) -> None:
    port = free_port()
    inboxes: list[Inbox] = []
    transport = mail.SmtpTransport(mail.SmtpSettings.from_env(env(port)), backoff=(0.01,),
                                   sleep=lambda _: inboxes.append(server(port)))
    result = run(night, env(port), tmp_path / mail.LEDGER_NAME, transport=transport)
    assert (result["sent"], result["failed"]) == (3, [])
    assert len(inboxes) == 1 and len(inboxes[0].received) == 3


def test_a_refused_login_is_recorded_not_raised_and_the_password_stays_secret(
    night: Night, server: Callable[[int], Inbox], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    inbox = server(port)
    ledger = tmp_path / mail.LEDGER_NAME
    wrong = env(port, GENJIN_SMTP_PASSWORD="not-the-password")
    with caplog.at_level(logging.DEBUG, logger="genjin.mail"):
        result = run(night, wrong, ledger)
    assert result["sent"] == 0
    assert len(result["failed"]) == 3
    refused = "SMTP 认证失败 / authentication refused by 127.0.0.1:"
    assert all(f["error"].startswith(refused) for f in result["failed"])
    assert "535" in result["failed"][0]["error"]
    assert inbox.received == []
    everything = json.dumps(result, ensure_ascii=False) + ledger.read_text(encoding="utf-8") + caplog.text
    assert "not-the-password" not in everything
    assert "bm90LXRoZS1wYXNzd29yZA" not in everything  # nor in base64, as AUTH sends it

    again = run(night, env(port), ledger)  # the right password on the next run
    assert (again["sent"], again["failed"]) == (3, [])


def test_a_refused_recipient_does_not_stop_the_others(tmp_path: Path, server: Callable[[int], Inbox],
                                                      policy: Policy) -> None:
    roster = [ROSTER[0], ROSTER[1] | {"email": REFUSED}, *ROSTER[2:]]
    night = write_night(tmp_path / "2026-11-23", night_frames(policy, roster), policy)
    port = free_port()
    inbox = server(port)
    ledger = tmp_path / mail.LEDGER_NAME
    result = run(night, env(port), ledger)
    assert result["sent"] == 2
    assert result["failed"] == [
        {"to": REFUSED,
         "error": "收件人被拒 / recipient refused: 550 5.1.1 <nobody@dealer.cn>: mailbox unavailable"},
    ]
    assert inbox.to() == ["m1@dealer.cn", "m1@dealer.cn"]
    again = run(night, env(port), ledger)  # retried, refused again, the others not sent twice
    assert (again["sent"], again["already_sent"], [f["to"] for f in again["failed"]]) == (0, 2, [REFUSED])
    assert len(inbox.received) == 2


def test_missing_settings_fail_every_message_without_stopping_the_run(night: Night, tmp_path: Path) -> None:
    ledger = tmp_path / mail.LEDGER_NAME
    result = run(night, {"GENJIN_SMTP_PASSWORD": PASSWORD}, ledger)
    assert result["written"] == 3 and result["sent"] == 0
    assert {f["error"] for f in result["failed"]} == {
        "邮件设置有误 / mail settings: GENJIN_SMTP_HOST 未设置 / is not set: the mail server to send through"
    }
    assert len((night.run_dir / "outbox" / "S1.eml").read_bytes()) > 0
    assert PASSWORD not in ledger.read_text(encoding="utf-8")


# --- settings from the environment ------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = mail.SmtpSettings.from_env({"GENJIN_SMTP_HOST": "smtp.dealer.cn", "GENJIN_SMTP_USER": USER,
                                           "GENJIN_SMTP_PASSWORD": PASSWORD})
    assert (settings.host, settings.port, settings.security, settings.sender) == (
        "smtp.dealer.cn", 587, "starttls", USER)
    assert mail.SmtpSettings.from_env({"GENJIN_SMTP_HOST": "h.cn", "GENJIN_SMTP_SECURITY": "SSL",
                                       "GENJIN_MAIL_FROM": "a@b.cn"}).port == 465
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(mail.SmtpTransport(settings))


@pytest.mark.parametrize(("changes", "problem"), [
    ({"GENJIN_SMTP_HOST": ""}, "GENJIN_SMTP_HOST"),
    ({"GENJIN_SMTP_PORT": "25x"}, "GENJIN_SMTP_PORT"),
    ({"GENJIN_SMTP_PORT": "70000"}, "GENJIN_SMTP_PORT"),
    ({"GENJIN_SMTP_SECURITY": "tls1.3"}, "GENJIN_SMTP_SECURITY"),
    ({"GENJIN_SMTP_PASSWORD": ""}, "GENJIN_SMTP_PASSWORD is not"),
    ({"GENJIN_SMTP_USER": ""}, "GENJIN_SMTP_USER is not"),
    ({"GENJIN_MAIL_FROM": "", "GENJIN_SMTP_USER": "crm"}, "GENJIN_MAIL_FROM"),
    ({"GENJIN_MAIL_FROM": "crm at dealer"}, "GENJIN_MAIL_FROM"),
    ({"GENJIN_SMTP_HOST": "smtp.dealer.cn"}, "unencrypted"),  # security none to a remote host
])
def test_bad_settings_name_the_variable_and_never_the_password(changes: dict[str, str], problem: str) -> None:
    with pytest.raises(mail.MailConfigError, match=problem) as err:
        mail.SmtpSettings.from_env(env(25) | changes)
    assert PASSWORD.strip() not in str(err.value)
