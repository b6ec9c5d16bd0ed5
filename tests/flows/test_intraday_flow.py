"""The intraday pick-up end to end (issue #18): real files dropped between intraday runs on 2026-11-22, each run
against a loopback WeCom robot and a loopback SMTP server, then the night of 2026-11-23 — which finds the day's
files loaded, counts them once and archives each original once. Under the flow tests' Prefect test server."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from aiosmtpd.controller import Controller

from adapters.folders import Folders
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from tests.mail_night import free_port
from tests.robot_servers import Inbox, robot_server

pytestmark = pytest.mark.slow
DAY, NIGHT = date(2026, 11, 22), date(2026, 11, 23)
ROBOTS = {"浦东店": RobotConfig("wecom", "GENJIN_TEST_WECOM_PUDONG")}
LEAD_HEADER = ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "顾问编号", "客户级别", "线索来源", "意向车型"]


def xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    os.utime(path, (0, 0))  # settled long ago
    return path



@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[dict[str, Any]]:
    from flows.intraday import intraday
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("intraday")
    drop = root / "drop"
    drop.mkdir()
    folders = Folders.beside(drop)
    port, inbox = free_port(), Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    mail_env = {"GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(port), "GENJIN_SMTP_SECURITY": "none",
                "GENJIN_MAIL_FROM": "某某4S店 <crm@dealer.cn>"}
    saved = dict(os.environ)
    runs: dict[str, Any] = {"root": root, "folders": folders, "inbox": inbox}
    try:
        with robot_server("wecom") as wecom:
            os.environ.update({"GENJIN_TEST_WECOM_PUDONG": wecom.url})
            runs["wecom"] = wecom
            # the roster, loaded by the night before (rosters are the night's: not taken during the day)
            xlsx(drop / "顾问名单.xlsx", [
                ["工号", "姓名", "门店", "岗位", "在职", "邮箱", "手机", "上级工号"],
                ["M1", "王经理", "浦东店", "经理", "是", "wang@dealer.cn", "13900000001", None],
                ["S1", "张三", "浦东店", "销售顾问", "是", "zhang@dealer.cn", "13900000002", "M1"],
            ])
            nightly(folders=folders, as_of=DAY, settle_seconds=0)

            def run(hhmm: str) -> dict[str, Any]:
                now = datetime.fromisoformat(f"{DAY.isoformat()}T{hhmm}")
                record = intraday(folders=folders, now=now, settle_seconds=0, send=True, robots=ROBOTS,
                                  mail_settings=MailSettings.from_env(mail_env))
                return record | {"posts_so_far": len(wecom.posts), "mails_so_far": len(inbox.messages)}

            # 10:00 an S lead and a B lead come in; an order file too (the night's)
            xlsx(drop / "线索-上午.xlsx", [
                LEAD_HEADER,
                ["L1", "2026-11-22 10:00", "陈先生", "13800000011", "浦东店", "S1", "S", "汽车之家", "汉 EV"],
                ["L2", "2026-11-22 10:05", "刘女士", "13800000012", "浦东店", "S1", "B", "抖音", "宋 PLUS"],
                ["L9", "2026-11-22 10:06", "坏行", "123", "浦东店", "S1", "S", "抖音", None],  # a reject
            ])
            xlsx(drop / "订单.xlsx", [["订单号", "手机号", "客户姓名", "顾问编号", "订车日期", "门店"],
                                      ["O1", "13800000099", "周先生", "S1", "2026-11-21", "浦东店"]])
            runs["10:15"] = run("10:15")
            # 10:40 an A lead, and its advisor called at 10:50: no alert for it
            xlsx(drop / "线索-中午.xlsx", [
                LEAD_HEADER, ["L3", "2026-11-22 10:40", "孙先生", "13800000013", "浦东店", "S1", "A", "官网", None]])
            xlsx(drop / "跟进记录.xlsx", [["线索编号", "顾问编号", "跟进时间", "跟进结果"],
                                          ["L3", "S1", "2026-11-22 10:50", "已接通"]])
            runs["11:15"] = run("11:15")  # L1's hour has run out: its manager hears
            runs["11:30"] = run("11:30")  # nothing new
            # the night sends its mail too (without mail settings every email would fail: a `Partial` night)
            nightly(folders=folders, as_of=NIGHT, settle_seconds=0, send=True, robots=ROBOTS,
                    mail_settings=MailSettings.from_env(mail_env))
            runs["night_posts"] = wecom.posts[runs["11:30"]["posts_so_far"]:]
            yield runs
    finally:
        smtp.stop()
        os.environ.clear()
        os.environ.update(saved)


def test_the_first_run_alerts_the_advisor_of_the_s_lead_only(day):
    first = day["10:15"]
    assert [f["name"] for f in first["files"]] == ["线索-上午.xlsx"]  # the order file is left for the night
    assert [(a["kind"], a["lead_id"], a["recipient_id"]) for a in first["alerts"]] == [("advisor", "L1", "S1")]
    post = day["wecom"].posts[0]
    assert post["msgtype"] == "text" and post["text"]["mentioned_mobile_list"] == ["13900000002"]
    text = post["text"]["content"]
    for part in ("陈先生", "138****0011", "汽车之家", "汉 EV", "S级", "11-22 11:00 前联系", "张三"):
        assert part in text
    [mail] = day["inbox"].messages[:first["mails_so_far"]]
    assert mail["To"].addresses[0].addr_spec == "zhang@dealer.cn"
    assert "11-22 11:00" in mail["Subject"] and "陈先生" in mail["Subject"]
    assert "138 0000 0011" in mail.get_body(("plain",)).get_content()  # the advisor must call: the policy's default
    # is the full phone in the email, while the group message above masks it


def test_the_second_run_tells_the_manager_and_sends_nothing_twice(day):
    second, third = day["11:15"], day["11:30"]
    assert {f["name"] for f in second["files"]} == {"跟进记录.xlsx", "线索-中午.xlsx"}
    assert [(a["kind"], a["lead_id"], a["recipient_id"]) for a in second["alerts"]] == [
        ("advisor", "L1", "S1"), ("manager", "L1", "M1")]  # L3 was called: no alert
    assert second["delivery"]["posts"]["sent"] == 1 and second["delivery"]["posts"]["already_sent"] == 1
    manager_post = day["wecom"].posts[1]["text"]
    assert manager_post["mentioned_mobile_list"] == ["13900000001"]
    assert "首次联系超时" in manager_post["content"] and "王经理" in manager_post["content"]
    assert second["mails_so_far"] == 2 and day["inbox"].messages[1]["To"].addresses[0].addr_spec == "wang@dealer.cn"
    assert third["files"] == [] and third["posts_so_far"] == 2 and third["mails_so_far"] == 2
    assert third["delivery"]["posts"]["already_sent"] == 2


def test_the_night_finds_the_days_files_loaded_once_and_archived_once(day):
    root, folders = day["root"], day["folders"]
    summary = json.loads((root / "out" / NIGHT.isoformat() / "run.json").read_text(encoding="utf-8"))
    files = {f["name"]: f for f in summary["files"]}
    assert set(files) == {"线索-上午.xlsx", "线索-中午.xlsx", "跟进记录.xlsx", "订单.xlsx"}
    assert files["线索-上午.xlsx"]["picked_up"] == "2026-11-22 10:15"
    assert files["跟进记录.xlsx"]["picked_up"] == "2026-11-22 11:15"
    assert "picked_up" not in files["订单.xlsx"]
    assert (files["线索-上午.xlsx"]["rows_in"], files["线索-上午.xlsx"]["rows_loaded"],
            files["线索-上午.xlsx"]["rows_rejected"]) == (3, 2, 1)
    archived = sorted(p.name for p in (folders.archive / NIGHT.isoformat()).iterdir())
    assert archived == sorted(["线索-上午.xlsx", "线索-中午.xlsx", "订单.xlsx", "跟进记录.xlsx"])  # once, no " (2)"
    assert list(folders.drop.iterdir()) == []
    ledger = [json.loads(line) for line in (folders.history / "intraday_pickups.jsonl").read_text("utf-8").splitlines()]
    assert [e["name"] for e in ledger if e["status"] == "left"] == ["订单.xlsx"]  # read by the first run only
    leads = pl.read_delta(str(folders.history / "leads"))
    assert sorted(leads["lead_id"].to_list()) == ["L1", "L2", "L3"]  # each row stored once
    assert (root / "out" / NIGHT.isoformat() / "rejects" / "线索-上午.xlsx.rejects.xlsx").exists()
    worklist = pl.read_csv(root / "out" / NIGHT.isoformat() / "worklist.csv")
    contacts = worklist.filter(pl.col("task_type") == "first_contact")
    assert contacts.height == 2  # L1 (overdue) and L2; L3 was called


def test_the_morning_summary_reaches_the_group_without_a_full_phone(day):
    [post] = day["night_posts"]
    content = post["markdown"]["content"]
    assert "浦东店 · 11-23 跟进清单" in content and "张三" in content and "首次联系逾期 1" in content
    every_post = json.dumps(day["wecom"].posts, ensure_ascii=False)
    assert not re.search(r"1[3-9]\d{9}", every_post.replace("13900000001", "").replace("13900000002", ""))
