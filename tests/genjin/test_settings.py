"""genjin's settings (genjin/settings.py, issue #8): flags > GENJIN_* > genjin.toml > defaults, errors in both
languages with exit code 2, the password from the environment only and never shown."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from adapters.mail import smtp_settings
from demo.sample_data import generate
from genjin import cli
from genjin.settings import SettingsError, load

GENJIN_VARS = [k for k in os.environ if k.startswith("GENJIN_")]


@pytest.fixture(autouse=True)
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No GENJIN_* from the caller's environment, and a current folder without a genjin.toml."""
    for key in GENJIN_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _toml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_without_settings_the_layout_is_todays() -> None:
    s = load({}, {})
    assert (s.drop, s.out) == (Path("data/drop"), Path("data/out"))
    folders = s.folders()
    assert (folders.archive, folders.quarantine, folders.history) == (
        Path("data/archive"), Path("data/quarantine"), Path("data/history"))
    assert (s.timezone, s.policy, s.settle_seconds, s.schedule, s.dask_address) == (
        "Asia/Shanghai", None, 5.0, "0 2 * * *", None)
    assert s.config is None


def test_a_drop_flag_keeps_archive_and_history_beside_it(tmp_path: Path) -> None:
    s = load({"drop": tmp_path / "night" / "drop"}, {})
    assert s.history == tmp_path / "night" / "history"
    assert s.archive == tmp_path / "night" / "archive"
    assert s.out == Path("data/out")  # as `genjin run --drop DIR` always did


def test_flag_beats_environment_beats_toml_beats_default(tmp_path: Path) -> None:
    conf = _toml(tmp_path / "conf" / "genjin.toml", """
timezone = "Europe/Berlin"
settle_seconds = 5
schedule = "30 1 * * *"
dask_address = "tcp://10.0.0.5:8786"
""")
    env = {"GENJIN_TIMEZONE": "Asia/Tokyo", "GENJIN_SETTLE_SECONDS": "7", "GENJIN_CONFIG": str(conf)}
    s = load({"settle_seconds": 9.0, "timezone": None}, env)
    assert s.settle_seconds == 9.0  # flag over environment and toml
    assert s.timezone == "Asia/Tokyo"  # environment over toml (the flag was not given)
    assert s.schedule == "30 1 * * *"  # toml over the default
    assert s.dask_address == "tcp://10.0.0.5:8786"
    assert s.policy is None  # default
    assert s.sources["settle_seconds"] == "--settle-seconds"
    assert s.sources["timezone"] == "GENJIN_TIMEZONE"
    assert s.sources["schedule"] == f"{conf}: schedule"
    assert s.sources["policy"] == "default"
    assert s.config == conf


def test_relative_paths_in_the_toml_resolve_against_its_folder(tmp_path: Path) -> None:
    conf = _toml(tmp_path / "etc" / "genjin" / "genjin.toml", f"""
data_root = "../../srv"
history = "keep/history"
quarantine = "{tmp_path / 'q'}"
policy = "store.toml"
""")
    s = load({}, {}, conf)
    here = tmp_path / "etc" / "genjin"
    assert s.data_root == here / "../../srv"
    assert s.drop == here / "../../srv" / "drop"
    assert s.out == here / "../../srv" / "out"
    assert s.archive == here / "../../srv" / "archive"  # beside the drop folder
    assert s.history == here / "keep" / "history"
    assert s.quarantine == tmp_path / "q"  # absolute stays absolute
    assert s.policy == here / "store.toml"
    # from the environment a relative path is relative to the current folder
    assert load({}, {"GENJIN_HISTORY": "h"}, conf).history == Path("h")


def test_the_toml_is_found_by_flag_then_environment_then_current_folder(tmp_path: Path) -> None:
    _toml(tmp_path / "genjin.toml", 'timezone = "Asia/Tokyo"\n')
    env_conf = _toml(tmp_path / "a" / "genjin.toml", 'timezone = "Europe/Berlin"\n')
    flag_conf = _toml(tmp_path / "b" / "genjin.toml", 'timezone = "America/New_York"\n')
    assert load({}, {}).timezone == "Asia/Tokyo"
    assert load({}, {"GENJIN_CONFIG": str(env_conf)}).timezone == "Europe/Berlin"
    assert load({}, {"GENJIN_CONFIG": str(env_conf)}, flag_conf).timezone == "America/New_York"


