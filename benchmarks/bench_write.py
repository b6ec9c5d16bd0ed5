"""The write stage by itself, step by step, on a history a full night left (issue #29). Not a test.

    .venv/bin/python benchmarks/bench_nightly.py --group --reuse /tmp/g20 --skip-plan --keep /tmp/night
    .venv/bin/python benchmarks/bench_write.py /tmp/night/group/history --as-of 2026-11-23 --out /tmp/write
    .venv/bin/python benchmarks/bench_write.py ... --profile /tmp/write.prof   # cProfile of this process

The night's state, worklist, plan and KPIs are built once from the history (as `flows.nightly.build` does, without
Prefect); then each step of `flows.nightly.write` and `deliver` runs one after the other (the flow overlaps the KPI
reports with the workbooks), timed — wall, and CPU of this process and of its worker processes — into a fresh
folder under `--out`. `--workers 1`
writes every workbook and store report in this process (so that cProfile sees them). Compare two trees by
running this script of each on the same history, in turn.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


TIMES: list[tuple[str, float, float, float]] = []


@contextmanager
def timed(name: str) -> Iterator[None]:
    t, (own, kids) = time.perf_counter(), cpu()
    yield
    own2, kids2 = cpu()
    TIMES.append((name, time.perf_counter() - t, own2 - own, kids2 - kids))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("history", type=Path)
    p.add_argument("--as-of", type=date.fromisoformat, required=True)
    p.add_argument("--out", type=Path, required=True, help="written afresh: <out>/<as-of>/")
    p.add_argument("--workers", type=int, default=None, help="1: everything in this process")
    p.add_argument("--profile", type=Path, default=None, help="cProfile of the write steps to this file")
    args = p.parse_args()

    from adapters.history import History
    from adapters.mail import MailSettings
    from flows import night_mail, steps
    from policy.model import load_policy
    from reports import processes
    from transforms.kpis import compute_kpis
    from transforms.night import prepare
    from transforms.plan import plan_night
    from transforms.worklist import worklist_from

    if args.workers is not None:
        workers = args.workers
        original = processes.worker_count
        processes.worker_count = lambda work, per, cpus=None: min(workers, original(work, per, cpus))  # type: ignore[assignment]

    policy, history, as_of = load_policy(None), History(args.history), args.as_of
    t = time.perf_counter()
    inputs = history.inputs(as_of)
    night = prepare(inputs, policy, as_of)
    worklist = plan_night(worklist_from(night, policy, as_of), night, policy, as_of, history.previous_plan(as_of))
    kpis = compute_kpis(inputs, policy, as_of, worklist, night)
    advisors = inputs.advisors.collect()
    print(f"built in {time.perf_counter() - t:.1f} s: {worklist.height} tasks", flush=True)

    run_dir = args.out / as_of.isoformat()
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    files: list[dict[str, Any]] = []

    def run(name: str, fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
        with timed(name):
            return fn(*a, **k)

    profile = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profile:
        profile.enable()
    run("KPI reports (group + stores)", steps.write_kpi_report.fn, kpis, advisors, worklist, policy, files,
        run_dir, as_of)
    review = run("review (transforms)", steps.review.fn, worklist, night, advisors, policy, as_of)
    reviews = run("review workbooks", steps.write_reviews.fn, review, advisors, run_dir, as_of)
    workbooks, _ = run("advisor workbooks + worklist.csv", steps.write_worklists.fn, worklist, run_dir, as_of,
                       policy)
    refused = run("refused decisions", steps.refused_decisions.fn, night, as_of, run_dir)
    morning = run("manager morning", steps.manager_morning.fn, worklist, night, advisors, review, reviews, refused,
                  files, policy, run_dir, as_of)
    emails = run("emails (advisors + digests)", night_mail.deliver, worklist, advisors, workbooks, run_dir, as_of,
                 None, False, MailSettings(), policy, morning=morning)
    run("warnings", steps.warnings_of.fn, worklist, advisors)
    if profile:
        profile.disable()
        profile.dump_stats(str(args.profile))
    total = time.perf_counter() - start

    outbox = run_dir / "outbox"
    mime = sum(f.stat().st_size for f in outbox.rglob("*.eml"))
    print(f"\n{'step':<36}{'wall s':>8}{'cpu s':>8}{'workers cpu s':>15}")
    for name, wall, own, kids in TIMES:
        print(f"{name:<36}{wall:>8.2f}{own:>8.2f}{kids:>15.2f}")
    print(f"{'write stage':<36}{total:>8.2f}{sum(t[2] for t in TIMES):>8.2f}{sum(t[3] for t in TIMES):>15.2f}")
    charts = sum(p.read_text(encoding="utf-8").count("data:image/svg+xml") for p in run_dir.rglob("*.html"))
    print(f"\n{len(workbooks)} advisor workbooks, {len(reviews)} review workbooks, {emails['written']} emails "
          f"({mime / 2**20:.1f} MB of MIME), {charts} chart images in the reports, "
          f"{sum(1 for _ in run_dir.rglob('*.html'))} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
