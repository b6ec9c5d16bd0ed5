"""Rendering spread over worker processes: xlsxwriter and matplotlib are pure Python, so threads would queue on
the GIL. Processes are spawned, not forked: the caller runs Prefect's threads (issue #8, #17)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")


def worker_count(work: int, per_process: int, cpus: int | None = None) -> int:
    """How many processes for `work` units: one per core, each with at least `per_process` units (below that a
    process's start-up, the imports, costs more than it saves); 1 means in the calling process."""
    return max(1, min(cpus or os.cpu_count() or 1, work // per_process))


def in_processes(write: Callable[[Sequence[J]], R], jobs: Sequence[J], workers: int) -> list[R]:
    """`write` over `workers` interleaved shares of `jobs`, each share in a process of its own; in this process
    for `workers` <= 1. `write` and the jobs must pickle (a module-level function, frames, paths)."""
    if workers <= 1:
        return [write(jobs)]
    shares = [jobs[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(write, shares))
