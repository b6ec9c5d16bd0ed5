"""The worklist stage per store (issue #8): on a Dask cluster each store's worklist is its own Prefect task, so
the stores of a group are worked on by different Dask workers; the parts add up to the single build exactly
(transforms/partition.py says why)."""

from __future__ import annotations

import sys
from datetime import date

import polars as pl
from prefect import unmapped
from prefect.context import FlowRunContext

from flows import steps
from policy.model import Policy
from transforms import partition
from transforms.frames import Inputs
from transforms.night import Night
from transforms.worklist import build_worklist

step = steps.step


@step
def split_by_store(inputs: Inputs, as_of: date) -> list[partition.StorePart]:
    return partition.split_by_store(inputs, as_of)


@step(task_run_name="store_worklist-{part.store}")
def store_worklist(part: partition.StorePart, policy: Policy, as_of: date) -> pl.DataFrame:
    return build_worklist(part.inputs, policy, as_of)


@step
def combine(worklists: list[pl.DataFrame]) -> pl.DataFrame:
    return partition.combine(worklists)


def on_dask() -> bool:
    """Whether the running flow sends its tasks to a Dask cluster (`flows.nightly.nightly_on`)."""
    context = FlowRunContext.get()
    prefect_dask = sys.modules.get("prefect_dask")  # not imported: the runner cannot be Dask's
    return context is not None and prefect_dask is not None and isinstance(
        context.task_runner, prefect_dask.DaskTaskRunner
    )


def worklist(inputs: Inputs, policy: Policy, as_of: date, night: Night | None = None) -> pl.DataFrame:
    """The night's worklist: one task per store on a Dask cluster, one task otherwise. On one machine the split
    costs more than it saves (each part pays the fixed cost of a build; see README, Beyond one machine)."""
    if not on_dask():
        return steps.worklist_for(night or steps.night_state(inputs, policy, as_of), policy, as_of)
    parts = split_by_store(inputs, as_of)
    built = store_worklist.map(parts, policy=unmapped(policy), as_of=unmapped(as_of))
    return combine([future.result() for future in built])