def test_mail_settings_from_the_toml_and_the_password_from_the_environment(tmp_path: Path) -> None:
    conf = _toml(tmp_path / "genjin.toml", """
[mail]
host = "smtp.exmail.qq.com"
security = "SSL"
user = "crm@dealer.cn"
from = "某某4S店 <crm@dealer.cn>"
""")
    s = load({}, {"GENJIN_SMTP_PASSWORD": "s3cret pw "}, conf)
    smtp = smtp_settings(s.mail_settings(), s.smtp_password.get_secret_value() if s.smtp_password else None)
    assert (smtp.host, smtp.port, smtp.security, smtp.user) == ("smtp.exmail.qq.com", 465, "ssl", "crm@dealer.cn")
    assert smtp.sender == "某某4S店 <crm@dealer.cn>"
    assert smtp.password == "s3cret pw "  # not stripped
    assert "s3cret" not in repr(s) and "s3cret" not in str(s)
    # the environment names still work on their own and win over the file
    s = load({}, {"GENJIN_SMTP_HOST": "mail.dealer.cn", "GENJIN_SMTP_PORT": "2525"}, conf)
    assert (s.smtp_host, s.smtp_port) == ("mail.dealer.cn", 2525)
    assert s.sources["smtp_host"] == "GENJIN_SMTP_HOST"


@pytest.mark.parametrize(("text", "env", "expected"), [
    ('drop = "in"\ndrops = "x"\n', {}, ["未知的设置", "unknown setting", "drops"]),
    ('[mail]\nhots = "x"\n', {}, ["未知的设置", "unknown setting", "mail.hots"]),
    ('settle_seconds = "soon"\n', {}, ["设置有误", "invalid setting", "settle_seconds", "应为数字", "valid number"]),
    ('[mail]\nport = 70000\n', {}, ["设置有误", "invalid setting", "mail.port", "less than 65536"]),
    ('timezone = "Asia/Beijing"\n', {}, ["未知时区", "unknown time zone", "timezone", "Asia/Beijing"]),
    ("", {"GENJIN_TIMEZONE": "Mars/Olympus"}, ["未知时区", "unknown time zone", "GENJIN_TIMEZONE"]),
    ("", {"GENJIN_SMTP_SECURITY": "tls"}, ["设置有误", "invalid setting", "GENJIN_SMTP_SECURITY"]),
    ('[mail]\nhost = "smtp.x.cn"\npassword = "hunter2"\n', {},
     ["不能保存密码", "must not hold the password", "GENJIN_SMTP_PASSWORD", "mail.password"]),
    ("drop = [", {}, ["不是有效的 TOML", "not valid TOML"]),
])  # fmt: skip
def test_bad_settings_stop_with_a_bilingual_message_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str,
    env: dict[str, str], expected: list[str],
) -> None:
    _toml(tmp_path / "genjin.toml", text)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for command in (["run"], ["settings"], ["serve"]):
        assert cli.main(command) == 2
        captured = capsys.readouterr()
        for word in expected:
            assert word in captured.err
        assert "hunter2" not in captured.err + captured.out
        assert "Traceback" not in captured.err


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="找不到设置文件 / settings file not found"):
        load({}, {}, tmp_path / "nope.toml")


