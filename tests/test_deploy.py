"""deploy/: the systemd units of the Prefect server and `genjin serve` (checked by `systemd-analyze verify`, as
installed: the code in /opt/genjin), the secrets' environment file, the Prefect database's retention, the clean-up
of Prefect's result storage, and the production install without the development tools (docs/it.md)."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from demo.sample_data import generate

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNITS = ("genjin-prefect.service", "genjin-serve.service", "genjin-backup.service", "genjin-backup.timer")
DEV_TOOLS = {"mypy", "ruff", "pytest", "hypothesis", "aiosmtpd", "import-linter", "msoffcrypto-tool", "xlwt"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys as written: ExecStart, not execstart
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def environment(name: str) -> dict[str, str]:
    """The unit's Environment= lines (one KEY=value each)."""
    lines = (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.removeprefix("Environment=").split("=", 1) for line in lines if line.startswith("Environment="))


def installed(tmp_path: Path, env_file: Path) -> list[Path]:
    """The units as they would be installed here: this clone for /opt/genjin, a real file for the secrets."""
    out = []
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace("/opt/genjin", str(REPO)).replace("/etc/genjin/genjin.env", str(env_file))
        (tmp_path / name).write_text(text, encoding="utf-8")
        out.append(tmp_path / name)
    return out


def verify(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def systemd_analyze() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (apt-get install systemd)")
    probe = subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"systemd-analyze cannot run here: {probe.stderr.strip()}")


def test_the_units_pass_systemd_analyze_verify(tmp_path, systemd_analyze):
    env_file = tmp_path / "genjin.env"
    shutil.copy(DEPLOY / "genjin.env.example", env_file)
    proc = verify(installed(tmp_path, env_file))
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    # the check is not empty: a wrong program path or a misspelt option is found
    broken = tmp_path / "broken"
    broken.mkdir()
    paths = installed(broken, env_file)
    paths[1].write_text(paths[1].read_text().replace(".venv/bin/genjin", ".venv/bin/genjn"), encoding="utf-8")
    assert "genjn is not executable" in verify(paths).stderr


