"""genjin's settings (issue #8): one typed object, from — highest first — command-line flags, `GENJIN_*`
environment variables, a `genjin.toml`, and the defaults below.

The file is `--config FILE`, else `GENJIN_CONFIG`, else `./genjin.toml` when there is one. Relative paths in it
resolve against its own folder; relative paths from flags or the environment against the current folder.
Without any settings the layout is today's: `data/drop`, `data/out`, and archive/, quarantine/, history/
beside the drop folder. The SMTP password comes from the environment only (`GENJIN_SMTP_PASSWORD`): a
genjin.toml that holds one is refused, and the password never appears in a repr or in `genjin settings`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator

from adapters.folders import Folders
from adapters.mail import ENV_NAMES as MAIL_ENV
from adapters.mail import PASSWORD_ENV, MailSettings
from adapters.robots import RobotConfig, robots_from
from genjin import prefect_env
from policy.model import opening_hours

CONFIG_NAME = "genjin.toml"
# Settings field → MailSettings field (their GENJIN_* names: adapters.mail.ENV_NAMES)
MAIL_FIELDS = {"smtp_host": "host", "smtp_port": "port", "smtp_security": "security", "smtp_user": "user",
               "mail_from": "sender", "ops_email": "ops_email", "ops_email_always": "ops_email_always"}
CONFIG_ENV = "GENJIN_CONFIG"


class SettingsError(ValueError):
    """Settings that cannot be used; the message is in Chinese and English and names the key at fault."""


@dataclass(frozen=True)
class Setting:
    """One setting and every name it goes by (the README's settings table is this list)."""

    field: str  # attribute of `Settings`
    toml: str  # key in genjin.toml ("mail.host" is `host` in the `[mail]` table)
    env: str
    flag: str | None  # command-line flag of `run`/`serve`/`settings`, if any
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_root", "data_root", "GENJIN_DATA_ROOT", "--data-root", "`data`",
            "the folder the other folders default to"),
    Setting("drop", "drop", "GENJIN_DROP", "--drop", "`DATA_ROOT/drop`", "where ops drop the exports"),
    Setting("archive", "archive", "GENJIN_ARCHIVE", "--archive", "`archive/` beside the drop folder",
            "processed originals, `archive/<as-of>/`"),
    Setting("quarantine", "quarantine", "GENJIN_QUARANTINE", "--quarantine", "`quarantine/` beside the drop folder",
            "unreadable files with a `.why.txt`"),
    Setting("history", "history", "GENJIN_HISTORY", "--history", "`history/` beside the drop folder",
            "the Delta tables, the ledger, the sent-mail ledger and the run lock"),
    Setting("out", "out", "GENJIN_OUT", "--out", "`DATA_ROOT/out`", "the nights' outputs, `OUT/<as-of>/`"),
    Setting("timezone", "timezone", "GENJIN_TIMEZONE", "--timezone", "`Asia/Shanghai`",
            "the time zone of \"today\" (`--as-of`) and of the schedule"),
    Setting("policy", "policy", "GENJIN_POLICY", "--policy", "the built-in policy", "the follow-up policy TOML"),
    Setting("settle_seconds", "settle_seconds", "GENJIN_SETTLE_SECONDS", "--settle-seconds", "`5`",
            "how long a run watches the drop folder: a file whose size or time changes meanwhile is held"),
    Setting("schedule", "schedule", "GENJIN_SCHEDULE", "--cron", "`0 2 * * *`", "when `genjin serve` runs the night"),
    Setting("intraday_minutes", "intraday.minutes", "GENJIN_INTRADAY_MINUTES", None, "`15`",
            "how often `genjin serve` picks up the day's lead and follow-up files and sends alerts (a divisor of 60)"),
    Setting("intraday_hours", "intraday.hours", "GENJIN_INTRADAY_HOURS", None, "`08:30-21:00`",
            "the store's opening hours, when the intraday pick-up runs; `off` serves the night only"),
    Setting("robots", "robots.\"<store>\"", "— (genjin.toml only)", None, "none",
            "each store's group robot: `channel` (`wecom` or `dingtalk`), `webhook_env` and for DingTalk "
            "`secret_env`, the names of the environment variables holding the webhook URL and the secret"),
    Setting("ops_robot", "ops_robot", "— (genjin.toml only)", None, "none",
            "ops' group robot, told when a night or an intraday run fails, is cut off or cancelled, or when no night "
            "has completed for `missed_night_hours`: `channel`, `webhook_env` (and `secret_env`) as for a store"),
    Setting("missed_night_hours", "missed_night_hours", "GENJIN_MISSED_NIGHT_HOURS", None, "`26`",
            "`genjin serve` tells ops when no night has completed for this many hours"),
    Setting("delivery_retry_seconds", "delivery_retry_seconds", "GENJIN_DELIVERY_RETRY_SECONDS", None, "`30`",
            "a night whose emails or group posts failed tries again after this long, then after twice as long"),
    Setting("prefect_api_url", "prefect_api_url", "— (PREFECT_API_URL is Prefect's own)", None,
            "the Prefect profile's, else a temporary server for `run`",
            "the Prefect server `run` and `serve` use, unless PREFECT_API_URL is set"),
    Setting("dask_address", "dask_address", "GENJIN_DASK_ADDRESS", None, "none (no cluster)",
            "the scheduler address of a Dask cluster, e.g. `tcp://10.0.0.5:8786`"),
    Setting("smtp_host", "mail.host", MAIL_ENV["host"], None, "none", "the mail server (required with `--send`)"),
    Setting("smtp_port", "mail.port", MAIL_ENV["port"], None, "587 / 465 / 25 by security", "the mail server's port"),
    Setting("smtp_security", "mail.security", MAIL_ENV["security"], None, "`starttls`",
            "`starttls`, `ssl` or `none`"),
    Setting("smtp_user", "mail.user", MAIL_ENV["user"], None, "none", "the SMTP login"),
    Setting("mail_from", "mail.from", MAIL_ENV["sender"], None, "the user, when it is an address",
            "the sender, e.g. `某某4S店 <crm@dealer.cn>`"),
    Setting("ops_email", "ops_email", MAIL_ENV["ops_email"], None, "none",
            "ops staff's address: the night's files, held files, rejects and warnings (not on a clean night)"),
    Setting("ops_email_always", "ops_email_always", MAIL_ENV["ops_email_always"], None, "`false`",
            "`true`: the ops email also on a clean night"),
    Setting("smtp_password", "— (never in the file)", PASSWORD_ENV, None, "none",
            "the SMTP password, from the environment or the scheduler's secret store only"),
)
BY_FIELD = {s.field: s for s in SETTINGS}
TABLES = ("robots", "ops_robot")  # genjin.toml tables read whole (checked by `RobotConfig`)
TOML_KEYS = {s.toml: s for s in SETTINGS if s.field not in ("smtp_password", *TABLES)}
PATH_FIELDS = ("data_root", "drop", "archive", "quarantine", "history", "out", "policy")
BESIDE_DROP = ("archive", "quarantine", "history")


