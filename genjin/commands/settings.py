"""`genjin settings`: the settings `run` and `serve` would use (genjin/settings.py), where each came from, and
everything they would refuse (genjin/commands/preflight.py) — then exit code 2."""

from __future__ import annotations

import argparse
import sys

from flows import progress
from genjin.commands import preflight
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Each setting, its value and where it came from; the password only as ***. Then what `run` or `serve`
    would refuse: the mail settings and the robots' variables are checked whenever any is given, as a run
    with `--send` would."""
    print(f"设置 / settings — genjin.toml: {settings.config or '-'}")
    for line in progress.table(("设置 setting", "值 value", "来源 from"), settings.rows()):
        print(f"  {line}")
    found = preflight.problems(settings, send=False, mail_configured=True)
    if not found:
        return 0
    print(f"\n`genjin run` / `genjin serve` 会拒绝运行，原因 {len(found)} 项 / would refuse to start, "
          f"{len(found)} problem(s):", file=sys.stderr)
    preflight.refused(found)
    return preflight.REFUSED
