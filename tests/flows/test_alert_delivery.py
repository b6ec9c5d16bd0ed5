"""flows/alert_delivery.py: quiet hours hold the alerts, the next run sends them, once; against a loopback
DingTalk robot (signed) and a loopback SMTP server."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
from aiosmtpd.controller import Controller

from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from flows.alert_delivery import deliver_alerts
from tests.mail_night import free_port
from tests.robot_servers import Inbox, robot_server

ROSTER = pl.DataFrame({
    "advisor_id": ["S1", "M1"], "name": ["张三", "王经理"], "store": ["浦东店", "浦东店"],
    "email": ["zhang@dealer.cn", None], "mobile": ["166 0000 0002", "13900000001"],
})
ALERTS = pl.DataFrame([{
    "kind": "advisor", "recipient_id": "S1", "lead_id": "L1", "store": "浦东店", "advisor_id": "S1",
    "customer_name": "陈先生", "phone": "+8619400000011", "source": "汽车之家", "model_interest": None, "grade": "A",
    "created_at": datetime(2026, 11, 22, 21, 10), "call_by": datetime(2026, 11, 22, 22, 10)}])



@pytest.fixture
def smtp():
    port, inbox = free_port(), Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield {"GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(port), "GENJIN_SMTP_SECURITY": "none",
           "GENJIN_MAIL_FROM": "某某4S店 <crm@dealer.cn>"}, inbox
    controller.stop()


def test_quiet_hours_hold_the_alert_and_the_next_run_sends_it_once(tmp_path, smtp):
    env, inbox = smtp
    robots = {"浦东店": RobotConfig("dingtalk", "GENJIN_TEST_DING", "GENJIN_TEST_DING_SECRET")}
    with robot_server("dingtalk", secret="SECtest") as ding:
        env = env | {"GENJIN_TEST_DING": ding.url, "GENJIN_TEST_DING_SECRET": "SECtest"}

        def run(quiet: bool) -> dict[str, Any]:
            return deliver_alerts(ALERTS, ROSTER, True, quiet, robots, MailSettings.from_env(env), True,
                                  tmp_path / "history", tmp_path / "outbox", today=date(2026, 11, 22), env=env)

        held = run(quiet=True)  # 21:40: a lead of 21:10, in the quiet hours
        assert held == {"alerts": 1, "held": 1, "missing": []}
        assert ding.posts == [] and inbox.messages == []
        sent = run(quiet=False)  # 08:00 the next morning
        again = run(quiet=False)
    assert sent["posts"]["sent"] == 1 and sent["emails"]["sent"] == 1
    assert again["posts"] == {"sent": 0, "already_sent": 1, "failed": [], "no_robot": 0}
    assert again["emails"]["already_sent"] == 1
    [post] = ding.posts
    assert post["at"]["atMobiles"] == ["16600000002"] and "@16600000002" in post["markdown"]["text"]
    assert "194****0011" in post["markdown"]["text"]  # a 19x mobile, masked in the group
    [mail] = inbox.messages
    assert "电话：194 0000 0011" in mail.get_body(("plain",)).get_content()  # in full to the advisor
    assert '<a href="tel:+8619400000011" style="color:#1f4e78">194 0000 0011</a>' in mail.get_body(
        ("html",)).get_content()
    assert "SECtest" not in (tmp_path / "history" / "sent_alerts.jsonl").read_text(encoding="utf-8")


def test_a_store_without_its_variables_is_reported_not_posted(tmp_path):
    robots = {"浦东店": RobotConfig("wecom", "GENJIN_TEST_UNSET")}
    result = deliver_alerts(ALERTS, ROSTER, True, False, robots, MailSettings(), True, tmp_path / "history",
                            tmp_path / "outbox", today=date(2026, 11, 22), env={})
    assert result["missing"] == ["浦东店: 未设置 / not set: GENJIN_TEST_UNSET"]
    assert result["posts"]["no_robot"] == 1
    assert result["emails"]["failed"][0]["to"] == "zhang@dealer.cn"  # no SMTP settings: recorded, retried later