CRON_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute, hour, day of month, month, day of week
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
CRON_NAMES: tuple[dict[str, int], ...] = ({}, {}, {}, {m: i + 1 for i, m in enumerate(MONTHS)},
                                          {d: i for i, d in enumerate(DAYS)})
CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def is_cron(text: str) -> bool:
    """A standard five-field cron expression (numbers, names, `*`, ranges, steps, lists) or a macro such as
    `@daily`: what Prefect's Cron schedule takes, checked without importing Prefect."""
    fields = text.split()
    if len(fields) == 1 and fields[0].lower() in CRON_MACROS:
        return True
    if len(fields) != 5:
        return False
    for field, (low, high), names in zip(fields, CRON_FIELDS, CRON_NAMES, strict=True):
        for item in field.split(","):
            span, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                return False
            if span == "*":
                continue
            ends = span.split("-")
            values = [names.get(e.upper(), int(e) if e.isdigit() else None) for e in ends]
            if len(ends) > 2 or any(v is None or not low <= v <= high for v in values):
                return False
    return True


class Settings(BaseModel):
    """What genjin uses; `load()` builds it, `sources` says where each value came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_root: Path = Path("data")
    drop: Path = Path("data/drop")
    archive: Path = Path("data/archive")
    quarantine: Path = Path("data/quarantine")
    history: Path = Path("data/history")
    out: Path = Path("data/out")
    timezone: str = "Asia/Shanghai"
    policy: Path | None = None
    settle_seconds: float = Field(5.0, ge=0)
    schedule: str = "0 2 * * *"
    intraday_minutes: int = Field(15, gt=0, le=60)
    intraday_hours: str = "08:30-21:00"
    robots: dict[str, RobotConfig] = {}
    ops_robot: RobotConfig | None = None
    missed_night_hours: float = Field(26.0, ge=10 / 3600)  # a Prefect proactive trigger's window: ≥ 10 s
    delivery_retry_seconds: float = Field(30.0, ge=0)
    prefect_api_url: str | None = None
    dask_address: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, gt=0, lt=65536)
    smtp_security: Literal["none", "starttls", "ssl"] | None = None
    smtp_user: str | None = None
    mail_from: str | None = None
    ops_email: str | None = None
    ops_email_always: bool = False
    smtp_password: SecretStr | None = Field(None, repr=False)
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _config: Path | None = PrivateAttr(None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("未知时区 / unknown time zone (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not is_cron(value):
            raise ValueError("cron 表达式有误，应为 5 段，如 '0 2 * * *'（分 时 日 月 周）/ not a cron expression: "
                             "five fields expected, e.g. '0 2 * * *' (minute hour day month weekday)")
        return value.strip()

    @field_validator("intraday_minutes")
    @classmethod
    def _divides_an_hour(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("应能整除 60 / must divide 60 (5, 10, 15, 20, 30, 60)")
        return value

    @field_validator("intraday_hours")
    @classmethod
    def _opening_hours(cls, value: str) -> str:
        if value.strip().lower() == "off":
            return "off"
        try:
            opens, closes = opening_hours(value)
        except ValueError:
            raise ValueError("应为 HH:MM-HH:MM 或 off / must be HH:MM-HH:MM or off, e.g. 08:30-21:00") from None
        if opens >= closes:
            raise ValueError("开门时间应早于关门时间 / the opening must come before the closing")
        return value.strip()

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sources(self) -> dict[str, str]:
        """Where each value came from: `default`, `GENJIN_DROP`, `--drop`, `genjin.toml: mail.host`, …"""
        return {s.field: self._sources.get(s.field, "default") for s in SETTINGS}

    @property
    def config(self) -> Path | None:
        """The genjin.toml read, if any."""
        return self._config

    def folders(self) -> Folders:
        return Folders(self.drop, self.archive, self.quarantine, self.history, self.out)

    def mail_settings(self) -> MailSettings:
        """Where the night's mail goes, for the flows: without the password (read from the environment when the
        SMTP transport is made, adapters/mail.py)."""
        return MailSettings(**{mail: getattr(self, field) for field, mail in MAIL_FIELDS.items()})

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) for `genjin settings`; the password shows as *** when set."""
        found = []
        for s in SETTINGS:
            value = getattr(self, s.field)
            if s.field == "smtp_password":
                shown = "***" if value is not None else "-"
            elif s.field == "robots":
                shown = "; ".join(f"{store}: {c.shown()}" for store, c in value.items()) or "-"
            elif s.field == "ops_robot":
                shown = value.shown() if value is not None else "-"
            elif s.field == "prefect_api_url":  # the server Prefect will use, and why (PREFECT_API_URL wins)
                url, source = prefect_env.api_url(value)
                found.append((s.field, url or "-", source))
                continue
            elif isinstance(value, Path):
                shown = str(value.resolve())  # where it really is, relative to the current folder
            else:
                shown = "-" if value is None else str(value)
            found.append((s.field, shown, self._sources.get(s.field, "default")))
        return found


