"""`genjin maintain`: compact and vacuum the history's Delta tables (adapters/maintenance.py) under the run lock,
then a line per table: files and bytes before and after."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from adapters.maintenance import MIN_KEEP, maintain
from flows import progress
from genjin.commands.backup import locked
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings) -> int:
    keep = timedelta(days=args.keep_days)
    if keep < MIN_KEEP:
        print(f"--keep-days 至少为 {MIN_KEEP.days} / must be at least {MIN_KEEP.days}", file=sys.stderr)
        return 2
    def work() -> None:
        done = maintain(settings.history, keep)
        rows = [(m.table, f"{m.before.files:,} → {m.after.files:,}", f"{m.before.live:,} → {m.after.live:,}",
                 f"{m.before.bytes / 1e6:.1f} → {m.after.bytes / 1e6:.1f}") for m in done]
        print(f"历史库维护 / history maintained: {settings.history.resolve()} "
              f"(保留 / keeping {args.keep_days:g} 天 days)")
        for line in progress.table(("表 table", "文件 files", "在用 live", "MB"), rows):
            print(f"  {line}")
        for m in done:
            if m.note:
                print(f"  {m.table}: {m.note}")

    return locked(settings, args.wait_seconds, work)
