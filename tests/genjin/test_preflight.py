"""Checked before it starts (issue #27): `genjin run`, `genjin serve` and `genjin settings` refuse — exit code 2,
the reason in Chinese and English, no traceback — a folder that is a file, a missing drop folder, a policy that
does not load, a bad cron, a robot whose variable is not set, a misspelt GENJIN_* variable; and nothing has
started when they do (no Prefect home, no server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genjin import cli
from genjin.settings import env_names, is_cron, load, misspelt


@pytest.fixture(autouse=True)
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current folder with a drop folder, a HOME of its own, no GENJIN_* or PREFECT_* from the caller."""
    for key in list(os.environ):
        if key.startswith(("GENJIN_", "PREFECT_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "drop").mkdir(parents=True)
    return tmp_path


def refused(capsys: pytest.CaptureFixture[str], *commands: list[str]) -> str:
    """Each command exits 2 before anything starts; what they said on stderr (the last one's)."""
    err = ""
    for command in commands:
        assert cli.main(command) == 2, command
        captured = capsys.readouterr()
        err = captured.err
        assert "Traceback" not in err + captured.out
    return err


def test_an_out_folder_that_is_a_file_is_refused_by_run_serve_and_settings(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "data" / "out").write_text("not a folder", encoding="utf-8")
    err = refused(capsys, ["run"], ["run", "--send"], ["serve"], ["settings"])
    assert f"输出文件夹 out: {Path('data/out')} 不是文件夹（是一个文件）/ is not a folder (it is a file)" in err
    assert not (site / "home" / ".genjin").exists()  # refused before Prefect's home was made or a server started


def test_a_folder_below_a_file_cannot_be_made(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "blocker").write_text("x", encoding="utf-8")
    err = refused(capsys, ["run", "--history", "blocker/history"])
    assert "历史文件夹 history: blocker/history 无法创建" in err and "is not a folder" in err


def test_a_missing_drop_folder_and_a_bad_policy_are_both_named(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "bad.toml").write_text("[plan\n", encoding="utf-8")
    err = refused(capsys, ["settings", "--drop", "nowhere", "--policy", "bad.toml"])
    assert "投放文件夹 drop: nowhere 不存在 / does not exist" in err
    assert "策略文件格式错误 / policy file is not valid TOML" in err
    assert "原因 2 项 / would refuse to start, 2 problem(s)" in err


@pytest.mark.parametrize("cron", ["0 26 * * *", "0 2 * *", "every night", "*/0 * * * *"])
def test_a_bad_cron_is_refused(cron: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, ["settings", "--cron", cron], ["serve", "--cron", cron])
    assert "cron 表达式有误" in err and "not a cron expression" in err and repr(cron) in err


@pytest.mark.parametrize(("cron", "ok"), [
    ("0 2 * * *", True), ("*/15 8-20 * * *", True), ("30 1 1,15 JAN-MAR MON-FRI", True), ("@daily", True),
    ("0 2 * * 7", True), ("60 2 * * *", False), ("0 2 32 * *", False), ("0 2 * 13 *", False), ("0 2 * * 8", False),
    ("0 2 * * FOO", False), ("0-30-2 2 * * *", False),
])  # fmt: skip
def test_cron_fields_are_checked_against_their_ranges(cron: str, ok: bool) -> None:
    assert is_cron(cron) is ok


def test_a_misspelt_variable_is_named_with_its_near_match(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GENJIN_TIMEZOEN", "Asia/Tokyo")
    err = refused(capsys, ["settings"], ["run"], ["serve"])
    assert "GENJIN_TIMEZOEN: 是否为 GENJIN_TIMEZONE？" in err and "did you mean GENJIN_TIMEZONE?" in err


def test_variables_far_from_every_name_are_left_alone() -> None:
    env = {"GENJIN_TIMEZONE": "Asia/Shanghai", "GENJIN_WECOM_PUDONG": "https://x", "GENJIN_BUILD_NUMBER": "7",
           "GENJIN_TEST_CRASH_AT": "after_read", "GENJIN_OPS_EMAILS": "a@b.cn"}
    assert misspelt(env) == ["环境变量 GENJIN_OPS_EMAILS: 是否为 GENJIN_OPS_EMAIL？/ environment variable "
                             "GENJIN_OPS_EMAILS: did you mean GENJIN_OPS_EMAIL? (genjin does not read "
                             "GENJIN_OPS_EMAILS)"]
    assert "GENJIN_SMTP_PASSWORD" in env_names() and "GENJIN_MISSED_NIGHT_HOURS" in env_names()


def test_a_robot_variable_that_is_not_set_is_refused_by_settings_and_a_sending_run(
        site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "genjin.toml").write_text('[robots."浦东店"]\nchannel = "wecom"\nwebhook_env = "GENJIN_WECOM_PUDONG"\n'
                                      '[ops_robot]\nchannel = "dingtalk"\nwebhook_env = "GENJIN_DING_OPS"\n'
                                      'secret_env = "GENJIN_DING_OPS_SECRET"\n', encoding="utf-8")
    monkeypatch.setenv("GENJIN_DING_OPS", "https://oapi.dingtalk.com/robot/send?access_token=t")
    monkeypatch.setenv("GENJIN_WECOM_PUDONGG", "https://qyapi.weixin.qq.com/x")  # a slip of the store's name
    err = refused(capsys, ["settings"], ["run", "--send"])
    assert "浦东店: 未设置 / not set: GENJIN_WECOM_PUDONG" in err
    assert "ops_robot: 未设置 / not set: GENJIN_DING_OPS_SECRET" in err
    assert "GENJIN_WECOM_PUDONGG: 是否为 GENJIN_WECOM_PUDONG？" in err
    assert "qyapi" not in err and "access_token" not in err  # a webhook URL holds the robot's key


def test_the_new_settings_read_from_the_file_and_the_environment(site: Path) -> None:
    conf = site / "genjin.toml"
    conf.write_text('missed_night_hours = 30\nprefect_api_url = "http://10.0.0.9:4200/api"\n'
                    '[ops_robot]\nchannel = "wecom"\nwebhook_env = "GENJIN_WECOM_OPS"\n', encoding="utf-8")
    s = load({}, {"GENJIN_DELIVERY_RETRY_SECONDS": "5"}, conf)
    assert (s.missed_night_hours, s.delivery_retry_seconds) == (30.0, 5.0)
    assert s.ops_robot is not None and s.ops_robot.webhook_env == "GENJIN_WECOM_OPS"
    shown = {name: (value, source) for name, value, source in s.rows()}
    assert shown["prefect_api_url"] == ("http://10.0.0.9:4200/api", "genjin.toml: prefect_api_url")
    assert shown["ops_robot"][0] == "wecom (GENJIN_WECOM_OPS)"
