"""The advisor's email and the night's outbox (no mail server): what each message holds, who gets one, and
that nobody gets another advisor's customers or a price."""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import polars as pl
import pytest

from adapters.mail import MailSettings
from flows.night_mail import deliver
from policy.model import Policy
from reports.email_message import advisor_message, subject
from reports.recipients import XLSX, Recipient
from reports.workbook import write_advisor_workbook
from tests.conftest import ADVISORS, AS_OF, lead, make_inputs, ro, sale
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
    of S2, S4 a lead, V1 a complaint; the sale carries a price that must never leave the sales file."""
    inputs = make_inputs(
        leads=[
            lead("L1", customer_name="陈先生", phone="13800138001"),
            lead("L2", customer_name="<b>=cmd|' /C calc'!A0</b>", phone="13800138002"),
            lead("L3", customer_name="孙先生", phone="13800138005", advisor_id="S2",
                 created_at="2026-11-19 09:00"),  # overdue, not yet stale (7 days)
            lead("L4", customer_name="周女士", phone="13800138007", advisor_id="S4"),
        ],
        sales=[sale("O1", ordered_at="2026-11-01", phone="13800138003", customer_name="王先生",
                    delivered_at="2026-11-20", price=PRICE)],
        service=[ro("R1", phone="13800138006", customer_name="吴先生", complaint="是")],
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


def test_the_night_has_what_the_tests_below_expect(night: Night) -> None:
    tasks = set(night.worklist.select("advisor_id", "customer_name", "task_type").iter_rows())
    assert tasks == {
        ("S1", "陈先生", "first_contact"), ("S1", "<b>=cmd|' /C calc'!A0</b>", "first_contact"),
        ("S1", "王先生", "post_delivery_d1"), ("S1", "王先生", "post_delivery_d3"),
        ("M1", "孙先生", "first_contact"), ("S4", "周女士", "first_contact"), ("V1", "吴先生", "complaint"),
        ("V1", "吴先生", "post_service_revisit"),
    }


def test_the_advisor_email(night: Night, policy: Policy) -> None:
    mine = advisor_plans(night.worklist, policy).filter(pl.col("advisor_id") == "S1")
    to = Recipient("S1", "张三", "s1@dealer.cn")
    msg = parse(advisor_message(to, mine, night.workbooks["S1"], AS_OF, "某某4S店 <crm@dealer.cn>", waiting=7)
                .as_bytes())
    assert msg["Subject"] == "【跟进清单】2026-11-23 张三 · 今日 3 位客户 · 另有 7 位待安排"
    assert subject(AS_OF, "张三", 3, 0) == "【跟进清单】2026-11-23 张三 · 今日 3 位客户"
    assert msg["From"] == "某某4S店 <crm@dealer.cn>"
    assert msg["To"] == "张三 <s1@dealer.cn>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@dealer.cn>")
    assert msg.get_content_type() == "multipart/mixed"
    text = msg.get_body(("plain",)).get_content()
    assert "2026-11-23 今天请联系这 3 位客户，已按先后排好。另有 7 位客户可以晚几天联系" in text
    lines = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    # two new leads first (a lead past its first-contact time), then the delivery revisits (window closing)
    assert [line.split("】")[0] for line in lines] == ["1. 【立即处理", "2. 【立即处理", "3. 【即将错过"]
    assert {line.split("】")[1].split(" · ")[0] for line in lines[:2]} == {
        "陈先生 138 0013 8001", "<b>=cmd|' /C calc'!A0</b> 138 0013 8002"}
    assert lines[2] == "3. 【即将错过】王先生 138 0013 8003 · 交车1天回访、交车3天回访"
    # d1 is due 11-21, open 7 days: 11-28; d3 due 11-23: 11-30 — each with its task, the car and the date
    assert "【交车1天回访】新车 11-20 交车，11-28 前回访" in text
    assert "【交车3天回访】新车 11-20 交车，11-30 前回访" in text
    html = msg.get_body(("html",)).get_content()
    assert "&lt;b&gt;=cmd|&#39; /C calc&#39;!A0&lt;/b&gt;" in html and "<b>=cmd" not in html
    assert '<a href="tel:+8613800138003" style="color:#1f4e78">138 0013 8003</a>' in html  # one tap to dial
    (attachment,) = msg.iter_attachments()
    assert attachment.get_filename() == "S1.xlsx"
    assert attachment.get_content_type() == f"{XLSX[0]}/{XLSX[1]}"
    assert XLSX[1] == "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert attachment.get_payload(decode=True) == night.workbooks["S1"].read_bytes()


def test_the_message_id_stays_the_same_for_the_same_message(night: Night, policy: Policy) -> None:
    mine = advisor_plans(night.worklist, policy).filter(pl.col("advisor_id") == "S1")
    to = Recipient("S1", "张三", "s1@dealer.cn")
    ids = {advisor_message(to, mine, night.workbooks["S1"], AS_OF, "a@b.cn")["Message-ID"]
           for _ in range(2)}
    assert len(ids) == 1


def test_a_name_cannot_open_another_header(night: Night, policy: Policy) -> None:
    mine = advisor_plans(night.worklist, policy).filter(pl.col("advisor_id") == "S1")
    to = Recipient("S1", "张三\r\nBcc: thief@evil.cn", "s1@dealer.cn")
    built = advisor_message(to, mine, night.workbooks["S1"], AS_OF, "a@b.cn")
    msg = parse(built.as_bytes())
    assert msg["Bcc"] is None
    assert msg["To"].addresses[0].addr_spec == "s1@dealer.cn"
    assert "\n" not in msg["Subject"]


def test_deliver_without_send_writes_the_outbox(night: Night, policy: Policy) -> None:
    result = deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL,
                     policy)
    assert result == {"written": 3, "sent": 0, "already_sent": 0, "failed": [], "without_email": ["S4", "V1"]}
    outbox = night.run_dir / "outbox"
    assert sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.eml")) == [
        "M1.eml", "S1.eml", "digest/M1.eml",
    ]
    digest = parse((outbox / "digest" / "M1.eml").read_bytes())
    assert digest["Subject"].startswith("【团队日报】2026-11-23 浦东店 · ")
    assert digest["From"] == "genjin <genjin@localhost>"
    assert "钱八（S4）" in bodies(digest)  # the advisor with a broken address is named for the manager
    assert not list(night.run_dir.parent.rglob("*.jsonl"))  # no ledger without --send


def test_the_sender_comes_from_the_settings(night: Night, policy: Policy) -> None:
    settings = MailSettings(sender="某某4S店 <crm@dealer.cn>")
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, settings, policy)
    msg = parse((night.run_dir / "outbox" / "S1.eml").read_bytes())
    assert msg["From"] == "某某4S店 <crm@dealer.cn>"


def test_each_advisor_gets_only_their_own_customers(night: Night, policy: Policy) -> None:
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL, policy)
    outbox = night.run_dir / "outbox"
    s1, m1 = parse((outbox / "S1.eml").read_bytes()), parse((outbox / "M1.eml").read_bytes())
    assert "陈先生" in bodies(s1) and "孙先生" not in bodies(s1) and "13800138005" not in bodies(s1)
    assert "孙先生" in bodies(m1) and "陈先生" not in bodies(m1) and "王先生" not in bodies(m1)
    assert "吴先生" not in bodies(s1) + bodies(m1)


def test_price_appears_in_no_email_and_no_attachment(night: Night, policy: Policy) -> None:
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL, policy)
    for path in (night.run_dir / "outbox").rglob("*.eml"):
        msg = parse(path.read_bytes())
        texts = [bodies(msg)]
        for part in msg.iter_attachments():
            payload = part.get_payload(decode=True)
            if part.get_filename().endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(payload)) as z:
                    texts += [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
            else:
                texts.append(payload.decode("utf-8"))
        assert all(PRICE not in t and "287,600" not in t for t in texts), path


def test_the_latest_roster_row_of_an_advisor_counts(tmp_path: Path, policy: Policy) -> None:
    roster = [*ROSTER[:4], ROSTER[1] | {"email": "zhangsan@dealer.cn"}]
    night = write_night(tmp_path / "2026-11-23", night_frames(policy, roster), policy)
    result = deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL,
                     policy)
    assert result["written"] == 3
    assert parse((night.run_dir / "outbox" / "S1.eml").read_bytes())["To"] == "张三 <zhangsan@dealer.cn>"


def test_sending_needs_a_ledger(night: Night, policy: Policy) -> None:
    with pytest.raises(ValueError, match="ledger"):
        deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, True, NO_MAIL, policy)
