"""A night that fails tells someone, and Prefect shows what each night did (issue #27) — against a real
`prefect server start`, SMTP (aiosmtpd) and WeCom robots on loopback, as ops would run genjin:

- `genjin run` with the server from the user's Prefect profile (`prefect config set PREFECT_API_URL=…`): the run
  is named for its night, its summary and outputs are artifacts, its stage records are in its logs;
- SMTP down: exit 4, run.json and the ops robot list what did not go out, the run ends Failed "Partial"; the
  re-run sends only those;
- a store's robot down: exit 4, the ops email says which post did not go out;
- a night that fails: exit 1, one sentence and the log's path on the terminal, no traceback; ops told by email
  and robot: which night, which stage, why;
- under `genjin serve`: an out folder that is a file, a cancelled run, a run whose process is killed, a night
  that never completes (the automation's window exercised by time) — each told to ops once, by email and robot;
  an intraday run with nothing to do shows as "Skipped"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from aiosmtpd.controller import Controller

from tests.genjin.test_serve import _stop, _until, post, prefect_server
from tests.mail_night import free_port
from tests.robot_servers import Inbox, RobotServer, robot_server

pytestmark = pytest.mark.slow
AS_OF = "2026-11-23"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
ROSTER = [["顾问编号", "姓名", "门店", "岗位", "邮箱", "在职", "上级工号"],
          ["M1", "王经理", "浦东店", "经理", "m1@dealer.cn", "是", None],
          ["S1", "张三", "浦东店", "销售顾问", "s1@dealer.cn", "是", "M1"],
          ["S2", "李四", "浦东店", "销售顾问", "s2@dealer.cn", "是", "M1"]]
LEADS = ("线索编号,留资时间,客户姓名,联系电话,门店,销售顾问工号,客户级别\n"
         "L1,2026-11-22 10:00,陈先生,13800138001,浦东店,S1,B\n"
         "L2,2026-11-22 11:00,林女士,13800138002,浦东店,S2,B\n")
TOML = """settle_seconds = 0
delivery_retry_seconds = 0.2
[robots."浦东店"]
channel = "wecom"
webhook_env = "GENJIN_WECOM_PUDONG"
[ops_robot]
channel = "wecom"
webhook_env = "GENJIN_WECOM_OPS"
"""


def drop_folder(drop: Path) -> None:
    drop.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    for row in ROSTER:
        wb.active.append(row)
    wb.save(drop / "顾问名单.xlsx")
    (drop / "线索.csv").write_text(LEADS, encoding="utf-8")
    for path in drop.iterdir():
        os.utime(path, (0, 0))  # settled long ago


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api


class Smtp:
    """aiosmtpd on a loopback port that can be down (nothing listening) or up."""

    def __init__(self) -> None:
        self.port, self.inbox = free_port(), Inbox()
        self.controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox.messages if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    found = Smtp()
    try:
        yield found
    finally:
        found.down()


@pytest.fixture
def robots() -> Iterator[tuple[RobotServer, RobotServer]]:
    with robot_server("wecom", key="store") as store, robot_server("wecom", key="ops") as ops:
        yield store, ops


def site_env(site: Path, smtp: Smtp, store_url: str, ops_url: str, **extra: str) -> dict[str, str]:
    """A dealership's machine: HOME of its own (its Prefect profile), no PREFECT_* in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    return env | {"HOME": str(site / "home"), "GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(smtp.port),
                  "GENJIN_SMTP_SECURITY": "none", "GENJIN_MAIL_FROM": "genjin <crm@dealer.cn>",
                  "GENJIN_OPS_EMAIL": "ops@dealer.cn", "GENJIN_WECOM_PUDONG": store_url,
                  "GENJIN_WECOM_OPS": ops_url} | extra


