"""Benchmark of the night's KPI report and outbox, old against new (issue #8). Not a test.

    .venv/bin/python benchmarks/bench_reports.py --size 10     # 30 stores, ~200 advisors
    .venv/bin/python benchmarks/bench_reports.py --size 10 --baseline <rev>

One generated drop folder is loaded into a history and the worklist built once (with this tree's code); then
`write_kpi_outputs` (report.html + kpis.json) and `deliver` (the outbox, nothing sent) are timed in fresh
processes for each side, on the same inputs, best of all runs:
- baseline: this tree with the report and outbox modules (`MODULES`) as they were at `--baseline`
  (default: the commit before they were rewritten to aggregate with group_by);
- current: this tree as it is.
Each side also counts polars collects (lazy, collect_all and eager: every call into the engine), in an untimed
run under cProfile. The sides run in turn (`--rounds`), so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("transforms/kpis.py", "reports/html_report.py", "reports/charts.py", "reports/kpi_json.py",
           "reports/email_message.py", "reports/digest.py")
PACKAGES = ("genjin", "transforms", "reports", "schemas", "flows")
BASELINE = "5b03f3d"  # the tree before the group_by rewrite of MODULES
AS_OF = date(2026, 11, 23)


def prepare(work: Path, size: int, seed: int) -> int:
    """Drop folder → history → worklist.parquet and the advisors' workbooks under `work`."""
    sys.path.insert(0, str(ROOT))
    from adapters.history import History
    from adapters.ingest import load_file
    from demo.sample_data import generate
    from policy.model import load_policy
    from reports.workbook import write_advisor_workbook
    from transforms.night import prepare as night_state
    from transforms.plan import advisor_plans, plan_night
    from transforms.worklist import worklist_from

    generate(work / "drop", as_of=AS_OF, seed=seed, size=size)
    history = History(work / "history")
    for order, path in enumerate(sorted((work / "drop").iterdir())):
        load = load_file(path)
        if load.status == "loaded":
            history.record(load, AS_OF, order)
    policy = load_policy()
    night = night_state(history.inputs(AS_OF), policy, AS_OF)
    worklist = plan_night(worklist_from(night, policy, AS_OF), night, policy, AS_OF)  # as the flow hands it on
    worklist.write_parquet(work / "worklist.parquet")
    books = work / "workbooks"
    books.mkdir()
    plans = advisor_plans(worklist, policy)
    for (advisor_id,), rows in plans.group_by("advisor_id", maintain_order=True):
        write_advisor_workbook(rows, AS_OF, books / f"{advisor_id}.xlsx", policy.talk_tracks)
    return worklist.height


def baseline_tree(target: Path, rev: str) -> Path:
    """This tree's packages, with MODULES as they were at `rev`."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    for module in MODULES:
        text = subprocess.run(["git", "show", f"{rev}:{module}"], cwd=ROOT, check=True, capture_output=True).stdout
        (target / module).write_bytes(text)
    return target


def collects(profiler: cProfile.Profile) -> int:
    """Calls of polars' engine entry points (a lazy collect, collect_all, and every eager frame operation)."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(calls for (_, _, name), (calls, *_) in stats.items()
               if name in ("<method 'collect' of 'builtins.PyLazyFrame' objects>", "<built-in method collect_all>"))


def worker(code: Path, work: Path, repeat: int) -> None:
    """Runs in its own process with `code` first on sys.path; prints one JSON line of timings."""
    sys.path.insert(0, str(code))
    import polars as pl

    from adapters.history import History
    from adapters.mail import MailSettings
    from flows.night_mail import deliver
    from policy.model import load_policy
    from reports import html_report
    from transforms.frames import latest_rows
    from transforms.kpis import compute_kpis

    assert Path(html_report.__file__).is_relative_to(code), html_report.__file__
    policy = load_policy()
    inputs = History(work / "history").inputs(AS_OF)
    worklist = pl.read_parquet(work / "worklist.parquet")
    advisors = inputs.advisors.collect()
    roster = latest_rows(advisors, "advisor_id")
    workbooks = {p.stem: p for p in (work / "workbooks").iterdir()}
    files = [{"name": "leads.xlsx", "kind": "leads", "rows_in": 1, "rows_loaded": 1, "rows_rejected": 0,
              "status": "loaded"}]
    def run(profiler: cProfile.Profile | None = None) -> tuple[float, float, int, int, Path]:
        run_dir = Path(tempfile.mkdtemp(prefix="genjin-bench-run-")) / AS_OF.isoformat()
        run_dir.mkdir()
        counts = []
        times = []
        for step in (lambda: html_report.write_kpi_outputs(compute_kpis(inputs, policy, AS_OF, worklist), roster,
                                                           worklist, policy, AS_OF, run_dir, files, []),
                     lambda: deliver(worklist, advisors, workbooks, run_dir, AS_OF, None, False, MailSettings(),
                                     policy)):
            start = time.perf_counter()
            if profiler is None:
                step()
            else:
                profiler.runcall(step)
                counts.append(collects(profiler))
                profiler.clear()
            times.append(time.perf_counter() - start)
        return times[0], times[1], *(counts or [0, 0]), run_dir

    profiler = cProfile.Profile()
    *_, report_collects, outbox_collects, run_dir = run(profiler)  # counted, not timed
    best = {"report (s)": float("inf"), "outbox (s)": float("inf"), "report collects": report_collects,
            "outbox collects": outbox_collects, "report.html (kB)": (run_dir / "report.html").stat().st_size / 1024}
    shutil.rmtree(run_dir.parent, ignore_errors=True)
    for _ in range(repeat):
        report_s, outbox_s, _, _, run_dir = run()
        best["report (s)"] = min(best["report (s)"], report_s)
        best["outbox (s)"] = min(best["outbox (s)"], outbox_s)
        shutil.rmtree(run_dir.parent, ignore_errors=True)
    print(json.dumps(best))


def side(code: Path, work: Path, repeat: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--worker", str(code), "--work", str(work),
                          "--repeat", str(repeat)], check=True, capture_output=True, text=True, cwd=code)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=10, help="sample_data size: 3 stores per unit (default 10)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=2, help="timed runs per process; the best counts (default 2)")
    p.add_argument("--rounds", type=int, default=2, help="old/new processes in turn (default 2)")
    p.add_argument("--baseline", default=BASELINE, help=f"git revision of the old modules (default {BASELINE})")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.work, args.repeat)
        return 0

    work = Path(tempfile.mkdtemp(prefix="genjin-bench-reports-"))
    try:
        start = time.perf_counter()
        tasks = prepare(work / "data", args.size, args.seed)
        print(f"size {args.size} ({3 * args.size} stores): {tasks} tasks, prepared in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        baseline = baseline_tree(work / "baseline", args.baseline)
        old: dict[str, float] = {}
        new: dict[str, float] = {}
        for _ in range(args.rounds):  # alternate the sides: a busy machine slows both alike
            for found, code in ((old, baseline), (new, ROOT)):
                for name, value in side(code, work / "data", args.repeat).items():
                    found[name] = min(found.get(name, value), value)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'measure':<20}{'baseline':>10}{'current':>10}{'old/new':>9}")
    for name in old:
        ratio = old[name] / new[name] if new[name] else float("nan")
        print(f"{name:<20}{old[name]:>10.2f}{new[name]:>10.2f}{ratio:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