def test_genjin_settings_shows_every_value_and_its_source_but_never_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    _toml(tmp_path / "genjin.toml", '[mail]\nhost = "smtp.x.cn"\nuser = "crm@dealer.cn"\n')
    monkeypatch.setenv("GENJIN_SMTP_PASSWORD", "hunter2-Top")
    monkeypatch.setenv("GENJIN_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    (tmp_path / "in").mkdir()  # a drop folder that exists: nothing for `genjin settings` to refuse
    assert cli.main(["settings", "--cron", "0 3 * * *", "--drop", "in"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[3:]}
    assert rows["smtp_password"] == ["***", "GENJIN_SMTP_PASSWORD"]
    assert rows["smtp_host"] == ["smtp.x.cn", "genjin.toml:", "mail.host"]
    assert rows["schedule"] == ["0", "3", "*", "*", "*", "--cron"]
    assert rows["drop"] == [str(tmp_path / "in"), "--drop"]
    assert rows["history"] == [str(tmp_path / "history"), "default", "(beside", "drop)"]
    assert rows["dask_address"] == ["tcp://10.0.0.5:8786", "GENJIN_DASK_ADDRESS"]
    assert rows["timezone"] == ["Asia/Shanghai", "default"]


@pytest.mark.slow
def test_genjin_run_with_only_a_genjin_toml(tmp_path: Path) -> None:
    """No flags: ./genjin.toml names the folders; the run reads that drop folder, writes the configured out,
    archive and history folders, and shows the four stages with counts that match run.json and the table."""
    site = tmp_path / "site"
    _toml(site / "genjin.toml", """
data_root = "dealer"
out = "/OUT_PLACEHOLDER"
history = "keep/history"
settle_seconds = 0
timezone = "Asia/Shanghai"
""".replace("/OUT_PLACEHOLDER", str(tmp_path / "reports")))
    written = generate(site / "dealer" / "drop", as_of=date(2026, 11, 23), seed=3, size=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "genjin.cli", "run"], cwd=site, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [night] = [p for p in (tmp_path / "reports").iterdir() if p.name != "logs"]  # today in Asia/Shanghai
    assert (tmp_path / "reports" / "logs" / f"nightly-{night.name}.log").is_file()  # Prefect's records
    run = json.loads((night / "run.json").read_text(encoding="utf-8"))
    assert list((site / "dealer" / "drop").iterdir()) == []
    assert {p.name for p in (site / "dealer" / "archive" / night.name).iterdir()} == {p.name for p in written}
    assert (site / "keep" / "history" / "ledger").is_dir()
    assert not (site / "dealer" / "history").exists() and not (site / "dealer" / "out").exists()

    out = proc.stdout
    stages = re.findall(r"^\[(\d)/4\] \S+ (\w+) +(.*)$", out, flags=re.M)
    assert [(n, name) for n, name, _ in stages] == [("1", "read"), ("2", "store"), ("3", "worklist"), ("4", "write")]
    files, rows_in = len(run["files"]), sum(f["rows_in"] for f in run["files"])
    loaded, rejected = sum(f["rows_loaded"] for f in run["files"]), sum(f["rows_rejected"] for f in run["files"])
    assert stages[0][2].startswith(f"{files} files · {rows_in:,} rows · ")
    assert stages[1][2].startswith(f"{files} files loaded · {loaded:,} rows loaded · {rejected:,} rejected · ")
    assert stages[2][2].startswith(f"{run['tasks']['total']:,} tasks · {run['tasks']['advisors']} advisors · ")
    assert stages[3][2].startswith(f"{run['tasks']['advisors']} workbooks · {run['emails']['written']} emails · ")
    assert list(run["durations_s"]) == ["read", "store", "worklist", "write"]
    # the files table: one aligned row per file of run.json, then the total
    for f in run["files"]:
        [line] = [line for line in out.splitlines() if line.startswith(f"  {f['name']} ")]
        assert line.split()[1:5] == [f["kind"], f"{f['rows_in']:,}", f"{f['rows_loaded']:,}", f"{f['rows_rejected']:,}"]
    [total] = [line for line in out.splitlines() if line.startswith("  合计 total")]
    assert total.split()[2:5] == [f"{rows_in:,}", f"{loaded:,}", f"{rejected:,}"]
    for task_type, n in run["tasks"]["by_type"].items():  # each type in the dealership's words, then its code
        assert re.search(rf"^  \S+ {task_type} +{n:,}$", out, flags=re.M)
    if "first_contact" in run["tasks"]["by_type"]:
        assert "  首次联系 first_contact " in out
    assert str(night / "worklist.csv") in out
    for noise in ("Traceback", "ERROR", "Warning", "INFO", "stage="):  # nothing else from Prefect or genjin
        assert noise not in proc.stdout + proc.stderr


def test_a_dask_address_without_a_reachable_prefect_server_stops_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each Dask worker would start a temporary Prefect server of its own: genjin says what to set instead."""
    drop = tmp_path / "data" / "drop"
    drop.mkdir(parents=True)
    (drop / "线索.csv").write_text("线索编号,创建时间\n", encoding="utf-8")
    monkeypatch.setenv("GENJIN_DASK_ADDRESS", "tcp://127.0.0.1:1")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # `genjin run` keeps Prefect's home under ~/.genjin
    assert cli.main(["run", "--settle-seconds", "0"]) == 2
    err = capsys.readouterr().err
    assert "PREFECT_API_URL" in err and "Dask 集群" in err and "Traceback" not in err
    assert (drop / "线索.csv").exists()  # nothing read, moved or archived
    assert not (tmp_path / "data" / "archive").exists() and not (tmp_path / "data" / "history").exists()