def make_site(tmp_path: Path, server: str) -> Path:
    """A drop folder, a genjin.toml, and a Prefect profile pointing at `server` — set the way Prefect's banner
    says, `prefect config set PREFECT_API_URL=…`."""
    site = tmp_path / "site"
    drop_folder(site / "drop")
    (site / "genjin.toml").write_text(TOML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {"HOME": str(site / "home")}
    subprocess.run([sys.executable, "-m", "prefect", "config", "set", f"PREFECT_API_URL={server}"], env=env,
                   check=True, capture_output=True, timeout=300)
    assert server in (site / "home" / ".prefect" / "profiles.toml").read_text(encoding="utf-8")
    return site


def genjin_run(site: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genjin.cli", "run", "--drop", "drop", "--out", "out",
                           "--as-of", AS_OF, "--send", *extra], cwd=site, env=env, capture_output=True, text=True,
                          timeout=900)


def flow_run(api: str, name: str) -> dict[str, Any]:
    """The newest flow run named `name`."""
    runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"name": {"any_": [name]}},
                                                        "sort": "START_TIME_DESC", "limit": 1}).json()
    assert runs, f"no flow run named {name}"
    return runs[0]


def texts(posts: list[dict[str, Any]]) -> list[str]:
    return [p.get("markdown", {}).get("content") or p.get("text", {}).get("content", "") for p in posts]


def failure_mails(smtp: Smtp) -> list[EmailMessage]:
    return [m for m in smtp.to("ops@dealer.cn") if not str(m["Subject"]).startswith("【genjin 运行情况】")]


def test_run_uses_the_profiles_server_names_the_night_and_shows_it_in_prefect(
        tmp_path: Path, server: str, smtp: Smtp, robots: tuple[RobotServer, RobotServer]) -> None:
    store, ops = robots
    smtp.up()
    site = make_site(tmp_path, server)
    proc = genjin_run(site, site_env(site, smtp, store.url, ops.url))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (site / "home" / ".genjin" / "prefect").exists()  # the user's Prefect home, not genjin's own
    run = flow_run(server, f"nightly-{AS_OF}")  # on the profile's server, named for its night
    assert run["state_type"] == "COMPLETED"
    artifacts = httpx.post(f"{server}/artifacts/filter",
                           json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert set(by_key) == {"genjin-nightly-summary", "genjin-nightly-outputs", "genjin-nightly-report"}
    summary = json.loads((site / "out" / AS_OF / "run.json").read_text(encoding="utf-8"))
    markdown = by_key["genjin-nightly-summary"]["data"]
    assert f"# 夜间运行 {AS_OF}" in markdown and "| 线索.csv | leads | 已载入 loaded | 2 | 2 | 0 |" in markdown
    assert f"发出 sent {summary['emails']['sent']}" in markdown
    outputs = json.loads(by_key["genjin-nightly-outputs"]["data"])
    assert {row["输出 output"] for row in outputs} >= {"KPI 报表 report.html", "任务清单 worklist.csv"}
    assert by_key["genjin-nightly-report"]["data"].startswith("[KPI 报表")
    assert (site / "out" / AS_OF / "report.html").resolve().as_uri() in by_key["genjin-nightly-report"]["data"]

    def stage_logs() -> list[str] | None:  # logs reach the server in batches
        logs = httpx.post(f"{server}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}},
                                                         "limit": 200}).json()
        found = [log["message"] for log in logs if log["message"].startswith("stage=")]
        return found if len(found) == 4 else None

    stages = _until("the stage records in the run's logs", stage_logs, 60, [])
    assert [m.split()[0] for m in stages] == ["stage=read", "stage=store", "stage=worklist", "stage=write"]
    assert len(store.posts) == 1 and ops.posts == []  # the store's morning summary; nothing for ops to hear
    for noise in ("Traceback", "INFO", "Finished in state"):  # Prefect's records are in the log file
        assert noise not in proc.stdout + proc.stderr
    assert "Finished in state Completed()" in (site / "out" / "logs" / f"nightly-{AS_OF}.log").read_text()


