"""A small night with mail to write, shared by the email tests (tests/reports/test_email_message.py), the mail
wiring's (tests/flows/test_night_mail.py) and SMTP's (tests/adapters/test_mail_smtp.py); and a loopback SMTP
server that keeps what it got (`smtp`: the inbox and its port). The fixtures `frames`, `night` and `smtp` reach
every test module (`pytest_plugins` in tests/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import polars as pl
import pytest
from aiosmtpd.controller import Controller

from adapters.mail import MailSettings
from policy.model import Policy
from reports.workbook import write_advisor_workbook
from tests.conftest import ADVISORS, AS_OF, lead, make_inputs, ro, sale
from tests.robot_servers import Inbox
from transforms.night import prepare
from transforms.plan import advisor_plans, plan_night
from transforms.worklist import worklist_from

PRICE = "287600"
ROSTER = [
    ADVISORS[0] | {"email": "m1@dealer.cn"},  # M1 王经理, manager of the store
    ADVISORS[1] | {"email": "s1@dealer.cn"},  # S1 张三
    ADVISORS[2] | {"email": "s2@dealer.cn"},  # S2 李四, left: his customers go to M1
    ADVISORS[3],  # V1 赵六, no address
    {"advisor_id": "S4", "name": "钱八", "store": "浦东店", "role": "销售顾问", "active": "是",
     "manager_id": "M1", "email": "qianba at dealer.cn"},
]
NO_MAIL = MailSettings()  # the outbox only: no SMTP settings


@dataclass(frozen=True)
class Night:
    worklist: pl.DataFrame
    advisors: pl.DataFrame
    workbooks: dict[str, Path]
    run_dir: Path


def night_frames(policy: Policy, roster: list[dict] = ROSTER) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A small night's worklist and roster: S1 has two new leads and a delivery follow-up, M1 an orphaned lead
    of S2, S4 a lead, V1 a complaint; the sale carries a price that must never leave the sales file. The phones
    are of the 14x, 15x, 16x and 19x blocks (154 and 194 are numbers phonenumbers does not know)."""
    inputs = make_inputs(
        leads=[
            lead("L1", customer_name="陈先生", phone="19459690635"),
            lead("L2", customer_name="<b>=cmd|' /C calc'!A0</b>", phone="16612348002"),
            lead("L3", customer_name="孙先生", phone="19459697822", advisor_id="S2",
                 created_at="2026-11-19 09:00"),  # overdue, not yet stale (7 days)
            lead("L4", customer_name="周女士", phone="15412348007", advisor_id="S4"),
        ],
        sales=[sale("O1", ordered_at="2026-11-01", phone="14512348003", customer_name="王先生",
                    delivered_at="2026-11-20", price=PRICE)],
        service=[ro("R1", phone="16212348006", customer_name="吴先生", complaint="是")],
        advisors=roster,
    )
    night = prepare(inputs, policy, AS_OF)
    return plan_night(worklist_from(night, policy, AS_OF), night, policy, AS_OF), inputs.advisors.collect()


def write_night(run_dir: Path, frames: tuple[pl.DataFrame, pl.DataFrame], policy: Policy) -> Night:
    """The night's workbooks and report.html under `run_dir`, as the flow writes them before the mail."""
    worklist, advisors = frames
    folder = run_dir / "worklists"
    folder.mkdir(parents=True)
    workbooks = {
        advisor_id: write_advisor_workbook(rows, AS_OF, folder / f"{advisor_id}.xlsx", policy.talk_tracks)
        for (advisor_id,), rows in advisor_plans(worklist, policy).group_by("advisor_id")
    }
    (run_dir / "report.html").write_text("<html>KPI</html>", encoding="utf-8")
    return Night(worklist, advisors, workbooks, run_dir)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def bodies(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content() + msg.get_body(("html",)).get_content()


@pytest.fixture(scope="module")
def frames(policy: Policy) -> tuple[pl.DataFrame, pl.DataFrame]:
    return night_frames(policy)


@pytest.fixture
def night(tmp_path: Path, frames: tuple[pl.DataFrame, pl.DataFrame], policy: Policy) -> Night:
    return write_night(tmp_path / "2026-11-23", frames, policy)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free loopback port, no authentication: its inbox and port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
