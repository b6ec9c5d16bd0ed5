"""The state hooks of the intraday flow (issue #27), under the flow tests' Prefect server: a pick-up that fails
tells ops by email and robot — which run, which stage, why — and the same failure fifteen minutes later is not
told again that day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from adapters.folders import Folders
from adapters.mail import MailSettings
from adapters.robots import RobotConfig
from tests.robot_servers import Inbox, RobotServer, robot_server


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[RobotServer]:
    with robot_server("wecom", key="ops") as server:
        monkeypatch.setenv("GENJIN_TEST_WECOM_OPS", server.url)
        yield server


def test_a_failed_intraday_run_tells_ops_once_a_day(tmp_path: Path, prefect_harness: None,
                                                    smtp: tuple[Inbox, int], ops: RobotServer) -> None:
    from flows.intraday import intraday

    inbox, port = smtp
    (tmp_path / "drop").mkdir()
    (tmp_path / "history").mkdir()  # where the sent ledgers are
    (tmp_path / "policy.toml").write_text("[plan\n", encoding="utf-8")  # not TOML
    settings = MailSettings(host="127.0.0.1", port=port, security="none", sender="genjin <crm@dealer.cn>",
                            ops_email="ops@dealer.cn")
    runs = [intraday(folders=Folders.beside(tmp_path / "drop"), now=datetime(2026, 11, 22, hour, minute),
                     policy_file=tmp_path / "policy.toml", settle_seconds=0, send=True, mail_settings=settings,
                     ops_robot=RobotConfig("wecom", "GENJIN_TEST_WECOM_OPS"), return_state=True)
            for hour, minute in ((10, 15), (10, 30))]
    assert [(r.type.value, r.name) for r in runs] == [("FAILED", "Failed"), ("FAILED", "Failed")]
    [told] = inbox.messages  # the second run failed the same way: told once that day
    assert told["Subject"] == "【genjin】2026-11-22 10:15 日间运行失败 · 停在：检查文件夹和策略"
    text = told.get_body(("plain",)).get_content()
    for words in ("intraday-2026-11-22-10:15", "策略文件格式错误 / policy file is not valid TOML",
                  "这次运行的新线索提醒没有发出；下一次日间运行会补发", "the next intraday run tries again"):
        assert words in text, words
    [post] = ops.posts
    assert "日间运行失败" in post["markdown"]["content"] and "intraday-2026-11-22-10:15" in post["markdown"]["content"]


def test_a_night_past_its_timeout_is_stopped_and_ops_told(tmp_path: Path, prefect_harness: None,
                                                          smtp: tuple[Inbox, int], ops: RobotServer) -> None:
    from datetime import date

    from flows.nightly import NIGHT_TIMEOUT_SECONDS, nightly

    assert NIGHT_TIMEOUT_SECONDS == nightly.timeout_seconds == 6 * 3600
    inbox, port = smtp
    drop = tmp_path / "drop"
    drop.mkdir()
    (tmp_path / "history").mkdir()
    (drop / "线索.csv").write_text("线索编号,留资时间\n", encoding="utf-8")  # watched for 30 s: longer than 2 s
    settings = MailSettings(host="127.0.0.1", port=port, security="none", sender="genjin <crm@dealer.cn>",
                            ops_email="ops@dealer.cn")
    state = nightly.with_options(timeout_seconds=2)(
        folders=Folders.beside(drop), as_of=date(2026, 11, 20), settle_seconds=30, send=True, mail_settings=settings,
        ops_robot=RobotConfig("wecom", "GENJIN_TEST_WECOM_OPS"), return_state=True)
    assert (state.type.value, state.name) == ("FAILED", "TimedOut")
    [told] = inbox.messages
    assert told["Subject"] == "【genjin】2026-11-20 夜间运行超时 · 停在：读取文件"
    assert "运行超过时限仍未结束" in told.get_body(("plain",)).get_content()
    assert (drop / "线索.csv").exists()  # stopped while it watched the drop folder: nothing taken
