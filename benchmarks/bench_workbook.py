"""Benchmark of the advisors' worklist workbooks (reports/workbook.py; issue #8). Not a test.

    .venv/bin/python benchmarks/bench_workbook.py                      # 200 advisors x 25 rows, 1,000 x 50
    .venv/bin/python benchmarks/bench_workbook.py --size 200x25        # one size only

Writes the same generated advisors' workbooks with the openpyxl writer genjin used before (reports/workbook.py
at commit OLD_COMMIT, loaded from git into a temporary module) and with today's reports/workbook.py, side by side
in one process, each into its own temporary folder, and prints the seconds of each and the ratio old / new.
Both are timed on exactly what flows/steps.py::write_worklists does per advisor: write_advisor_workbook(group, ...).
The writers are alternated over `--repeat` rounds and the best round of each is kept.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from reports.workbook import write_advisor_workbook  # noqa: E402
from transforms.labels import STAGE_LABELS, TASK_LABELS  # noqa: E402

OLD_COMMIT = "5b03f3d"  # the last commit whose reports/workbook.py wrote with openpyxl
AS_OF = date(2026, 11, 23)
TALK_TRACKS = {task_type: f"{label}：先问候，再确认需求，约定下次联系。" for task_type, label in TASK_LABELS.items()}
Writer = Callable[[pl.DataFrame, date, Path, dict[str, str]], Path]


def old_writer() -> Writer:
    """reports/workbook.py as it was at OLD_COMMIT, imported as the module `old_workbook`."""
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:reports/workbook.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = sys.modules["old_workbook"] = ModuleType("old_workbook")
    exec(compile(source, f"{OLD_COMMIT}:reports/workbook.py", "exec"), module.__dict__)
    return module.write_advisor_workbook


def advisors(n_advisors: int, rows_each: int) -> list[pl.DataFrame]:
    """`transforms.views.per_customer` of each advisor, as write_worklists hands them out: a mix of overdue and
    due rows, all priorities, one or two task types a customer, and a formula-looking name now and then."""
    task_labels = list(TASK_LABELS.values())
    stages = list(STAGE_LABELS)
    groups = []
    for a in range(n_advisors):
        records = []
        for r in range(rows_each):
            k = a * rows_each + r
            tasks = [task_labels[k % len(task_labels)]] + ([task_labels[(k * 7) % len(task_labels)]] if k % 3 == 0
                                                          else [])
            overdue = (k * 5) % 7 if k % 2 else 0
            records.append({
                "advisor_id": f"S{a:04d}", "customer_id": f"C{k:07d}", "store": f"门店{a // 10:03d}",
                "customer_name": "=HYPERLINK(\"x\")" if k % 97 == 0 else f"客户{k}",
                "phone": f"+86138{k:08d}", "priority": 1 + k % 9, "due_date": AS_OF - timedelta(days=overdue),
                "days_overdue": overdue, "grade": "HABCS"[k % 5], "stage": stages[k % len(stages)],
                "tasks": "、".join(dict.fromkeys(tasks)),
                "reasons": "\n".join(f"【{t}】线索 L{k} 留资后 {k % 5} 天未联系，客户关注车型 SUV" for t in tasks),
                "lead_id": f"L{k:07d}" if k % 4 else None, "orphaned": False, "n_tasks": len(tasks),
            })
        groups.append(pl.DataFrame(records, schema_overrides={"due_date": pl.Date}))
    return groups


def write_all(writer: Writer, groups: list[pl.DataFrame], folder: Path) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process): on a busy machine the CPU time is the steadier."""
    start, cpu = time.perf_counter(), time.process_time()
    for group in groups:
        writer(group, AS_OF, folder / f"{group['advisor_id'][0]}.xlsx", TALK_TRACKS)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", action="append", help="ADVISORSxROWS (repeatable; default 200x25 and 1000x50)")
    p.add_argument("--repeat", type=int, default=1, help="rounds of each writer; the best is kept (default 1)")
    args = p.parse_args()
    sizes = [tuple(int(n) for n in s.lower().split("x")) for s in args.size or ["200x25", "1000x50"]]
    writers = {"old (openpyxl)": old_writer(), "new": write_advisor_workbook}
    with tempfile.TemporaryDirectory() as folder:  # first calls: lazy imports and caches
        for writer in writers.values():
            write_all(writer, advisors(1, 2), Path(folder))
    for n_advisors, rows_each in sizes:
        groups = advisors(n_advisors, rows_each)
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in writers}
        for _ in range(args.repeat):
            for name, writer in writers.items():
                with tempfile.TemporaryDirectory() as folder:
                    rounds[name].append(write_all(writer, groups, Path(folder)))
        best = {name: (min(w for w, _ in times), min(c for _, c in times)) for name, times in rounds.items()}
        (old, old_cpu), (new, new_cpu) = best.values()
        print(f"{n_advisors} advisors x {rows_each} rows ({n_advisors * rows_each:,} rows):")
        for name, (wall, cpu) in best.items():
            print(f"  {name:<15} {wall:7.2f} s wall {cpu:7.2f} s CPU   {wall / n_advisors * 1000:6.1f} ms/workbook")
        print(f"  ratio old/new   {old / new:7.1f} x wall {old_cpu / new_cpu:7.1f} x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
