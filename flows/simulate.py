"""`genjin simulate`: replay past nights under the policy in use and a proposed one (issue #19).

Each night between `first` and `last` is built from the history as it stood that night (only rows of files
loaded on or before it — the backfill rule of `History.inputs`), twice: once per policy, by the nightly
transforms themselves (`transforms.night.prepare`, `transforms.worklist.worklist_from`, the KPI facts). The
history is read once and cut per night in memory. The touches are the ones advisors logged; what the proposed
policy would have made them do differently is not guessed.

Nothing is written to the history, the archive, the drop folder or a night's outputs: the result goes to
`OUT/simulate/<first>_<last>/` (simulate.html, simulate.json), built in a hidden folder beside it and renamed
into place whole. No run lock is taken (the lock file lives in the history folder): the history's tables are
read as of one snapshot each, and rows without their ledger row are never read.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from adapters.history import History, as_stood
from policy.model import Policy, differences
from transforms.kpis import build_facts
from transforms.night import Night, prepare, state_key
from transforms.plan import plan_night, waiting_counts
from transforms.replay import POLICY_NAMES, Replay, complete, first_contact_units, night_measures, summarise
from transforms.worklist import worklist_from

DEFAULT_NIGHTS = 90


class SimulateError(Exception):
    """A replay that cannot run (no history, a bad range); the message is in Chinese and English."""



def night_range(history: History, first: date | None, last: date | None,
                nights: int = DEFAULT_NIGHTS) -> tuple[date, date]:
    """The nights to replay: `first`..`last`, by default the last `nights` nights up to the history's last."""
    loaded = history.nights()
    if not loaded:
        raise SimulateError(f"历史数据为空，没有可回放的夜晚 / the history holds no night to replay: {history.root}")
    last = last or loaded[-1]
    first = first or max(loaded[0], last - timedelta(days=nights - 1))
    if first > last:
        raise SimulateError(f"开始日期晚于结束日期 / --from {first} is after --to {last}")
    return first, last


def replay(history: History, current: Policy, proposed: Policy, first: date, last: date,
           policy_files: dict[str, str], progress: Callable[[date], None] | None = None) -> Replay:
    """Every night `first`..`last` under both policies (see the module's docstring)."""
    started = time.perf_counter()
    policies = dict(zip(POLICY_NAMES, (current, proposed), strict=True))
    rows = history.rows_by_night(last)
    nights = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    worklists, waiting, contacts = [], [], []
    previous: dict[str, pl.DataFrame | None] = dict.fromkeys(policies)  # each policy's plan of the night before
    for night in nights:
        inputs = as_stood(rows, night)
        states: dict[str, Night] = {}  # by `state_key`: built once when both policies grade and stage alike
        for name, policy in policies.items():
            key = state_key(policy)
            if key not in states:
                states[key] = prepare(inputs, policy, night)
            state = states[key]
            worklist = worklist_from(state, policy, night)
            planned = plan_night(worklist, state, policy, night, previous[name])
            previous[name] = planned.select(pl.lit(night).alias("night"), "task_type", "ref", "carried_nights")
            tags = [pl.lit(night).alias("night"), pl.lit(name).alias("policy")]
            worklists.append(planned.with_columns(tags))
            waiting.append(waiting_counts(planned).with_columns(tags))
            if night == last:  # every touch logged by the last night scores the first contacts of all nights
                facts = build_facts(inputs, policy, night, worklist, state)
                contacts.append(first_contact_units(facts, name, nights))
        if progress:
            progress(night)
    measures = complete(
        night_measures(pl.concat(worklists, how="vertical_relaxed"), pl.concat(waiting), pl.concat(contacts), last),
        nights, POLICY_NAMES,
    )
    advisors = as_stood(rows, last).advisors.unique("advisor_id", keep="last").select(
        "advisor_id", "name", "store", "role", "daily_capacity").collect().sort("advisor_id")
    return Replay(first, last, nights, policy_files, differences(current, proposed), measures,
                  summarise(measures), advisors, time.perf_counter() - started)


def output_dir(out: Path, first: date, last: date) -> Path:
    return out / "simulate" / f"{first.isoformat()}_{last.isoformat()}"


def write(result: Replay, out: Path, render: Callable[[Replay, Path], None]) -> Path:
    """`render` writes the files into an empty hidden folder; it is renamed to `output_dir` whole (an earlier
    replay of the same range is replaced)."""
    final = output_dir(out, result.first, result.last)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    render(result, partial)
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final
