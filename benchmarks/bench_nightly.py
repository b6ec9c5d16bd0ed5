"""Benchmark of one nightly run on generated dealer-group data (issue #8). Not a test.

    .venv/bin/python benchmarks/bench_nightly.py --size 10      # 30 stores; ~2-3 min here
    .venv/bin/python benchmarks/bench_nightly.py --size 100     # toward the issue's 100 stores (slow to generate)
    .venv/bin/python benchmarks/bench_nightly.py --group        # the issue's group: 100 stores, 1M leads, 3M
                                                                # follow-ups, 200k orders, 1M repair orders
    .venv/bin/python benchmarks/bench_nightly.py --group --scale 0.1 --skip-cli
    .venv/bin/python benchmarks/bench_nightly.py --group --reuse /tmp/genjin-group   # a drop group_data.py wrote

With --group the data comes from benchmarks/group_data.py (vectorised; per-store lead workbooks, per-region order
workbooks and follow-up / repair-order CSVs) and the next night from its make_increment (new ids, dated as_of + 1).
Both run in a child process, so that their memory is not counted in the peaks below.

Measured side by side in one process, on the same files:
- parse-only: polars + calamine (fastexcel) reading every sheet as strings, and polars reading the CSV;
- empty night: the nightly flow on an empty drop folder: in-process (the first one includes starting Prefect's
  temporary server and migrating a fresh PREFECT_HOME; the warm one is the flow's own fixed cost), and as
  `genjin run` in a new process on the already-migrated home, as cron would start it;
- full night: the nightly flow on the generated drop folder (the whole run, in-process, as `genjin run` does it);
- incremental night: the next night, with ~1% new rows of each file on top of the history;
- peak memory: the process's maxrss (high-water mark) after each phase;
- the plan (issue #15): the same full night again, on a copy of the same files, under a policy whose plan lists
  every open task (capacities of a million, nothing stale) — the write stage before the plan and after it.

Targets (issue #17): (full - empty warm) <= 2 x parse-only up to 20 stores, <= 3 x on the 100-store group;
`genjin run` on an empty drop folder <= 10 s with Prefect's temporary server, <= 3 s against a running server;
incremental <= 15% of full; peak RSS <= 2 GB. Where the full night goes: its stages, printed with the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# peaks: this process's high-water mark (the workbook writers are children with their share of the rows, and the
# generator's children would swamp RUSAGE_CHILDREN)
from flows.progress import peak_rss_mb  # noqa: E402
from genjin import prefect_env  # noqa: E402

FIRST_HEADERS = {"线索编号", "顾问编号", "订单号", "工单号"}  # the first header cell of each generated kind
NEW_KEY_COLUMNS = {"线索编号", "订单号", "工单号"}


def parse_only(drop: Path) -> int:
    """Read every file the plain way: all sheets of every workbook via calamine, CSV via polars."""
    import polars as pl

    rows = 0
    for path in sorted(drop.iterdir()):
        if path.name.startswith("."):  # group_data.py's manifest; genjin leaves dot files alone too
            continue
        if path.suffix == ".csv":
            data = path.read_bytes()
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            rows += pl.read_csv(io.StringIO(text), infer_schema_length=0).height
        else:
            frames = pl.read_excel(path, sheet_id=0, engine="calamine", has_header=False, infer_schema_length=0)
            rows += sum(f.height for f in frames.values())
    return rows


def _header_index(frame: object) -> int:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    for i, value in enumerate(frame.to_series(0).to_list()):
        if value in FIRST_HEADERS:
            return i
    raise ValueError("no header row")


def make_increment(full: Path, target: Path, fraction: float, tag: str) -> int:
    """A drop folder with `fraction` of each file's rows as new rows: copies with new keys (lead, order and
    repair-order numbers get a suffix), as an ops export of the next day would bring. Returns the row count."""
    import csv

    import polars as pl
    import xlsxwriter

    target.mkdir(parents=True)
    total = 0
    for path in sorted(full.iterdir()):
        if path.name.startswith("顾问名单"):
            continue  # the roster does not grow
        if path.suffix == ".csv":
            text = path.read_bytes().decode("gb18030")
            header, *rows = list(csv.reader(io.StringIO(text)))
            picked = rows[:: max(1, round(1 / fraction))]
            key = header.index("线索编号")
            for r in picked:
                r[key] = f"{r[key]}{tag}"
            buf = io.StringIO()
            csv.writer(buf).writerows([header, *picked])
            (target / f"{tag}_{path.name}").write_bytes(buf.getvalue().encode("gb18030"))
            total += len(picked)
            continue
        frames = pl.read_excel(path, sheet_id=0, engine="calamine", has_header=False, infer_schema_length=0)
        book = xlsxwriter.Workbook(str(target / f"{tag}_{path.name}"))
        for name, frame in frames.items():
            h = _header_index(frame)
            header = frame.row(h)
            body = frame.slice(h + 1).gather_every(max(1, round(1 / fraction)))
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, [c or "" for c in header])
            keys = {i for i, c in enumerate(header) if c in NEW_KEY_COLUMNS}
            for n, row in enumerate(body.iter_rows(), start=1):
                for i, value in enumerate(row):
                    if value is not None:
                        sheet.write_string(n, i, f"{value}{tag}" if i in keys else value)
            total += body.height
        book.close()
    return total


def group_data(*args: str) -> None:
    """Run benchmarks/group_data.py in a child process (its memory stays out of this process's maxrss)."""
    import subprocess

    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "group_data.py"), *args], check=True, cwd=ROOT)