def test_both_start_on_boot_restart_on_failure_and_serve_waits_for_the_server():
    prefect, serve, backup, timer = (unit(name) for name in UNITS)
    for u in (prefect, serve):
        assert u["Install"]["WantedBy"] == "multi-user.target"
        assert u["Service"]["Restart"] == "on-failure"
        assert u["Service"]["User"] == "genjin"
    assert prefect["Service"]["ExecStart"].startswith("/opt/genjin/.venv/bin/prefect server start --host 127.0.0.1")
    assert serve["Service"]["ExecStart"] == "/opt/genjin/.venv/bin/genjin serve --send"
    assert "genjin-prefect.service" in serve["Unit"]["After"] and "genjin-prefect.service" in serve["Unit"]["Wants"]
    assert serve["Unit"]["StartLimitIntervalSec"] == "0"  # keeps trying while the server starts
    assert serve["Service"]["EnvironmentFile"] == "/etc/genjin/genjin.env"
    assert environment(UNITS[1])["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    # the daily backup: under the run lock (it waits for a late night), 30 days kept
    assert backup["Service"]["ExecStart"] == ("/opt/genjin/.venv/bin/genjin backup /var/backups/genjin "
                                              "--wait-seconds 3600")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 04:30:00" and timer["Install"]["WantedBy"] == "timers.target"


def test_the_environment_file_carries_the_secrets_genjin_reads(tmp_path):
    """The example holds names and no value; filled in, `genjin settings` under the unit's environment takes the
    password from it, and shows it only as ***."""
    text = (DEPLOY / "genjin.env.example").read_text(encoding="utf-8")
    assert "GENJIN_SMTP_PASSWORD=\n" in text
    filled = {"GENJIN_SMTP_PASSWORD": "s3cret-pw"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENJIN_", "PREFECT_"))}
    env |= environment(UNITS[1]) | filled | {"GENJIN_CONFIG": str(tmp_path / "genjin.toml")}
    (tmp_path / "genjin.toml").write_text('[mail]\nhost = "smtp.dealer.cn"\nuser = "crm@dealer.cn"\n',
                                          encoding="utf-8")
    (tmp_path / "data" / "drop").mkdir(parents=True)  # `genjin settings` exits 2 on what `run` would refuse
    proc = subprocess.run([sys.executable, "-m", "genjin.cli", "settings"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(row for row in proc.stdout.splitlines() if "smtp_password" in row)
    assert "***" in line and "GENJIN_SMTP_PASSWORD" in line
    assert "s3cret-pw" not in proc.stdout + proc.stderr


def test_the_prefect_database_is_kept_bounded():
    """The server unit's environment, read by Prefect itself: flow runs (and their logs) deleted 90 days after they
    ended, events after 7."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | environment(UNITS[0])
    code = ("from prefect.settings import get_current_settings as s; v = s().server.services.db_vacuum; "
            "print(sorted(v.enabled_vacuum_types), v.retention_period.days, s().server.events.retention_period.days)")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.split("\n")[0] == "['events', 'flow_runs', 'orphans'] 90 7", proc.stderr


def test_prefect_s_stored_failures_are_cleaned_after_90_days(tmp_path):
    if shutil.which("systemd-tmpfiles") is None:
        pytest.skip("systemd-tmpfiles is not installed here")
    storage = tmp_path / "storage"
    storage.mkdir()
    old, new = storage / "old-failure", storage / "new-failure"
    old.write_bytes(b"pickle")
    new.write_bytes(b"pickle")
    then = time.time() - 91 * 86400
    os.utime(old, (then, then))
    conf = tmp_path / "genjin.conf"
    conf.write_text((DEPLOY / "genjin.tmpfiles.conf").read_text(encoding="utf-8").replace(
        "/var/lib/genjin/serve/storage", str(storage)), encoding="utf-8")
    proc = subprocess.run(["systemd-tmpfiles", "--clean", str(conf)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not old.exists() and new.exists()


def test_the_production_install_holds_no_development_tool():
    """What `uv sync --locked --no-dev` installs: genjin's dependencies in uv.lock and theirs, every optional extra
    and platform included — none of the development tools."""
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    wanted, seen = [dict(d) for d in packages["genjin"]["dependencies"]], set()
    while wanted:
        dep = wanted.pop()
        package = packages[dep["name"]]
        if dep["name"] in seen and not dep.get("extra"):
            continue
        seen.add(dep["name"])
        wanted += package.get("dependencies", [])
        for extra in dep.get("extra", []):
            wanted += package.get("optional-dependencies", {}).get(extra, [])
    assert {"prefect", "polars", "deltalake", "filelock", "pandera"} <= seen
    assert not seen & DEV_TOOLS, seen & DEV_TOOLS
    assert {d["name"] for d in packages["genjin"]["dev-dependencies"]["dev"]} >= {"mypy", "ruff", "pytest"}


def it_md_blocks(after: str, lang: str) -> list[str]:
    """The ```lang blocks of docs/it.md's production install that follow the line starting with `after`."""
    text = (REPO / "docs" / "it.md").read_text(encoding="utf-8")
    install = text.split("## 安装 · Install (production)")[1].split("\n## ")[0]
    return re.findall(rf"^```{lang}\n(.*?)^```", install.split("\n" + after, 1)[1], flags=re.M | re.S)


def as_here(line: str, venv: Path, srv: Path, secrets: Path) -> tuple[list[str], Path | None, dict[str, str]]:
    """A command of the docs as run here: this venv for /opt/genjin/.venv, temporary folders for /srv/genjin and
    /etc/genjin/genjin.env, the comment dropped; `systemd-run` (no systemd here) as its command in its working
    directory with its EnvironmentFile's variables. Returns the command, the folder and the variables."""
    for real, here in (("/opt/genjin/.venv", venv), ("/srv/genjin", srv), ("/etc/genjin/genjin.env", secrets)):
        line = line.replace(real, str(here))
    words = shlex.split(line.split("#")[0])
    cwd, env = None, {}
    if words[0] == "systemd-run":
        words.pop(0)
        while words[0].startswith("-"):
            option = words.pop(0)
            if option == "-p" and words[0].startswith("EnvironmentFile="):
                text = Path(words.pop(0).removeprefix("EnvironmentFile=")).read_text(encoding="utf-8")
                env = dict(kv.split("=", 1) for kv in text.splitlines() if kv.strip() and not kv.startswith("#"))
            elif option.startswith("--working-directory="):
                cwd = Path(option.removeprefix("--working-directory="))
    return words, cwd, env


@pytest.mark.slow
def test_the_production_install_runs_a_night_without_the_development_tools(tmp_path):
    """docs/it.md's production install, its own commands: `uv sync --locked --no-dev` (into a temporary environment,
    not /opt/genjin/.venv), the store's genjin.toml and policy.toml as the page gives them, then `genjin settings`
    and `genjin run` as the page runs them — over a small drop — with none of the development tools installed."""
    uv = REPO / ".tools" / "bin" / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{uv} is missing: the README's Quick start installs it", pytrace=False)
        pytest.skip(f"the project's uv is not in this clone ({uv}: the README's Quick start installs it)")
    root_steps = it_md_blocks("As root:", "bash")[0]
    [sync] = [line for line in root_steps.splitlines() if " sync " in line]
    venv, srv, secrets = tmp_path / "venv", tmp_path / "srv", tmp_path / "genjin.env"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENJIN_", "PREFECT_", "VIRTUAL_ENV"))}
    env |= {"HOME": str(tmp_path / "home"), "UV_PROJECT_ENVIRONMENT": str(venv)}
    command, _, _ = as_here(sync, venv, srv, secrets)
    assert command[:4] == [".tools/bin/uv", "sync", "--locked", "--no-dev"]
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr

    names = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    listed = subprocess.run([venv / "bin" / "python", "-c", names], capture_output=True, text=True, check=True)
    installed = {re.sub(r"[-_.]+", "-", name.lower()) for name in listed.stdout.split()}
    assert {"genjin", "prefect", "polars", "deltalake", "filelock"} <= installed
    assert not installed & DEV_TOOLS, installed & DEV_TOOLS

    settings_toml, policy_toml = it_md_blocks("Then the store's settings", "toml")[:2]
    (srv / "data" / "drop").mkdir(parents=True)  # `install -d … /srv/genjin/data/drop`
    (srv / "genjin.toml").write_text(settings_toml, encoding="utf-8")
    (srv / "policy.toml").write_text(policy_toml, encoding="utf-8")
    example = (DEPLOY / "genjin.env.example").read_text(encoding="utf-8")  # `install … genjin.env.example`, `editor`
    secrets.write_text(example.replace("GENJIN_SMTP_PASSWORD=\n", "GENJIN_SMTP_PASSWORD=s3cret pw$x\n"), "utf-8")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the docs' genjin.toml: timezone = "Asia/Shanghai"
    written = generate(srv / "data" / "drop", as_of=today, seed=5, size=1)
    check_steps = it_md_blocks("only). Check the settings", "bash")[0].replace("\\\n", "")
    settings_line, run_line = check_steps.strip().splitlines()
    command, cwd, secret_env = as_here(settings_line, venv, srv, secrets)
    assert (command[1:], cwd, secret_env) == (["settings", "--config", str(srv / "genjin.toml")], srv,
                                              {"GENJIN_SMTP_PASSWORD": "s3cret pw$x"})
    proc = subprocess.run(command, cwd=cwd, env=env | secret_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[3:]}
    assert rows["drop"] == [str(srv / "data" / "drop"), "default", "(data_root/drop)"]
    assert rows["policy"] == [str(srv / "policy.toml"), f"{srv / 'genjin.toml'}:", "policy"]
    assert rows["smtp_password"] == ["***", "GENJIN_SMTP_PASSWORD"] and "s3cret" not in proc.stdout
    command, cwd, secret_env = as_here(run_line, venv, srv, secrets)
    assert command[1:] == ["run", "--config", str(srv / "genjin.toml")]
    proc = subprocess.run(command, cwd=cwd, env=env | secret_env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    night = srv / "data" / "out" / today.isoformat()
    run_json = json.loads((night / "run.json").read_text(encoding="utf-8"))
    assert {f["name"] for f in run_json["files"]} == {p.name for p in written}
    assert run_json["tasks"]["total"] > 0 and (night / "worklist.csv").is_file()
    assert {p.name for p in (srv / "data" / "archive" / today.isoformat()).iterdir()} == {p.name for p in written}
