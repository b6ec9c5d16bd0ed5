"""Benchmark of `genjin maintain` (adapters/maintenance.py): a month of nights and intraday pick-ups. Not a test.

    .venv/bin/python benchmarks/bench_maintain.py                        # 30 nights, 25 pick-ups a day
    .venv/bin/python benchmarks/bench_maintain.py --nights 7 --pickups 10

Writes the history as the night and the pick-up write it, through the same History methods, in this process:
- the first night: the `genjin demo` drop folder (3 stores) loaded whole;
- each day: `--pickups` intraday pick-ups, each a small lead file (2 leads) and a follow-up file (3 follow-ups),
  recorded for the coming night (one append to leads, followups and the ledger each, as adapters/pickup.py does);
- each night: that day's exports (a lead and a follow-up file of 20 and 60 rows), then the worklist and the
  daily plan built from the history and the plan stored (a re-run of the night every 7th night: stored again).

Then prints, per table and in all: the files on disk (data and log), their bytes, the data files the current
version reads; and the night's read of the history (every kind as the next night reads it, and the last plan),
best of 5 — before maintenance, right after `maintain` (keeping 7 days of versions), and once the 7 days have
passed (the same maintenance with nothing kept, which is what the next weekly run finds).
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from adapters.history import History  # noqa: E402
from adapters.ingest import KINDS, load_file  # noqa: E402
from adapters.maintenance import Footprint, footprint, maintain, tables  # noqa: E402
from demo.sample_data import generate  # noqa: E402
from policy.model import load_policy  # noqa: E402
from transforms.plan import plan_worklist  # noqa: E402
from transforms.worklist import build_worklist  # noqa: E402

LEADS = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号", "客户级别"]
FOLLOWUPS = ["线索编号", "销售顾问工号", "跟进时间", "跟进方式", "跟进结果"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


class Store:
    """New leads and follow-ups of the demo's advisors, numbered on."""

    def __init__(self, advisors: pl.DataFrame) -> None:
        sales = advisors.filter((pl.col("role") == "sales") & pl.col("active"))
        self.advisors = list(zip(sales["advisor_id"], sales["store"], strict=True))
        self.n = 0
        self.leads: list[tuple[str, str]] = []  # (lead_id, advisor_id)

    def new_leads(self, k: int, when: datetime) -> list[list[str]]:
        rows = []
        for _ in range(k):
            self.n += 1
            advisor, store = self.advisors[self.n % len(self.advisors)]
            lead = f"B{self.n:06d}"
            self.leads.append((lead, advisor))
            rows.append([lead, f"{when:%Y-%m-%d %H:%M}", f"客户{self.n}", f"139{self.n:08d}", store, advisor,
                         "SABCD"[self.n % 5]])
        return rows

    def followups(self, k: int, when: datetime) -> list[list[str]]:
        recent = self.leads[-200:]
        return [[lead, advisor, f"{when:%Y-%m-%d %H:%M}", "电话", "已接通"]
                for lead, advisor in (recent[(self.n * 7 + i) % len(recent)] for i in range(k))]


def record(history: History, paths: list[Path], night: date) -> None:
    loads = [load_file(p) for p in paths]
    fresh = history.to_record(loads)
    order = history.next_order(night)
    history.record_rows(fresh, night, order)
    history.record_ledger(fresh, night, order)
    for load in loads:
        load.release_rows()


def plan(history: History, night: date, policy) -> None:
    inputs = history.inputs(night)
    worklist = build_worklist(inputs, policy, night)
    planned = plan_worklist(worklist, inputs.advisors.collect(), policy, night, history.previous_plan(night))
    history.record_plan(planned, night)


def read_seconds(history: History, night: date) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        inputs = history.inputs(night)
        pl.collect_all([getattr(inputs, kind) for kind in KINDS])
        history.previous_plan(night)
        best = min(best, time.perf_counter() - start)
    return best


def measure(history: Path) -> dict[str, Footprint]:
    return {t.name: footprint(t) for t in tables(history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--pickups", type=int, default=25, help="pick-ups with files per day (default 25)")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the month's history in WORK/history, measure a copy (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genjin-bench-maintain-") as tmp:
        root = args.work or Path(tmp)
        last = args.first + timedelta(days=args.nights - 1)
        if not (root / "history").is_dir():
            write_month(root, args)
        measured = History(Path(tmp) / "measured")
        shutil.copytree(root / "history", measured.root)
        report(measured, last)


def write_month(root: Path, args: argparse.Namespace) -> None:
    policy = load_policy()
    history = History(root / "history")
    start = time.perf_counter()
    record(history, generate(root / "drop0", as_of=args.first), args.first)
    plan(history, args.first, policy)
    store = Store(history.inputs(args.first).advisors.collect())
    files = root / "files"
    files.mkdir()
    for n in range(1, args.nights):
        night = args.first + timedelta(days=n)
        day = datetime.combine(night - timedelta(days=1), datetime.min.time())
        for k in range(args.pickups):
            when = day + timedelta(hours=8, minutes=30 + 30 * k)
            record(history, [write_csv(files / f"leads-{night}-{k}.csv", LEADS, store.new_leads(2, when)),
                             write_csv(files / f"fu-{night}-{k}.csv", FOLLOWUPS, store.followups(3, when))], night)
        evening = day + timedelta(hours=21)
        record(history, [write_csv(files / f"leads-{night}.csv", LEADS, store.new_leads(20, evening)),
                         write_csv(files / f"fu-{night}.csv", FOLLOWUPS, store.followups(60, evening))], night)
        plan(history, night, policy)
        if n % 7 == 0:
            plan(history, night, policy)  # a re-run of the night
    print(f"{args.nights} nights, {args.pickups} pick-ups a day written in {time.perf_counter() - start:.0f} s")


def report(history: History, last: date) -> None:
    following = last + timedelta(days=1)  # the next night reads the whole month
    stages = [("before", measure(history.root), read_seconds(history, following))]
    start = time.perf_counter()
    maintain(history.root, timedelta(days=7))
    took = time.perf_counter() - start
    stages.append(("after maintain (7 days kept)", measure(history.root), read_seconds(history, following)))
    maintain(history.root, timedelta(0))
    stages.append(("once the 7 days passed", measure(history.root), read_seconds(history, following)))
    print(f"maintain: {took:.1f} s\n")
    names = sorted(stages[0][1])
    print("| table | " + " | ".join(s for s, _, _ in stages) + " |")
    print("|---|" + "---|" * len(stages))
    for name in names:
        cells = [f"{m[name].files:,} files · {m[name].bytes / 1e6:.2f} MB · {m[name].live:,} live"
                 for _, m, _ in stages]
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = [(sum(f.files for f in m.values()), sum(f.bytes for f in m.values()),
               sum(f.live for f in m.values())) for _, m, _ in stages]
    print("| all | " + " | ".join(f"**{f:,} files · {b / 1e6:.2f} MB · {live:,} live**"
                                   for f, b, live in totals) + " |")
    print("| the night's read of the history (best of 5) | "
          + " | ".join(f"{s:.2f} s" for _, _, s in stages) + " |")


if __name__ == "__main__":
    main()
