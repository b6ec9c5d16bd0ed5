"""Issue #12: the Rust panic `assertion failed: i < self.len()` (a `pyo3_runtime.PanicException`, which
`except Exception` does not catch), narrowed down to one Polars call.

Polars 2.1.0's `pl.format` panics (polars-arrow src/array/binview/mod.rs:413) when one of its string
arguments is a column with two chunks of which one is empty — a two-chunk column after a filter that keeps no
row of one chunk — and another argument has a different chunk layout; at least two rows must remain.
`pl.concat_str` of the same pieces does not panic, nor does `pl.format` after `.rechunk()`. genjin met it in
the nightly task reasons: a lead `grade` column of two chunks (the history read back from two Delta files)
filtered to new leads for `first_contact`'s reason, on backfilled nights of `genjin demo`'s history.

genjin writes every `pl.format` as `transforms.frames.format_text` (a `pl.concat_str`). The bare snippet is
run in a subprocess: when `test_bare_pl_format_still_panics` fails, Polars is fixed and `format_text` may go
back to `pl.format`."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl

from tests.conftest import AS_OF, fu, lead, make_inputs
from transforms.frames import ENGINE, format_text
from transforms.night import Night, prepare
from transforms.tasks_pipeline import first_contact, followup
from transforms.worklist import worklist_from

SETUP = """
import polars as pl
g = pl.concat([pl.Series("g", ["A"]), pl.Series("g", ["B", "C"])], rechunk=False)  # chunks of 1 and 2 rows
df = pl.DataFrame({"keep": [False, True, True], "t": ["x", "y", "z"]}).with_columns(g)
f = df.filter("keep")  # g: chunks of 0 and 2 rows; t: one chunk of 2 rows
"""
BARE = SETUP + 'print(f.select(pl.format("{} {}", "t", "g"))["t"].to_list())\n'
WORKAROUNDS = SETUP + """
print(f.select(pl.concat_str("t", pl.lit(" "), "g"))["t"].to_list())
print(f.rechunk().select(pl.format("{} {}", "t", "g"))["t"].to_list())
from transforms.frames import format_text
print(f.select(format_text("{} {}", "t", "g"))["t"].to_list())
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[2], env={"RUST_BACKTRACE": "0", "PATH": ""})


def test_bare_pl_format_still_panics():
    assert pl.__version__ == "2.1.0", "Polars upgraded: re-check whether this test still fails as it should"
    result = run(BARE)
    assert result.returncode != 0, f"pl.format no longer panics on Polars {pl.__version__}: {result.stdout}"
    assert "assertion failed: i < self.len()" in result.stderr


def test_concat_str_rechunk_and_format_text_do_not_panic():
    result = run(WORKAROUNDS)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["['y B', 'z C']"] * 3


def test_format_text_is_pl_format():
    df = pl.DataFrame({"s": ["a", None, "c"], "i": [1, 2, None], "d": [date(2026, 1, 2), None, date(2026, 3, 4)]})
    cases = [("{}:{}", ("s", "i")), ("x{}y{}z", ("s", pl.col("d"))), ("{}", ("i",)), ("revisit:{}", ("s",)),
             ("{}y", (pl.lit(3) - pl.col("i"),)), ("【{}】{}", (pl.col("d").dt.strftime("%m"), "s"))]
    for template, args in cases:
        assert df.select(format_text(template, *args)).equals(df.select(pl.format(template, *args))), template


def two_chunk_leads(night: Night) -> pl.DataFrame:
    """The night's lead state, leads with follow-ups first, its `grade` split into two chunks at the first new
    lead: `first_contact`'s filter (no follow-up yet) keeps no row of the first chunk — the panicking layout."""
    leads = night.leads.collect().sort(pl.col("n_followups") == 0, "lead_id")
    split = leads.filter(pl.col("n_followups") > 0).height
    grade = pl.concat([leads["grade"][:split], leads["grade"][split:]], rechunk=False)
    leads = leads.with_columns(grade)
    assert [len(c) for c in leads["grade"].get_chunks()] == [split, leads.height - split]
    return leads


def minimal_night(policy) -> Night:
    inputs = make_inputs(
        leads=[lead("L1", "2026-08-01 10:00", phone="13800138001"),
               lead("L2", "2026-11-22 10:00", phone="13800138002"),
               lead("L3", "2026-11-22 11:00", phone="13800138003")],
        followups=[fu("2026-11-18 10:00", "L1")],
    )
    return prepare(inputs, policy, AS_OF)


def test_genjin_tasks_on_a_two_chunk_grade(policy):
    night = minimal_night(policy)
    leads = two_chunk_leads(night)
    # the bare call genjin made before: it panics in-process on the same frame (PanicException is a BaseException)
    bare = pl.format("{} {}", pl.col("source").fill_null("新线索"), "grade")
    new_leads = leads.lazy().filter(pl.col("n_followups") == 0)
    try:
        new_leads.select(bare).collect(engine=ENGINE)
        bare_panicked = False
    except BaseException as err:  # pyo3_runtime.PanicException
        bare_panicked = "i < self.len()" in str(err)
    assert bare_panicked, "pl.format no longer panics here: Polars is fixed"
    for task in (first_contact, followup):
        got = task(leads.lazy(), policy, AS_OF).collect(engine=ENGINE)
        want = task(leads.rechunk().lazy(), policy, AS_OF).collect(engine=ENGINE)
        assert got.equals(want)
    assert first_contact(leads.lazy(), policy, AS_OF).collect(engine=ENGINE)["ref"].sort().to_list() == ["L2", "L3"]


def test_worklist_from_a_two_chunk_night(policy):
    night = minimal_night(policy)
    chunked = replace(night, leads=two_chunk_leads(night).lazy())
    rechunked = replace(night, leads=two_chunk_leads(night).rechunk().lazy())
    got = worklist_from(chunked, policy, AS_OF)
    assert got.equals(worklist_from(rechunked, policy, AS_OF))
    assert {"L2", "L3"} <= set(got["ref"].to_list())  # the new leads' first_contact tasks