def config_file(flag: Path | None, env: Mapping[str, str]) -> Path | None:
    """`--config FILE`, else GENJIN_CONFIG, else ./genjin.toml when there is one."""
    if flag is not None:
        return flag
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return Path(CONFIG_NAME) if Path(CONFIG_NAME).is_file() else None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"找不到设置文件 / settings file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"无法读取设置文件 / cannot read the settings file {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"设置文件不是有效的 TOML / {path} is not valid TOML: {err}") from None
    tables = {name: data.pop(name) for name in TABLES if name in data}
    flat = _flatten(data)
    for key in flat:
        if "password" in key.lower():
            raise SettingsError(
                f"{path}: {key} — genjin.toml 不能保存密码，请设置环境变量 {PASSWORD_ENV}（或用调度器的密钥库）/ "
                f"genjin.toml must not hold the password: set {PASSWORD_ENV} in the environment instead")
    unknown = sorted(set(flat) - set(TOML_KEYS))
    if unknown:
        raise SettingsError(f"{path}: 未知的设置 / unknown setting: {', '.join(unknown)} "
                            f"(可用 / known: {', '.join(TOML_KEYS)})")
    folder = path.parent
    values: dict[str, Any] = {}
    for key, value in flat.items():
        field = TOML_KEYS[key].field
        if field in PATH_FIELDS and isinstance(value, str):
            value = folder / Path(value).expanduser()  # absolute stays absolute
        values[field] = value
    values.update(tables)  # robots: one table per store; ops_robot: one table
    return values