def test_smtp_down_is_exit_4_a_partial_state_and_a_rerun_sends_only_what_is_missing(
        tmp_path: Path, server: str, smtp: Smtp, robots: tuple[RobotServer, RobotServer]) -> None:
    store, ops = robots
    site = make_site(tmp_path, server)
    env = site_env(site, smtp, store.url, ops.url)
    proc = genjin_run(site, env)  # nothing listens on the SMTP port
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "没有送达" in proc.stderr and "deliveries did not go out" in proc.stderr
    summary = json.loads((site / "out" / AS_OF / "run.json").read_text(encoding="utf-8"))
    failed = {f["to"] for f in summary["emails"]["failed"]}
    assert failed == {"s1@dealer.cn", "s2@dealer.cn", "m1@dealer.cn"}  # two plans and the manager's digest
    assert summary["emails"]["ops"]["skipped"] == "clean night"  # nothing for the night's ops email to say
    assert len(summary["undelivered"]) == len(failed)
    assert all("无法连接邮件服务器" in line for line in summary["undelivered"])
    run = flow_run(server, f"nightly-{AS_OF}")
    assert (run["state_type"], run["state_name"]) == ("FAILED", "Partial")
    [post] = texts(ops.posts)  # ops hear it by robot: the mail server is the problem
    assert "夜间运行未全部送达" in post and "无法连接邮件服务器" in post and "s1@dealer.cn" in post
    assert len(store.posts) == 1  # the store's group got its summary

    smtp.up()
    again = genjin_run(site, env)
    assert again.returncode == 0, again.stdout + again.stderr
    sent = [str(m["To"]) for m in smtp.inbox.messages if "ops@" not in str(m["To"])]
    assert sorted(address.split("<")[-1].rstrip(">") for address in sent) == sorted(failed)  # those, once each
    assert flow_run(server, f"nightly-{AS_OF}")["state_type"] == "COMPLETED"
    assert len(store.posts) == 1 and len(ops.posts) == 1  # nothing posted twice


def test_a_store_robot_down_is_exit_4_and_the_ops_email_says_which_post(
        tmp_path: Path, server: str, smtp: Smtp, robots: tuple[RobotServer, RobotServer]) -> None:
    _, ops = robots
    smtp.up()
    site = make_site(tmp_path, server)
    down = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=store"  # nothing listens there
    proc = genjin_run(site, site_env(site, smtp, down, ops.url))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    [told] = failure_mails(smtp)
    assert told["Subject"] == f"【genjin】{AS_OF} 夜间运行未全部送达"
    text = told.get_body(("plain",)).get_content()
    assert "浦东店 群消息 group post (summary)" in text and "wecom 无法连接 / cannot connect" in text
    assert "已发出 2 位顾问的计划、1 份经理汇总" in text  # the emails went out
    assert "key=store" not in text  # never the webhook URL
    assert len(ops.posts) == 1
    assert (flow_run(server, f"nightly-{AS_OF}")["state_name"]) == "Partial"


