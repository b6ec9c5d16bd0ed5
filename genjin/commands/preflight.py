"""What `run` and `serve` check before anything starts (issue #27), and `genjin settings` reports: every folder
a folder genjin can write in (the drop folder must exist), the policy file loads, no GENJIN_* variable looks
misspelt, and — when the run sends — the mail settings and every configured robot's variables. Each problem
is one line in Chinese and English; any problem is exit code 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from adapters.folders import Folders, folder_problems
from adapters.mail import MailConfigError, MailSettings, password_from, smtp_settings
from genjin.settings import Settings, misspelt, robot_problems
from policy.model import PolicyError, load_policy

REFUSED = 2  # the exit code


def mail_problem(settings: MailSettings, env: Mapping[str, str]) -> str | None:
    try:
        smtp_settings(settings, password_from(env))
    except MailConfigError as err:
        return f"邮件设置有误 / mail settings: {err}"
    return None


def night_problems(folders: Folders, policy: Path | None) -> list[str]:
    """What stops any night: folders genjin cannot use, a policy that does not load."""
    found = folder_problems(folders)
    try:
        load_policy(policy)
    except PolicyError as err:
        found.append(str(err))
    return found


def problems(settings: Settings, send: bool, *, mail_configured: bool = False,
             env: Mapping[str, str] | None = None) -> list[str]:
    """Everything the settings would make `run` or `serve` refuse (the settings themselves, a bad cron
    included, are checked when they are read: genjin/settings.py): `night_problems`, a misspelt GENJIN_*
    variable, and with `send` the mail settings and the robots' variables. `mail_configured`: check those when
    any mail setting or robot is given, even without `send` (`genjin settings`)."""
    env = os.environ if env is None else env
    found = night_problems(settings.folders(), settings.policy)
    found += misspelt(env, settings)
    if send or (mail_configured and (settings.smtp_host or settings.ops_email)):
        found += [p for p in [mail_problem(settings.mail_settings(), env)] if p]
    if send or mail_configured:
        found += robot_problems(settings, env)
    return found


def refused(found: list[str]) -> bool:
    """Print each problem (stderr); True when there is any."""
    for line in found:
        print(line, file=sys.stderr)
    return bool(found)
