"""Progress of one night (issue #8): each stage's duration and counts, one structured log record per stage.

The flow times its four stages — read, store, worklist, write — with `Progress.stage`. When a stage ends, one
record goes to the logger `genjin` at INFO, its message in key=value form (`stage=read files=34 rows_in=47304
seconds=1.912`) and the same fields on the record (`record.stage`, `record.seconds`, `record.counts`, and each
count by name). Where it shows depends on who runs the flow:

- `genjin run` / `genjin demo` (`on_terminal`): one line per stage on stdout as the stage ends, nothing else
  from genjin below WARNING;
- inside a flow run (`to_run_logs`, flows/nightly.py): the records go to the Prefect flow run's logs, through
  the handlers Prefect gives the `genjin` logger (PREFECT_LOGGING_EXTRA_LOGGERS).

The durations reach run.json as before (`Progress.durations`, `reports/run_summary.py`), and beside them the
process's peak memory as each stage ended (`Progress.peaks`, MB: a high-water mark, so the stage where it rises is
the one that set it) — where the memory of a night goes, on every night, not only in a benchmark (issue #17).
"""

from __future__ import annotations

import logging
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("genjin")

STAGES = ("read", "store", "worklist", "write")
LABELS = {"read": "读取 read", "store": "入库 store", "worklist": "清单 worklist", "write": "输出 write"}
Counts = Mapping[str, int]


class Progress:
    """Replaces the flow's stopwatch: `durations` (seconds per stage, for run.json) and `counts`."""

    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.peaks: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str, counts: Callable[[], Counts] | None = None) -> Iterator[dict[str, int]]:
        """Time the block; when it ends, log the stage's record with its counts: what the block put into the
        dict this yields (`with clock.stage("read") as counted: ...; counted.update(read_counts(files))`),
        and what `counts` returns when given. A stage that raises records nothing."""
        start = time.perf_counter()
        counted: dict[str, int] = {}
        yield counted
        seconds = time.perf_counter() - start
        found = {k: int(v) for k, v in {**counted, **(counts() if counts else {})}.items()}
        self.durations[name] = seconds
        self.counts[name] = found
        self.peaks[name] = peak_rss_mb()
        text = " ".join([f"stage={name}", *(f"{k}={v}" for k, v in found.items()), f"seconds={seconds:.3f}"])
        log.info("%s", text,
                 extra={"stage": name, "seconds": round(seconds, 3), "counts": found, **found})


def peak_rss_mb() -> int:
    """This process's peak resident memory so far, in MB: `getrusage` where the OS has the `resource` module (Linux
    reports kB), else psutil's peak working set (Windows; psutil comes with Dask's distributed); 0 where neither
    tells. Both imported here: `resource` is POSIX-only, and psutil imports it on POSIX."""
    try:
        import resource
    except ImportError:
        try:
            import psutil
        except ImportError:
            return 0
        return int(getattr(psutil.Process().memory_info(), "peak_wset", 0)) // 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


# --- what each stage counts -------------------------------------------------------------------------------


def read_counts(files: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """read: files read, rows in (run.json's `files`)."""
    return {"files": len(files), "rows_in": sum(f["rows_in"] for f in files)}


def store_counts(files: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """store: files loaded (not duplicate or quarantined), rows loaded, rows rejected."""
    return {"files_loaded": sum(f["status"] == "loaded" for f in files),
            "rows_loaded": sum(f["rows_loaded"] for f in files),
            "rows_rejected": sum(f["rows_rejected"] for f in files)}


def worklist_counts(worklist: Any) -> dict[str, int]:
    """worklist: tasks, advisors with tasks (`worklist` is the worklist DataFrame)."""
    return {"tasks": worklist.height, "advisors": worklist["advisor_id"].n_unique()}


def write_counts(workbooks: Mapping[str, Any], emails: Mapping[str, Any]) -> dict[str, int]:
    """write: advisor workbooks, emails written to the outbox."""
    return {"workbooks": len(workbooks), "emails": int(emails.get("written", 0))}


# --- the terminal ---------------------------------------------------------------------------------------


def width(text: str) -> int:
    """Columns `text` takes in a terminal, where a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    fill = " " * max(columns - width(text), 0)
    return fill + text if right else text + fill


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> list[str]:
    """Aligned lines: a header, a rule, the rows; columns whose index is in `right` are right-aligned."""
    cells = [[str(c) for c in header]] + [[f"{c:,}" if isinstance(c, int) else str(c) for c in r] for r in rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(pad(c, w, i in right) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def stage_line(name: str, counts: Counts, seconds: float) -> str:
    """`[1/4] 读取 read      34 files · 47,304 rows · 1.9 s`"""
    c = dict(counts)
    parts = {
        "read": [f"{c.get('files', 0):,} files", f"{c.get('rows_in', 0):,} rows"],
        "store": [f"{c.get('files_loaded', 0):,} files loaded", f"{c.get('rows_loaded', 0):,} rows loaded",
                  f"{c.get('rows_rejected', 0):,} rejected"],
        "worklist": [f"{c.get('tasks', 0):,} tasks", f"{c.get('advisors', 0):,} advisors"],
        "write": [f"{c.get('workbooks', 0):,} workbooks", f"{c.get('emails', 0):,} emails"],
    }.get(name, [f"{k}={v}" for k, v in c.items()])
    number = f"[{STAGES.index(name) + 1}/{len(STAGES)}]" if name in STAGES else "[-]"
    return f"{number} {pad(LABELS.get(name, name), 15)} {' · '.join([*parts, f'{seconds:.1f} s'])}"


class _StageLines(logging.Handler):
    """Prints each stage record as one line on stdout (looked up at each record, so a test can capture it)."""

    def emit(self, record: logging.LogRecord) -> None:
        if not hasattr(record, "stage"):
            return
        try:
            print(stage_line(record.stage, record.counts, record.seconds), file=sys.stdout, flush=True)
        except Exception:
            self.handleError(record)


@contextmanager
def on_terminal() -> Iterator[None]:
    """For interactive runs: a line per stage on stdout; genjin's other records only from WARNING, to stderr;
    nothing of genjin's goes on to the root logger (Prefect's console handler) meanwhile."""
    stages = _StageLines(logging.INFO)
    warnings = logging.StreamHandler()  # sys.stderr
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = log.level, log.propagate
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(stages)
    log.addHandler(warnings)
    try:
        yield
    finally:
        log.removeHandler(stages)
        log.removeHandler(warnings)
        log.setLevel(saved[0])
        log.propagate = saved[1]


@contextmanager
def to_run_logs() -> Iterator[None]:
    """Inside a Prefect flow run: genjin's INFO records (the stage records) reach the run's logs. Prefect's own
    setting PREFECT_LOGGING_EXTRA_LOGGERS=genjin (genjin/prefect_env.py) gives the `genjin` logger Prefect's
    handlers but leaves its level alone, and the root logger is at WARNING: the level is INFO for the block."""
    saved = log.level
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.setLevel(saved)