def test_a_failed_night_is_one_sentence_on_the_terminal_and_a_message_to_ops(
        tmp_path: Path, server: str, smtp: Smtp, robots: tuple[RobotServer, RobotServer]) -> None:
    store, ops = robots
    smtp.up()
    site = make_site(tmp_path, server)
    env = site_env(site, smtp, store.url, ops.url, GENJIN_TEST_CRASH_AT="during_outputs",
                   GENJIN_TEST_CRASH_MODE="raise")
    proc = genjin_run(site, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    log = site / "out" / "logs" / f"nightly-{AS_OF}.log"
    assert proc.stderr.strip().splitlines()[-3:] == [
        f"genjin: {AS_OF} 的夜间运行没有完成，停在「写出清单和报表」：程序出错：InjectedFailure: "
        "GENJIN_TEST_CRASH_AT=during_outputs",
        f"  / the night of {AS_OF} did not finish; it stopped while writing the worklists and reports: an error "
        "stopped it: InjectedFailure: GENJIN_TEST_CRASH_AT=during_outputs",
        f"  已通知运维（email、robot）/ ops were told (email, robot)。完整日志 / full log: {Path('out/logs')}/"
        f"nightly-{AS_OF}.log"]
    assert "Traceback" in log.read_text(encoding="utf-8")  # the whole story is in the log
    [told] = failure_mails(smtp)
    assert told["Subject"] == f"【genjin】{AS_OF} 夜间运行失败 · 停在：写出清单和报表"
    text = told.get_body(("plain",)).get_content()
    for words in (f"nightly-{AS_OF}", "writing the worklists and reports", "InjectedFailure",
                  f"genjin run --as-of {AS_OF} --send", "今天顾问没有收到计划邮件", str(log)):
        assert words in text, words
    [post] = texts(ops.posts)
    assert "夜间运行失败" in post and "写出清单和报表" in post
    assert smtp.to("s1@dealer.cn") == [] and store.posts == []  # nothing else went out
    assert flow_run(server, f"nightly-{AS_OF}")["state_type"] == "FAILED"


# --- genjin serve --------------------------------------------------------------------------------------------


def child_of(flow_run_id: str) -> int | None:
    """The process running flow run `flow_run_id` (the runner gives it PREFECT__FLOW_RUN_ID)."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    return int(entry.name)
            except OSError:
                continue
    return None


def test_serve_tells_ops_of_a_bad_folder_a_cancelled_run_a_killed_one_and_a_missed_night(
        tmp_path: Path, server: str, smtp: Smtp, robots: tuple[RobotServer, RobotServer]) -> None:
    store, ops = robots
    smtp.up()
    site = tmp_path / "site"
    drop_folder(site / "drop")
    start = (datetime.now(ZoneInfo("Asia/Shanghai")).hour + 3) % 24  # intraday hours no scheduled run reaches
    start = start if start <= 21 else 1
    (site / "genjin.toml").write_text("missed_night_hours = 0.01\n" + TOML + f'[intraday]\nhours = '
                                      f'"{start:02d}:00-{start + 2:02d}:00"\n', encoding="utf-8")
    (site / "a-file").write_text("not a folder", encoding="utf-8")
    env = site_env(site, smtp, store.url, ops.url, PREFECT_API_URL=server, PREFECT_RUNNER_POLL_FREQUENCY="1",
                   PREFECT_HOME=str(site / "prefect"))
    log = (site / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "genjin.cli", "serve", "--drop", "drop", "--out", "out",
                              "--send"], cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=server, timeout=10) as api:

            def deployment(name: str) -> dict[str, Any] | None:
                r = api.get(f"/deployments/name/{name}")
                return r.json() if r.status_code == 200 else None

            nightly = _until("the deployments", lambda: deployment("genjin-nightly-scheduled/nightly"), 240, [serve])
            _until("the ops-alert deployment", lambda: deployment("genjin-ops-alert/ops-alert"), 60, [serve])

            def automations() -> bool:
                names = {a["name"] for a in api.post("/automations/filter", json={}).json()}
                return {"genjin-nightly-no-night-completed", "genjin-nightly-run-failed"} <= names

            _until("the automations", automations, 120, [serve])

            def run(parameters: dict[str, Any], dep: dict[str, Any] = nightly) -> dict[str, Any]:
                return post(api, f"/deployments/{dep['id']}/create_flow_run", {"parameters": parameters})  # type: ignore[no-any-return]

            def ended(run_id: str) -> dict[str, Any] | None:
                found = api.get(f"/flow_runs/{run_id}").json()
                return found if found["state_type"] in FINAL else None

            def mail_about(words: str) -> EmailMessage | None:
                found = [m for m in failure_mails(smtp) if words in m.get_body(("plain",)).get_content()]
                return found[0] if found else None

            def posted(*words: str) -> bool:  # the hook mails first, then posts
                return any(all(w in t for w in words) for t in texts(ops.posts))

            # 1. an out folder that is a file (a parameter of the run)
            bad = run({"out": str(site / "a-file"), "as_of": "2026-11-19"})
            done = _until("the run with a file for its out folder", lambda: ended(bad["id"]), 180, [serve])
            assert (done["state_type"], done["name"]) == ("FAILED", "nightly-2026-11-19")
            told = _until("the ops email about the folder", lambda: mail_about("nightly-2026-11-19"), 60, [serve])
            text = told.get_body(("plain",)).get_content()
            assert f"输出文件夹 out: {site / 'a-file'} 不是文件夹（是一个文件）/ is not a folder" in text
            assert "检查文件夹和策略" in text and f"/runs/flow-run/{bad['id']}" in text
            _until("the ops robot post about the folder", lambda: posted("不是文件夹", "nightly-2026-11-19"), 60,
                   [serve])

            # 2. a run cancelled while it watches the drop folder
            slow = {"settle_seconds": 600, "as_of": "2026-11-20"}
            cancelled = run(slow)
            marker = site / "history" / ".genjin-run.json"
            _until("the run to start reading", lambda: marker.exists() and cancelled["id"] in marker.read_text(),
                   180, [serve])
            post(api, f"/flow_runs/{cancelled['id']}/set_state",
                 {"state": {"type": "CANCELLING", "name": "Cancelling"}})
            done = _until("the cancelled run", lambda: ended(cancelled["id"]), 120, [serve])
            assert done["state_type"] == "CANCELLED"
            told = _until("the ops email about the cancelled run", lambda: mail_about("nightly-2026-11-20"), 60,
                          [serve])
            assert "被取消" in told["Subject"] and "someone cancelled this run in Prefect" in told.get_body(
                ("plain",)).get_content()

            # 3. a run whose process is killed (kill -9, as a power cut or the OOM killer would)
            killed = run(slow | {"as_of": "2026-11-21"})
            _until("the run to start reading", lambda: killed["id"] in marker.read_text(), 180, [serve])
            pid = _until("the run's process", lambda: child_of(killed["id"]), 30, [serve])
            os.kill(pid, signal.SIGKILL)
            done = _until("the killed run", lambda: ended(killed["id"]), 120, [serve])
            assert done["state_type"] == "CRASHED"
            told = _until("the ops email about the killed run", lambda: mail_about("nightly-2026-11-21"), 60,
                          [serve])
            text = told.get_body(("plain",)).get_content()
            assert "中断" in told["Subject"] and "运行进程意外结束" in text and "读取文件" in text
            _until("the ops robot post about the killed run", lambda: posted("中断", "nightly-2026-11-21"), 60,
                   [serve])

            # 4. no night has completed within the window (0.01 h): the server posts to ops' robot itself, and the
            #    ops-alert run mails them
            _until("the missed-night post", lambda: any("没有一次夜间运行完成" in t for t in texts(ops.posts)), 240,
                   [serve])
            told = _until("the missed-night email", lambda: mail_about("no nightly run has completed for 0.01 hours"),
                          180, [serve])
            assert "夜间运行没有运行" in told["Subject"] and "genjin serve" in told.get_body(("plain",)).get_content()

            # 5. an intraday run outside the opening hours did nothing, and says so
            intraday = deployment("genjin-intraday-scheduled/intraday")
            assert intraday is not None
            skipped = run({"at": f"2026-11-22T{(start + 12) % 24:02d}:00"}, intraday)
            done = _until("the intraday run", lambda: ended(skipped["id"]), 120, [serve])
            assert (done["state_type"], done["state_name"]) == ("COMPLETED", "Skipped")
            assert done["name"] == f"intraday-2026-11-22-{(start + 12) % 24:02d}:00"

            # each failed run told once by email, though the automation's ops-alert run looked at each too
            alerts = deployment("genjin-ops-alert/ops-alert")
            assert alerts is not None

            def failed_alerts_done() -> bool:
                runs = api.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [alerts["id"]]}}}).json()
                failed = [r for r in runs if r["parameters"].get("what") == "failed"]
                return len(failed) >= 3 and all(r["state_type"] == "COMPLETED" for r in failed)

            _until("the automation's ops-alert runs", failed_alerts_done, 240, [serve])
            for night in ("2026-11-19", "2026-11-20", "2026-11-21"):
                assert len([m for m in failure_mails(smtp) if f"nightly-{night}" in str(
                    m.get_body(("plain",)).get_content())]) == 1, night
    finally:
        _stop(serve)
        log.close()
    assert "Traceback" not in "\n".join(texts(ops.posts))
