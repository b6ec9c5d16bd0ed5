"""`genjin run` on an empty drop folder, as cron starts it: a new process each time (issue #17). Not a test.

    .venv/bin/python benchmarks/bench_empty_night.py             # 5 runs, Prefect's temporary server
    .venv/bin/python benchmarks/bench_empty_night.py --runs 3 --baseline 63bc616   # and an older tree, in turn
    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python benchmarks/bench_empty_night.py   # a running server

Each run is `python -m genjin.cli run --data-root TMP --settle-seconds 0` on an empty TMP/drop, from this tree (and
with `--baseline REV` from a checkout of REV, the two sides taking turns, so a busy machine slows both alike).
Without PREFECT_API_URL it uses a Prefect home of its own under TMP, migrated by one warm-up run that is not counted
(cron's runs reuse a migrated ~/.genjin/prefect); with PREFECT_API_URL set, it runs against that server and measures
that target too. Prints each run, the median against the #17 target (≤ 10 s without a server, ≤ 3 s against a
running one), and the floor: a new process that only imports polars (`python -c "import polars"`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = {False: 10.0, True: 3.0}  # issue #17: without a server / against a running Prefect server


def _seconds(command: list[str], env: dict[str, str], tree: Path = ROOT) -> float:
    """Wall seconds of `command` run in `tree` (`python -m` puts the tree's packages first on sys.path)."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return seconds


def _median_line(name: str, times: list[float]) -> str:
    return (f"{name}: median {statistics.median(times):.2f} s of {len(times)} "
            f"(min {min(times):.2f}, max {max(times):.2f})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="counted runs (default 5)")
    p.add_argument("--baseline", help="git revision to run in turn with this tree (a checkout under TMP)")
    args = p.parse_args()
    server = bool(os.environ.get("PREFECT_API_URL"))
    with tempfile.TemporaryDirectory(prefix="genjin-empty-") as tmp:
        root = Path(tmp)
        (root / "drop").mkdir()
        trees = {"current": ROOT}
        if args.baseline:
            trees = {"baseline": root / "baseline", **trees}
            subprocess.run(["git", "worktree", "add", "--detach", str(trees["baseline"]), args.baseline], cwd=ROOT,
                           check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
        if not server:
            env["PREFECT_HOME"] = str(root / "prefect")
        command = [sys.executable, "-m", "genjin.cli", "run", "--data-root", str(root), "--settle-seconds", "0"]
        try:
            if not server:
                print(f"warm-up (migrates a fresh Prefect home, not counted): {_seconds(command, env):.2f} s",
                      flush=True)
            times: dict[str, list[float]] = {name: [] for name in trees}
            for n in range(1, args.runs + 1):
                for name, tree in trees.items():
                    times[name].append(_seconds(command, env, tree))
                    print(f"run {n} {name}: {times[name][-1]:.2f} s", flush=True)
        finally:
            if args.baseline:
                subprocess.run(["git", "worktree", "remove", "--force", str(trees["baseline"])], cwd=ROOT,
                               capture_output=True)
        floor = statistics.median(_seconds([sys.executable, "-c", "import polars"], env) for _ in range(3))
    median, target = statistics.median(times["current"]), TARGET_S[server]
    where = f"against the Prefect server at {os.environ['PREFECT_API_URL']}" if server else "Prefect's temporary server"
    verdict = "met" if median <= target else "NOT met"
    print(f"\nempty night, `genjin run`, {where}")
    for name, found in times.items():
        print(f"  {_median_line(name, found)}")
    if args.baseline:
        print(f"  baseline / current: {statistics.median(times['baseline']) / median:.2f}")
    print(f"  target ≤ {target:g} s: {verdict}")
    print(f"floor, `python -c \"import polars\"`: {floor:.2f} s (median of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
