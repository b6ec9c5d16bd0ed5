"""Issue #18's settings (intraday interval and hours, the stores' robots), the intraday cron, and what the alert
and summary messages say."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from adapters.pickup import night_of
from flows.scheduled import intraday_cron, local_time
from genjin.settings import SettingsError, load
from reports.alert_messages import alert_email, alert_message, summary_message
from reports.recipients import Recipient
from transforms.alerts import group_summary

ROW = {"kind": "advisor", "recipient_id": "S1", "lead_id": "L1", "store": "浦东店", "advisor_id": "S1",
       "customer_name": "陈先生", "phone": "+8614700000011", "source": "汽车之家", "model_interest": "汉 EV",
       "grade": "S", "created_at": datetime(2026, 11, 22, 10, 0), "call_by": datetime(2026, 11, 22, 11, 0)}


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "genjin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_intraday_defaults_and_robots_from_the_file(tmp_path):
    assert (load({}, {}, None).intraday_minutes, load({}, {}, None).intraday_hours) == (15, "08:30-21:00")
    path = toml(tmp_path, '[intraday]\nminutes = 10\nhours = "09:00-20:30"\n'
                          '[robots."浦东店"]\nchannel = "dingtalk"\nwebhook_env = "GENJIN_DING_PD"\n'
                          'secret_env = "GENJIN_DING_PD_SECRET"\n')
    s = load({}, {"GENJIN_INTRADAY_MINUTES": "20"}, path)
    assert (s.intraday_minutes, s.intraday_hours) == (20, "09:00-20:30")  # the environment beats the file
    assert s.robots["浦东店"].channel == "dingtalk" and s.robots["浦东店"].secret_env == "GENJIN_DING_PD_SECRET"
    shown = dict((name, value) for name, value, _ in s.rows())
    assert shown["robots"] == "浦东店: dingtalk (GENJIN_DING_PD, GENJIN_DING_PD_SECRET)"


@pytest.mark.parametrize(("env", "says"), [
    ({"GENJIN_INTRADAY_MINUTES": "7"}, "must divide 60"),
    ({"GENJIN_INTRADAY_HOURS": "21:00-08:00"}, "the opening must come before the closing"),
    ({"GENJIN_INTRADAY_HOURS": "all day"}, "must be HH:MM-HH:MM or off"),
])
def test_bad_intraday_settings_are_named(env, says):
    with pytest.raises(SettingsError, match=says):
        load({}, env, None)


def test_a_webhook_url_in_the_file_is_refused_without_echoing_it(tmp_path):
    path = toml(tmp_path, '[robots."浦东店"]\nchannel = "wecom"\n'
                          'webhook_env = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY"\n')
    with pytest.raises(SettingsError) as err:
        load({}, {}, path)
    assert "robots.浦东店.webhook_env" in str(err.value) and "环境变量" in str(err.value)
    assert "SECRETKEY" not in str(err.value)


@pytest.mark.parametrize(("minutes", "hours", "cron"), [
    (15, "08:30-21:00", "*/15 8-20 * * *"),  # 08:00 and 08:15 find the store closed; the last run 20:45
    (15, "09:00-21:30", "*/15 9-21 * * *"),
    (60, "09:00-18:00", "0 9-17 * * *"),
])
def test_intraday_cron_covers_the_opening_hours(minutes, hours, cron):
    assert intraday_cron(minutes, hours) == cron


def test_the_night_of_a_pick_up_is_the_next_02_00_run():
    moment = local_time(datetime(2026, 11, 22, 2, 15))  # UTC → 10:15 in Shanghai
    assert moment == datetime(2026, 11, 22, 10, 15)
    assert night_of(moment) == date(2026, 11, 23)


def test_a_group_message_cannot_be_restyled_by_a_name_and_masks_the_phone():
    row = ROW | {"customer_name": "**陈**[点我](http://x.cn)\n@所有人"}
    message = alert_message(row, {"S1": "张三"}, {"S1": "+86 194-0000-0002"}, date(2026, 11, 22))
    assert "**陈" not in message.markdown and "[点我]" not in message.markdown and "\n@所有人" not in message.text
    assert "电话：147****0011" in message.markdown and "电话：147****0011" in message.text  # a 14x mobile
    assert "14700000011" not in message.markdown and "0000 0011" not in message.markdown
    assert message.mobiles == ("19400000002",)
    assert message.key == "advisor|L1|S1"


def test_the_summary_names_advisors_and_counts_only():
    worklist = pl.DataFrame({"store": ["浦东店"] * 3, "advisor_id": ["S1", "S1", "V1"],
                             "task_type": ["first_contact", "complaint", "care_call"], "days_overdue": [1, 0, 0]})
    message = summary_message("浦东店", group_summary(worklist), {"S1": "张三", "V1": "赵六"}, date(2026, 11, 23))
    assert message.markdown.splitlines()[0] == "**浦东店 · 11-23 跟进清单**"
    assert "全店 3 项待办，逾期 1 项；投诉待处理 1 项；首次联系逾期 1 项" in message.markdown
    assert "- 张三：2 项，逾期 1，投诉 1，首次联系逾期 1" in message.markdown
    assert "- 赵六：1 项，逾期 0" in message.markdown


NEW_YEARS_EVE = ROW | {"created_at": datetime(2026, 12, 31, 23, 30), "call_by": datetime(2027, 1, 1, 0, 30)}


def test_a_time_in_another_year_than_the_readers_says_its_year():
    """An S lead of New Year's Eve 23:30 is to be called by 00:30: on the 31st the call-by says 2027, and the
    manager's alert of the morning after says when the lead came in, 2026."""
    names, mobiles = {"S1": "张三", "M1": "王经理"}, {}
    tonight = alert_message(NEW_YEARS_EVE, names, mobiles, date(2026, 12, 31))
    assert tonight.text.splitlines()[0] == "【新线索】S级 · 请于 2027-01-01 00:30 前联系"
    assert "留资时间：12-31 23:30" in tonight.text
    late = NEW_YEARS_EVE | {"kind": "manager", "recipient_id": "M1"}
    morning = alert_message(late, names, mobiles, date(2027, 1, 1))
    assert morning.text.splitlines()[0] == "【首次联系超时】S级 · 应于 01-01 00:30 前联系，至今未跟进"
    assert "留资时间：2026-12-31 23:30" in morning.text
    mail = alert_email(NEW_YEARS_EVE, Recipient("S1", "张三", "s1@dealer.cn"), names, True, "genjin@dealer.cn",
                       date(2026, 12, 31))
    assert mail.message["Subject"] == "【新线索】陈先生 · S级 · 请于 2027-01-01 00:30 前联系"
    assert "请于 2027-01-01 00:30 前打电话" in mail.message.get_body(("plain",)).get_content()
    summary = summary_message("浦东店", group_summary(pl.DataFrame({
        "store": ["浦东店"], "advisor_id": ["S1"], "task_type": ["first_contact"], "days_overdue": [0]})),
        names, date(2027, 1, 1))
    assert summary.text.splitlines()[0] == "浦东店 · 01-01 跟进清单"
