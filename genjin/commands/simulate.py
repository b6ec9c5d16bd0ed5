"""`genjin simulate`: past nights replayed under a proposed policy beside the one in use (flows/simulate.py);
both policies checked before anything runs; outputs under OUT/simulate/ only."""

from __future__ import annotations

import argparse
import sys

from adapters.history import History
from flows.simulate import SimulateError, night_range, replay, write
from genjin.settings import Settings
from policy.model import PolicyError, load_policy
from reports.simulate_report import headline_lines, write_simulate_outputs


def main(args: argparse.Namespace, settings: Settings) -> int:
    """`args.proposed` is the proposed policy (--policy); `settings.policy` the one in use (--current)."""
    proposed, first, last = args.proposed, args.first, args.last
    if proposed is None:
        print("请用 --policy 指定拟用的策略文件 / give the proposed policy: genjin simulate --policy FILE",
              file=sys.stderr)
        return 2
    try:
        current_policy, proposed_policy = load_policy(settings.policy), load_policy(proposed)
        first, last = night_range(History(settings.folders().history), first, last)
    except (PolicyError, SimulateError) as err:
        print(err, file=sys.stderr)
        return 2
    files = {"current": str(settings.policy or "内置默认策略 built-in default"), "proposed": str(proposed)}
    print(f"genjin simulate: {first} – {last} · {files['current']} vs {files['proposed']}", flush=True)
    result = replay(History(settings.folders().history), current_policy, proposed_policy, first, last, files)
    folder = write(result, settings.folders().out, write_simulate_outputs)
    for line in headline_lines(result):
        print(f"  {line}")
    print(f"\n{len(result.nights)} 晚，用时 {result.seconds:.1f} 秒 / nights replayed in {result.seconds:.1f} s")
    print(f"输出 / outputs: {folder.resolve()}")
    for name in ("simulate.html", "simulate.json"):
        print(f"  {folder / name}")
    return 0