def generate_data(args: argparse.Namespace, work: Path, as_of: date) -> tuple[str, int]:
    """Write the drop folder work/group/drop (and what the next night needs in work/pristine); return a label
    and the number of stores."""
    drop = work / "group" / "drop"
    t = time.perf_counter()
    if not args.group:
        from demo.sample_data import generate

        generate(drop, as_of=as_of, seed=args.seed, size=args.size)
        shutil.copytree(drop, work / "pristine")
        label, stores = f"size {args.size} ({3 * args.size} stores)", 3 * args.size
    elif args.reuse:
        shutil.copytree(args.reuse, drop)
        label = f"group from {args.reuse}"
    else:
        group_data(str(drop), "--as-of", as_of.isoformat(), "--scale", str(args.scale), "--seed", str(args.seed))
        label = f"group scale {args.scale}"
    if args.group:
        (work / "pristine").mkdir()
        shutil.copy2(drop / ".group.json", work / "pristine" / ".group.json")
        spec = json.loads((drop / ".group.json").read_text(encoding="utf-8"))["spec"]
        stores = spec["stores"]
        label += (f": {spec['stores']} stores, {spec['advisors']} advisors, {spec['leads']} leads, "
                  f"{spec['followups']} follow-ups, {spec['sales']} orders, {spec['service']} repair orders")
    print(f"generated {label} in {time.perf_counter() - t:.1f} s → {work}", flush=True)
    return label, stores


def next_night(args: argparse.Namespace, work: Path) -> int:
    """Write the next night's files into work/group/drop-next; return their row count."""
    target = work / "group" / "drop-next"
    if not args.group:
        return make_increment(work / "pristine", target, args.increment, "N1")
    t = time.perf_counter()
    group_data(str(target), "--increment-of", str(work / "pristine"), "--fraction", str(args.increment),
               "--tag", "N1")
    manifest = json.loads((target / ".group.json").read_text(encoding="utf-8"))
    (target / ".group.json").unlink()
    print(f"next night generated in {time.perf_counter() - t:.1f} s", flush=True)
    return sum(f["rows"] for f in manifest["files"].values())


def every_task_policy(target: Path) -> Path:
    """The shipped policy with a plan that holds every open task: what advisors received before issue #15."""
    from policy.model import DEFAULT_POLICY

    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    start = text.index("[plan.stale_after_days]")
    end = text.index("\n\n", start)
    text = text[:start] + "[plan.stale_after_days]" + text[end:]  # nothing stale
    text = text.replace("default_capacity = { sales = 40, service = 40, manager = 20 }",
                        "default_capacity = { sales = 1000000, service = 1000000, manager = 1000000 }")
    text = text.replace("fallback_capacity = 30 ", "fallback_capacity = 1000000 ")
    text = text.replace("roster_capacity = true ", "roster_capacity = false ")  # the roster's 每日上限 too
    target.write_text(text, encoding="utf-8")
    return target


