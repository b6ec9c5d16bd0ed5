"""Benchmark of `genjin simulate` (issue #19: 90 nights of a demo store in ≤ 30 s). Not a test.

    .venv/bin/python benchmarks/bench_simulate.py                 # the demo's 3 stores, 90 nights
    .venv/bin/python benchmarks/bench_simulate.py --size 2 --nights 30

Generates the `genjin demo` drop folder for `--as-of`, stores its files in a history (all on the first replayed
night: every night then holds the same files, and the nightly's date rule — nothing dated after the night — cuts
what each night knows, so each night costs what a real one does), then times, in this process:
- the replay of `--nights` nights under the built-in policy and a proposed one (C leads every 5 days instead of 7,
  a sales capacity of 30 instead of 40, follow-ups stale after 14 days instead of 30): both built every night;
- writing simulate.html and simulate.json.
Prints the seconds of each, best of `--repeat`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.history import History  # noqa: E402
from adapters.ingest import load_new_file  # noqa: E402
from demo.sample_data import generate  # noqa: E402
from flows.simulate import replay, write  # noqa: E402
from policy.model import DEFAULT_POLICY, load_policy  # noqa: E402
from reports.simulate_report import write_simulate_outputs  # noqa: E402

CHANGES = (
    ("C = 7, D = 7 }", "C = 5, D = 7 }"),
    ("default_capacity = { sales = 40,", "default_capacity = { sales = 30,"),
    ("followup = 30 ", "followup = 14 "),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1, help="demo size: 1 = 3 stores (default)")
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 23))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    last = args.as_of
    first = last - timedelta(days=args.nights - 1)
    with tempfile.TemporaryDirectory(prefix="genjin-bench-simulate-") as tmp:
        root = Path(tmp)
        files = generate(root / "drop", as_of=last, seed=7, size=args.size)
        history = History(root / "history")
        rows = 0
        for order, path in enumerate(sorted(files)):
            load = load_new_file(path, lambda _: False)
            if load.status == "loaded":
                history.record(load, first, order)
                rows += load.rows_loaded
        text = DEFAULT_POLICY.read_text(encoding="utf-8")
        for old, new in CHANGES:
            assert old in text, old
            text = text.replace(old, new)
        (root / "proposed.toml").write_text(text, encoding="utf-8")
        current, proposed = load_policy(), load_policy(root / "proposed.toml")
        names = {"current": "default", "proposed": "proposed.toml"}
        print(f"demo size {args.size}: {len(files)} files, {rows:,} rows; {args.nights} nights {first} – {last}")
        replays, writes = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = replay(history, current, proposed, first, last, names)
            replays.append(time.perf_counter() - started)
            started = time.perf_counter()
            write(result, root / "out", write_simulate_outputs)
            writes.append(time.perf_counter() - started)
        tasks = result.summary.filter((result.summary["dimension"] == "group") & (result.summary["key"] == "tasks"))
        print(f"tasks per night: {dict(zip(tasks['policy'], tasks['per_night'].round(1), strict=True))}")
        print(f"replay, both policies: {min(replays):.1f} s (runs: {', '.join(f'{s:.1f}' for s in replays)})")
        print(f"simulate.html + simulate.json: {min(writes):.1f} s")
        print(f"total: {min(replays) + min(writes):.1f} s for {args.nights} nights (target ≤ 30 s)")


if __name__ == "__main__":
    main()
