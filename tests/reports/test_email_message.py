"""The advisor's email (reports/email_message.py): what the message holds, its headers safe whatever a name
holds; the outbox and who gets which message are tested in tests/flows/test_night_mail.py."""
from __future__ import annotations

import re

import polars as pl

from policy.model import Policy
from reports.email_message import advisor_message, subject
from reports.recipients import XLSX, Recipient
from tests.conftest import AS_OF
from tests.mail_night import Night, parse
from transforms.plan import advisor_plans


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
    cards = text.replace("\r\n", "\n").split("\n\n")[2:5]  # one block per customer: who, what to do, why
    heads = [card.splitlines()[:2] for card in cards]
    # two new leads first (a lead past its first-contact time), then the delivery revisits (window closing)
    assert [what.strip().split("】")[0] for _, what in heads] == ["【立即处理", "【立即处理", "【即将错过"]
    assert {who.split(". ", 1)[1] for who, _ in heads[:2]} == {  # name and phone first: 19x, 16x
        "陈先生  194 5969 0635", "<b>=cmd|' /C calc'!A0</b>  166 1234 8002"}
    assert heads[2] == ["3. 王先生  145 1234 8003", "   【即将错过】交车1天回访、交车3天回访 · 逾期 2 天"]  # 14x
    # d1 is due 11-21, open 7 days: 11-28; d3 due 11-23: 11-30 — each with its task, the car and the date
    assert "【交车1天回访】新车 11-20 交车，11-28 前回访" in text
    assert "【交车3天回访】新车 11-20 交车，11-30 前回访" in text
    html = msg.get_body(("html",)).get_content()
    assert "&lt;b&gt;=cmd|&#39; /C calc&#39;!A0&lt;/b&gt;" in html and "<b>=cmd" not in html
    links = re.findall(r'<a href="(tel:[^"]+)"[^>]*>([^<]+)</a>', html)  # one tap to dial, a 19x mobile too
    assert sorted(links) == [("tel:+8614512348003", "145 1234 8003"), ("tel:+8616612348002", "166 1234 8002"),
                             ("tel:+8619459690635", "194 5969 0635")]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "附件“跟进计划 11-23 张三.xlsx”" in html and "附件“跟进计划 11-23 张三.xlsx”" in text
    (attachment,) = msg.iter_attachments()
    assert attachment.get_filename() == "跟进计划 11-23 张三.xlsx"  # what and whose
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
