"""The flow's own process (the driver) and a local Dask cluster's workers as the group grows (issue #17). Not a test.

    .venv/bin/python benchmarks/bench_dask.py                                    # 25, 50 and 100 stores
    .venv/bin/python benchmarks/bench_dask.py --stores 25 50 100 --data /tmp/genjin-groups

For each size, `benchmarks/group_data.py` writes the group (kept under --data/<stores> and reused), and one night
runs twice on copies of the same files, in turn: `genjin run` on this machine, and `genjin run` with
GENJIN_DASK_ADDRESS on a local cluster (a `dask scheduler` and `--workers` `dask worker --no-nanny` processes, one
thread each, started afresh for the night). Both report to the same running `prefect server start`, as in
docs/engineering.md. Measured: the wall time of `genjin run`; the driver's peak RSS (its own high-water mark, from
`os.wait4`); each worker's peak RSS (its `ru_maxrss`, asked of the worker after the night); the night's stages.
The driver's target: it stays flat as the group grows (it holds aggregates, not the group's rows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_nightly import prefect_server  # noqa: E402

from genjin import prefect_env  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_peak_kb() -> int:
    """Run on each worker: its own high-water mark."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@contextmanager
def local_cluster(workers: int, logs: Path) -> Iterator[str]:
    """A `dask scheduler` and `workers` single-threaded `dask worker`s on loopback (docs/engineering.md)."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=(logs / "scheduler.log").open("wb"),
                              stderr=subprocess.STDOUT, cwd=ROOT)]
    try:
        time.sleep(2)
        for n in range(workers):
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                 "--memory-limit", "0", "--no-dashboard"],
                stdout=(logs / f"worker-{n}.log").open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
            ))  # fmt: skip
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker still closing its Prefect client: its numbers are in
                proc.kill()
                proc.wait()


def workers_peak_mb(address: str) -> list[float]:
    from distributed import Client

    with Client(address, timeout=60) as client:
        return sorted((kb / 1024 for kb in client.run(worker_peak_kb).values()), reverse=True)


def genjin_run(drop: Path, as_of: date, env: dict[str, str]) -> tuple[float, float, dict]:
    """`genjin run` in a new process: wall time, its peak RSS (MB) and its run.json."""
    out = drop.parent / "out"
    start = time.perf_counter()
    log = (drop.parent / "genjin.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "genjin.cli", "run", "--drop", str(drop), "--out", str(out),
                             "--as-of", as_of.isoformat(), "--settle-seconds", "0"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    log.close()
    if status != 0:
        raise RuntimeError(f"genjin run failed ({status}); see {drop.parent / 'genjin.log'}")
    summary = json.loads((out / as_of.isoformat() / "run.json").read_text(encoding="utf-8"))
    return wall, usage.ru_maxrss / 1024, summary


def group(data: Path, stores: int) -> tuple[Path, date]:
    """The group of `stores` stores (group_data.py's 100-store group scaled), written once and kept."""
    drop = data / str(stores)
    if not (drop / ".group.json").exists():
        shutil.rmtree(drop, ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "group_data.py"), str(drop), "--scale",
                        str(stores / 100)], check=True, cwd=ROOT)  # fmt: skip
    spec = json.loads((drop / ".group.json").read_text(encoding="utf-8"))["spec"]
    return drop, date.fromisoformat(spec["as_of"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", type=int, nargs="+", default=[25, 50, 100])
    p.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "genjin-groups",
                   help="where the generated groups are kept between runs")
    p.add_argument("--workers", type=int, default=2, help="Dask workers (default 2: this machine's cores)")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="genjin-dask-"))
    prefect_env.configure(work / ".prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    rows = []
    with prefect_server(work / ".prefect-server") as api:
        env = os.environ | {"PREFECT_API_URL": api}
        for stores in args.stores:
            source, as_of = group(args.data, stores)
            for mode in ("one machine", "dask"):
                night = work / f"{stores}-{mode.replace(' ', '-')}"
                shutil.copytree(source, night / "drop")
                if mode == "dask":
                    with local_cluster(args.workers, night / "logs") as address:
                        wall, driver, summary = genjin_run(night / "drop", as_of,
                                                           env | {"GENJIN_DASK_ADDRESS": address})
                        workers = workers_peak_mb(address)
                else:
                    (wall, driver, summary), workers = genjin_run(night / "drop", as_of, env), []
                loaded = sum(f["rows_loaded"] for f in summary["files"])
                rows.append((stores, mode, loaded, wall, driver, workers, summary["durations_s"]))
                print(f"{stores} stores, {mode}: {wall:.1f} s, driver {driver:.0f} MB, workers "
                      f"{', '.join(f'{w:.0f}' for w in workers) or '—'} MB, stages {summary['durations_s']}, "
                      f"driver's peak as each stage ended (MB) {summary.get('peak_rss_mb')}", flush=True)
                shutil.rmtree(night, ignore_errors=True)

    print(f"\n{'stores':>6}  {'mode':<12}{'rows loaded':>12}{'wall (s)':>10}{'driver peak (MB)':>18}"
          f"{'workers peak (MB)':>20}  stages (s)")
    for stores, mode, loaded, wall, driver, workers, stages in rows:
        print(f"{stores:>6}  {mode:<12}{loaded:>12}{wall:>10.1f}{driver:>18.0f}"
              f"{(' / '.join(f'{w:.0f}' for w in workers) or '—'):>20}  "
              + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    dask = [(s, d) for s, m, _, _, d, _, _ in rows if m == "dask"]
    if len(dask) > 1:
        (small, first), (large, last) = dask[0], dask[-1]
        print(f"\ndriver on the cluster, {large} vs {small} stores: {last / first:.2f}x its peak "
              f"(target: flat, ~1x) — {'met' if last / first <= 1.25 else 'NOT met'}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