def load(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
         config: Path | None = None) -> Settings:
    """The effective settings: `flags` (by field name; None = not given) > `env` (default os.environ) >
    the genjin.toml (`config`, else GENJIN_CONFIG, else ./genjin.toml) > defaults. Raises `SettingsError`."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    path = config_file(config, env)
    if path is not None:
        for field, value in _read_toml(path).items():
            values[field], sources[field] = value, f"{path}: {BY_FIELD[field].toml}"
    for s in SETTINGS:
        text = env.get(s.env)
        if s.field in (*TABLES, "prefect_api_url"):
            continue  # genjin.toml only
        if not text or (s.field != "smtp_password" and not text.strip()):
            continue  # an empty variable is an unset one
        values[s.field], sources[s.field] = (text if s.field == "smtp_password" else text.strip()), s.env
    for field, value in (flags or {}).items():
        if value is not None:
            values[field], sources[field] = value, BY_FIELD[field].flag or field
    _derive_folders(values, sources)
    try:
        settings = Settings(**values)
    except ValidationError as err:
        raise SettingsError(_explain(err, sources)) from None
    settings._sources.update(sources)
    settings._config = path
    return settings


def _derive_folders(values: dict[str, Any], sources: dict[str, str]) -> None:
    """drop and out default to DATA_ROOT/drop and DATA_ROOT/out; archive, quarantine and history to folders
    beside the drop folder (as `Folders.beside`), so `genjin run --drop DIR` keeps its history beside DIR."""
    root = values.get("data_root", Path("data"))
    root = Path(root) if isinstance(root, str | Path) else Path("data")  # a wrong type is reported by pydantic
    for name in ("drop", "out"):
        if name not in values:
            values[name], sources[name] = root / name, f"default (data_root/{name})"
    drop = values["drop"]
    beside = Path(drop).parent if isinstance(drop, str | Path) else root
    for name in BESIDE_DROP:
        if name not in values:
            values[name], sources[name] = beside / name, "default (beside drop)"


NOT_AN_ENV_NAME = (
    "应填环境变量的名字（如 GENJIN_WECOM_PUDONG），网址和密钥只能放在环境变量里 / the name of an environment variable "
    "(e.g. GENJIN_WECOM_PUDONG): the webhook URL and the secret go in the environment only"
)
ZH = {  # pydantic's error types, in Chinese; its English message follows
    "float_parsing": "应为数字", "float_type": "应为数字", "int_parsing": "应为整数", "int_type": "应为整数",
    "int_from_float": "应为整数", "string_type": "应为文本", "path_type": "应为路径（文本）",
    "literal_error": "取值不在允许范围内", "greater_than_equal": "数值太小", "greater_than": "数值太小",
    "less_than": "数值太大", "bool_parsing": "应为 true 或 false",
}


def _explain(err: ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for e in err.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else "?"
        where = sources.get(field, field)
        got = "" if field in ("smtp_password", *TABLES) else f" (got {e.get('input')!r})"  # a URL holds a key
        message = e["msg"].removeprefix("Value error, ")
        if field in TABLES:
            where = where.replace('"<store>"', ".".join(map(str, e["loc"][1:])))
            if e["type"] == "string_pattern_mismatch":
                message = NOT_AN_ENV_NAME
            elif e["type"] != "value_error":
                message = f"{ZH.get(e['type'], '取值无效')} / {message}"
        elif e["type"] != "value_error":  # our own validators already say it in both languages
            message = f"{ZH.get(e['type'], '取值无效')} / {message}"
        lines.append(f"设置有误 / invalid setting {where}: {message}{got}")
    return "\n".join(lines)


# --- the command line -------------------------------------------------------------------------------------


def add_flags(p: argparse.ArgumentParser, cron: bool = False,
              policy_help: str = "policy TOML (default: the built-in one)") -> None:
    """The flags of `run`, `serve` and `settings` that override GENJIN_* and genjin.toml; None = not given."""
    g = p.add_argument_group("settings (override GENJIN_* and genjin.toml; `genjin settings` shows them)")
    g.add_argument("--config", type=Path, default=None, help=f"settings file (default {CONFIG_ENV} or ./{CONFIG_NAME})")
    g.add_argument("--data-root", type=Path, default=None, help="the folder the others default to (default data)")
    g.add_argument("--drop", type=Path, default=None, help="drop folder (default DATA_ROOT/drop)")
    g.add_argument("--out", type=Path, default=None, help="output folder (default DATA_ROOT/out)")
    for name in BESIDE_DROP:
        g.add_argument(f"--{name}", type=Path, default=None, help=f"{name} folder (default beside the drop folder)")
    g.add_argument("--policy", type=Path, default=None, help=policy_help)
    g.add_argument("--timezone", default=None, help="time zone of today and of the schedule (default Asia/Shanghai)")
    g.add_argument("--settle-seconds", type=float, default=None,
                   help="watch the drop folder this long; a file still changing is held for the next run (default 5)")
    if cron:
        g.add_argument("--cron", dest="schedule", default=None,
                       help="when `serve` runs the night (default '0 2 * * *')")


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """The settings for parsed `add_flags` arguments."""
    flags = {s.field: getattr(args, s.field) for s in SETTINGS if s.flag and hasattr(args, s.field)}
    return load(flags, env, getattr(args, "config", None))


# --- what `run` and `serve` would refuse (genjin/commands/preflight.py puts these together) -------------------

OTHER_ENV = ("GENJIN_CONFIG", "GENJIN_TEST_CRASH_AT", "GENJIN_TEST_CRASH_MODE", "GENJIN_FUZZ_CASES",
             "GENJIN_FUZZ_NIGHTS", "GENJIN_SCREENSHOT_DIR")  # read elsewhere: tests, tools


def env_names(settings: Settings | None = None) -> set[str]:
    """Every GENJIN_* name genjin reads: its settings', the password's, and the robots' variables."""
    names = {s.env for s in SETTINGS if s.env.startswith("GENJIN_")} | set(OTHER_ENV)
    if settings is not None:
        robots = [*settings.robots.values(), *([settings.ops_robot] if settings.ops_robot else [])]
        names |= {name for c in robots for name in (c.webhook_env, c.secret_env) if name}
    return names


def misspelt(env: Mapping[str, str], settings: Settings | None = None) -> list[str]:
    """A GENJIN_* variable genjin does not read but that is one slip away from one it does
    ("GENJIN_TIMEZOEN: 是否为 GENJIN_TIMEZONE？"). A variable far from every name is someone else's, and left alone."""
    known = env_names(settings)
    found = []
    for name in sorted(n for n in env if n.upper().startswith("GENJIN_") and n.upper() not in known):
        near = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.85)
        if near:
            found.append(f"环境变量 {name}: 是否为 {near[0]}？/ environment variable {name}: did you mean "
                         f"{near[0]}? (genjin does not read {name})")
    return found


def robot_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Each configured robot whose webhook (or DingTalk secret) variable is not set, or is not an http(s) URL."""
    configured = {**settings.robots, **({"ops_robot": settings.ops_robot} if settings.ops_robot else {})}
    _, missing = robots_from(configured, env)
    return [f"群机器人 / robot {line}" for line in missing]