def night(drop: Path, out: Path, as_of: date, policy_file: Path | None = None) -> tuple[float, dict]:
    from adapters.folders import Folders
    from flows.nightly import nightly

    start = time.perf_counter()
    result = nightly(folders=Folders.beside(drop, out), as_of=as_of, settle_seconds=0, policy_file=policy_file)
    return time.perf_counter() - start, result.summary


def cli_night(drop: Path, out: Path, as_of: date, api_url: str | None = None) -> float:
    """Wall time of `genjin run` in a new process, as cron would start it (Prefect home already migrated); with
    `api_url`, against that running Prefect server (as under `genjin serve`) instead of a temporary one."""
    import subprocess

    env = os.environ | ({"PREFECT_API_URL": api_url} if api_url else {})
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "genjin.cli", "run", "--drop", str(drop), "--out", str(out),
                    "--as-of", as_of.isoformat(), "--settle-seconds", "0"],
                   check=True, capture_output=True, cwd=ROOT, env=env)  # fmt: skip
    return time.perf_counter() - start


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """A real `prefect server start` on a free loopback port, as an operator runs it for `genjin serve`."""
    import socket
    import subprocess

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
         "--analytics-off", "--no-ui"],
        env=os.environ | {"PREFECT_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the Prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
        yield api
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=10, help="sample_data size: 3 stores per unit (default 10)")
    p.add_argument("--group", action="store_true", help="benchmarks/group_data.py's group instead of sample_data")
    p.add_argument("--scale", type=float, default=1.0, help="with --group: share of the issue's group (1.0)")
    p.add_argument("--reuse", type=Path, default=None,
                   help="with --group: copy this drop folder written by group_data.py instead of generating")
    p.add_argument("--skip-cli", action="store_true", help="skip the `genjin run` empty night in a new process")
    p.add_argument("--skip-plan", action="store_true",
                   help="skip the four extra full nights that compare the plan with every task listed (#15)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--increment", type=float, default=0.01, help="share of new rows on the next night (0.01)")
    p.add_argument("--keep", type=Path, default=None, help="work here and keep the files (default: a temp dir)")
    args = p.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="genjin-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    prefect_env.configure(work / ".prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")

    as_of = date(2026, 11, 23)
    if args.reuse:
        manifest = json.loads((args.reuse / ".group.json").read_text(encoding="utf-8"))
        as_of = date.fromisoformat(manifest["spec"]["as_of"])
    group, empty = work / "group", work / "empty"
    label, stores = generate_data(args, work, as_of)
    files_mb = sum(f.stat().st_size for f in (group / "drop").iterdir() if not f.name.startswith(".")) / 2**20

    results: dict[str, float] = {}
    timings = []
    for _ in range(2):  # the first read also pays for imports and calamine's start-up
        t = time.perf_counter()
        rows = parse_only(group / "drop")
        timings.append(time.perf_counter() - t)
    results["parse-only (s)"] = min(timings)
    results["peak after parse (MB)"] = peak_rss_mb()

    (empty / "drop").mkdir(parents=True)
    results["empty night, first (s)"], _ = night(empty / "drop", empty / "out", as_of)
    results["empty night, warm (s)"], _ = night(empty / "drop", empty / "out", as_of + timedelta(days=1))
    copies = []
    # the same files for two nights with the plan and two without, in turn (best of two)
    for n in range(0 if args.skip_plan else 4):
        shutil.copytree(group / "drop", work / f"copy-{n}" / "drop")
        copies.append(work / f"copy-{n}")
    every_policy = every_task_policy(work / "every-task.toml")
    results["full night (s)"], summary = night(group / "drop", group / "out", as_of)
    results["peak after full (MB)"] = peak_rss_mb()
    sides: dict[str, list[dict]] = {"every task listed": [], "with the plan": []}
    for n, copy in enumerate(copies):
        side, policy_file = ("every task listed", every_policy) if n % 2 == 0 else ("with the plan", None)
        sides[side].append(night(copy / "drop", copy / "out", as_of, policy_file)[1])
    for side, runs in sides.items() if not args.skip_plan else ():
        results[f"write stage, {side} (s)"] = min(r["durations_s"]["write"] for r in runs)
    for side, runs in sides.items() if not args.skip_plan else ():
        results[f"full night, {side} (s)"] = min(sum(r["durations_s"].values()) for r in runs)
    if not args.skip_cli:
        results["empty night, `genjin run` (s)"] = cli_night(empty / "drop", empty / "out",
                                                            as_of + timedelta(days=2))
        with prefect_server(work / ".prefect-server") as api:
            cli_night(empty / "drop", empty / "out", as_of + timedelta(days=3), api)  # the server's first run
            results["empty night, `genjin run` + server (s)"] = cli_night(
                empty / "drop", empty / "out", as_of + timedelta(days=4), api)

    new_rows = next_night(args, work)
    for f in (group / "drop-next").iterdir():
        f.rename(group / "drop" / f.name)
    results["incremental night (s)"], summary_next = night(group / "drop", group / "out", as_of + timedelta(days=1))
    results["peak after incremental (MB)"] = peak_rss_mb()

    loaded = sum(f["rows_loaded"] for f in summary["files"])
    beyond_empty = results["full night (s)"] - results["empty night, warm (s)"]
    parse = results["parse-only (s)"]
    peak = results["peak after incremental (MB)"]
    print(f"\n{label}: {len(summary['files'])} files, {files_mb:.1f} MB, "
          f"{rows} rows read by parse-only, {loaded} rows loaded, {summary['tasks']['total']} tasks; "
          f"incremental: {new_rows} new rows in {len(summary_next['files'])} files")
    plan = summary["plan"]
    print(f"plan: {plan['customers_in_plan']} customers in today's plans ({plan['tasks_in_plan']} tasks), "
          f"{plan['customers_waiting']} waiting, {plan['customers_stale']} stale, for "
          f"{summary['tasks']['advisors']} advisors")
    if not args.skip_plan:
        every_plan = sides["every task listed"][0]["plan"]
        print(f"every task listed: {every_plan['customers_in_plan']} customers ({every_plan['tasks_in_plan']} tasks)")
    print("where the full night goes (its stages, s): " + ", ".join(
        f"{stage} {seconds:.1f}" for stage, seconds in summary["durations_s"].items()))
    print("the incremental night's stages (s): " + ", ".join(
        f"{stage} {seconds:.1f}" for stage, seconds in summary_next["durations_s"].items()))
    for name, run in (("full", summary), ("incremental", summary_next)):
        print(f"the {name} night's peak RSS as each stage ended (MB; this process's high-water mark): " + ", ".join(
            f"{stage} {mb}" for stage, mb in run.get("peak_rss_mb", {}).items()))
    print(f"\n{'measure':<40}{'value':>10}")  # seconds unless marked
    for name, value in results.items():
        print(f"{name:<40}{value:>10.2f}")
    ratio_limit = 2.0 if stores <= 20 else 3.0
    checks = [
        ("(full - empty warm) / parse-only", beyond_empty / parse, ratio_limit),
        *([("empty night, `genjin run` (s)", results["empty night, `genjin run` (s)"], 10.0),
           ("empty night, run + server (s)", results["empty night, `genjin run` + server (s)"], 3.0)]
          if not args.skip_cli else []),
        ("incremental / full", results["incremental night (s)"] / results["full night (s)"], 0.15),
        ("peak RSS (GB)", peak / 1024, 2.0),
    ]
    print(f"\n{'target (issue #17)':<40}{'measured':>10}{'limit':>8}  met")
    for name, value, limit in checks:
        print(f"{name:<40}{value:>10.2f}{limit:>8.2f}  {'yes' if value <= limit else 'NO'}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
