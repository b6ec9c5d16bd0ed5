"""`genjin settings`: the settings `run` and `serve` would use (genjin/settings.py), and where each came from."""

from __future__ import annotations

import argparse

from flows import progress
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Each setting, its value and where it came from; the password only as ***."""
    print(f"设置 / settings — genjin.toml: {settings.config or '-'}")
    for line in progress.table(("设置 setting", "值 value", "来源 from"), settings.rows()):
        print(f"  {line}")
    return 0
