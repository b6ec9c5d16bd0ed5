"""adapters/robots.py against loopback servers playing the WeCom and DingTalk robot APIs (tests/robot_servers.py)."""

from __future__ import annotations

import logging

import pytest

from adapters.mail import SendError, SentLedger
from adapters.robots import (
    DingTalkRobot,
    GroupMessage,
    RateLimit,
    RobotConfig,
    WeComRobot,
    post_all,
    robots_from,
)
from tests.robot_servers import robot_server

MESSAGE = GroupMessage("2026-11-23|alert|L1", "浦东店", "alert", "新线索", "**新线索** 陈先生 138****0001",
                       "新线索 陈先生 138****0001")
MENTION = GroupMessage("2026-11-23|alert|L2", "浦东店", "alert", "新线索", "**新线索** 王女士", "新线索 王女士",
                       mobiles=("13900000009",))


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_wecom_markdown_and_text_with_a_mention():
    with robot_server("wecom") as server:
        robot = WeComRobot(server.url)
        robot.post(MESSAGE)
        robot.post(MENTION)
    assert server.posts == [
        {"msgtype": "markdown", "markdown": {"content": "**新线索** 陈先生 138****0001"}},
        {"msgtype": "text", "text": {"content": "新线索 王女士", "mentioned_mobile_list": ["13900000009"]}},
    ]


def test_wecom_throttle_45009_is_waited_out_and_retried():
    sleeps = Sleeps()
    with robot_server("wecom", answers=[{"errcode": 45009, "errmsg": "api freq out of limit"}]) as server:
        WeComRobot(server.url, backoff=(7.0,), sleep=sleeps).post(MESSAGE)
    assert server.attempts == 2 and len(server.posts) == 1
    assert sleeps.calls == [7.0]


def test_throttled_beyond_the_retries_is_a_failure():
    answers = [{"errcode": 45009, "errmsg": "api freq out of limit"}] * 3
    with robot_server("wecom", answers=answers) as server, pytest.raises(SendError, match="45009"):
        WeComRobot(server.url, backoff=(1.0, 2.0), sleep=Sleeps()).post(MESSAGE)
    assert server.attempts == 3


def test_a_wrong_key_fails_without_the_key_in_the_error(caplog):
    with robot_server("wecom", key="right-key") as server:
        wrong = server.url.replace("right-key", "wrong-key-SECRET")
        with pytest.raises(SendError) as err:
            WeComRobot(wrong).post(MESSAGE)
    assert "93000" in str(err.value) and "SECRET" not in str(err.value)
    assert "SECRET" not in repr(WeComRobot(wrong))


def test_dingtalk_signed_markdown_with_at_mobiles():
    with robot_server("dingtalk", secret="SECabc123") as server:
        DingTalkRobot(server.url, "SECabc123").post(MENTION)
    assert server.posts == [{
        "msgtype": "markdown", "markdown": {"title": "新线索", "text": "**新线索** 王女士\n\n@13900000009"},
        "at": {"atMobiles": ["13900000009"], "isAtAll": False},
    }]


def test_dingtalk_wrong_secret_or_old_timestamp_is_refused():
    with robot_server("dingtalk", secret="SECright") as server:
        with pytest.raises(SendError, match="310000"):
            DingTalkRobot(server.url, "SECwrong").post(MESSAGE)
        with pytest.raises(SendError, match="310000"):
            DingTalkRobot(server.url, "SECright", clock=lambda: 1_000_000.0).post(MESSAGE)  # 1970
        with pytest.raises(SendError, match="310000"):
            DingTalkRobot(server.url).post(MESSAGE)  # not signed
    assert server.posts == []


@pytest.mark.parametrize("code", [130101, 660026, 410100])
def test_dingtalk_throttle_codes_are_retried(code):
    sleeps = Sleeps()
    answers = [{"errcode": code, "errmsg": "send too fast, exceed 20 times per minute"}]
    with robot_server("dingtalk", secret="S", answers=answers) as server:
        DingTalkRobot(server.url, "S", backoff=(5.0,), sleep=sleeps).post(MESSAGE)
    assert sleeps.calls == [5.0] and len(server.posts) == 1


def test_no_minute_holds_more_than_twenty_posts():
    now = [0.0]
    stamps: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limit = RateLimit(clock=lambda: now[0], sleep=sleep)
    for _ in range(45):
        limit.wait()
        stamps.append(now[0])
        now[0] += 0.1  # each post takes 0.1 s
    assert max(sum(1 for t in stamps if s <= t < s + 60) for s in stamps) == 20
    assert stamps[20] == pytest.approx(60.0) and stamps[40] == pytest.approx(120.0)


def test_post_all_posts_once_and_retries_what_failed(tmp_path, caplog):
    ledger = SentLedger(tmp_path / "sent_alerts.jsonl")
    other = GroupMessage("k-other", "静安店", "summary", "t", "m", "m")
    with robot_server("wecom", answers=[{"errcode": 93000, "errmsg": "invalid webhook url"}]) as server:
        robots = {"浦东店": WeComRobot(server.url)}
        with caplog.at_level(logging.WARNING):
            first = post_all([MESSAGE, MENTION, other], robots, ledger)
        second = post_all([MESSAGE, MENTION, other], robots, ledger)
        third = post_all([MESSAGE, MENTION], robots, ledger)
    assert (first.sent, len(first.failed), first.no_robot) == (1, 1, 1)  # MESSAGE failed, MENTION sent
    assert (second.sent, second.already_sent, second.failed) == (1, 1, [])
    assert (third.sent, third.already_sent) == (0, 2)
    assert len(server.posts) == 2
    assert "test-key" not in caplog.text and "test-key" not in ledger.path.read_text(encoding="utf-8")
    statuses = [e["status"] for e in ledger.entries()]
    assert statuses == ["failed", "sent", "sent"]


def test_robots_from_the_environment_only():
    config = {"浦东店": RobotConfig("wecom", "GENJIN_WECOM_PUDONG"),
              "静安店": RobotConfig("dingtalk", "GENJIN_DING_JINGAN", "GENJIN_DING_JINGAN_SECRET")}
    robots, missing = robots_from(config, {"GENJIN_WECOM_PUDONG": "http://127.0.0.1:1/x?key=k",
                                           "GENJIN_DING_JINGAN": "http://127.0.0.1:1/robot/send?access_token=t"})
    assert list(robots) == ["浦东店"]
    assert missing == ["静安店: 未设置 / not set: GENJIN_DING_JINGAN_SECRET"]
    robots, missing = robots_from(config, {"GENJIN_WECOM_PUDONG": "file:///etc/passwd"})
    assert robots == {} and missing[0] == "浦东店: GENJIN_WECOM_PUDONG 不是 https 地址 / is not an https URL"
