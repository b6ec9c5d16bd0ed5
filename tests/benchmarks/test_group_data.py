"""benchmarks/group_data.py: the vectorised group generator writes files genjin loads, with exactly the planted
bad rows rejected, consistent references, no event after as_of, and an increment of new rows only."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.ingest import load_file  # noqa: E402
from adapters.readers import decode_csv  # noqa: E402
from benchmarks.group_data import GroupSpec, make_increment, plan_group, read_manifest, write_group  # noqa: E402

AS_OF = date(2026, 11, 23)
SPEC = GroupSpec(AS_OF, stores=2, advisors=20, leads=2_000, followups=6_000, sales=400, service=2_000, seed=11)
KIND_BY_PREFIX = {"顾问名单": "advisors", "线索导出": "leads", "销售订单": "sales", "跟进记录": "followups",
                  "售后工单": "service"}
BAD_PHONE = re.compile(r"^(\d{3}\*{4}\d{4}|\d{10}|\d{12})$")  # masked, a digit short, a digit too many


@pytest.fixture(scope="module")
def plan():
    return plan_group(SPEC)


@pytest.fixture(scope="module")
def drop(plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("group")
    write_group(plan, folder, workers=1)
    return folder


@pytest.fixture(scope="module")
def loads(drop: Path) -> dict[str, object]:
    return {p.name: load_file(p) for p in sorted(drop.iterdir()) if not p.name.startswith(".")}


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The data rows as the file holds them: CSV decoded as genjin does, a workbook below its header row."""
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(decode_csv(path.read_bytes()))))
    frame = pl.read_excel(path, engine="calamine", has_header=False, infer_schema_length=0)
    header = next(i for i, row in enumerate(frame.iter_rows()) if row[0] in ("线索编号", "顾问编号", "订单号"))
    names = [str(c) for c in frame.row(header)]
    return [dict(zip(names, ["" if v is None else v for v in row], strict=True))
            for row in frame.slice(header + 1).iter_rows()]


def planted_bad(kind: str, row: dict[str, str]) -> bool:
    """The generator's planted errors, recognised by a rule of their own (not by genjin's parsers)."""
    bad = bool(BAD_PHONE.match(row.get("手机号", "")))
    if kind == "followups":
        bad |= row["下次跟进时间"] == "待定"
    if kind == "service":
        bad |= len(row["车架号"]) not in (0, 17)
    return bad


def test_files_and_counts(plan, drop: Path, loads) -> None:
    kinds = {name: KIND_BY_PREFIX[name.split("_")[0].removesuffix(".xlsx")] for name in loads}
    assert sorted(set(kinds.values())) == ["advisors", "followups", "leads", "sales", "service"]
    assert sum(1 for k in kinds.values() if k == "leads") == SPEC.stores  # one lead export per store
    for name, load in loads.items():
        assert load.status == "loaded", (name, load.why)
        assert load.kind == kinds[name], name
    rows = {kind: sum(load.rows_in for name, load in loads.items() if kinds[name] == kind) for kind in kinds.values()}
    assert rows == {"advisors": SPEC.advisors, "leads": SPEC.leads, "followups": SPEC.followups,
                    "sales": SPEC.sales, "service": SPEC.service}
    encodings = {(drop / n).read_bytes()[:3] == b"\xef\xbb\xbf" for n in loads if n.endswith(".csv")}
    assert encodings == {True, False}  # UTF-8 with BOM and GB18030 both occur


def test_rejects_are_the_planted_rows(drop: Path, loads) -> None:
    manifest = read_manifest(drop)["files"]
    planted_total = 0
    for name, load in loads.items():
        kind = load.kind
        planted = sum(planted_bad(kind, row) for row in raw_rows(drop / name))
        assert load.rows_rejected == planted == manifest[name]["bad_rows"], name
        assert load.rows_loaded == load.rows_in - planted, name
        planted_total += planted
    assert planted_total > 0


def test_consistency(plan, loads) -> None:
    frames: dict[str, list[pl.DataFrame]] = {}
    for load in loads.values():
        for sheet in load.sheets:
            frames.setdefault(sheet.kind, []).append(sheet.loaded)
    leads, followups, sales, service, advisors = (
        pl.concat(frames[k]) for k in ("leads", "followups", "sales", "service", "advisors")
    )
    all_ids = plan.leads["lead_id"]  # rejected leads included: a bad phone does not make the lead unknown
    assert all_ids.n_unique() == SPEC.leads
    named = followups["lead_id"].drop_nulls()
    assert named.is_in(all_ids.implode()).all()
    assert sales["lead_id"].is_in(all_ids.implode()).all()
    assert service["ro_id"].n_unique() == service.height and sales["order_id"].n_unique() == sales.height
    # a follow-up is never before its lead was created
    joined = followups.join(leads.select("lead_id", pl.col("created_at").alias("created")), on="lead_id")
    assert joined.height > 0 and (joined["contacted_at"] >= joined["created"]).all()
    # each lead's advisor is a sales advisor of the lead's store (or one since deleted from the roster)
    roster = advisors.select("advisor_id", pl.col("store").alias("roster_store"), "role")
    owned = leads.join(roster, on="advisor_id", how="left")
    assert owned.filter(pl.col("role").is_null())["advisor_id"].str.ends_with("A99").all()
    known = owned.filter(pl.col("role").is_not_null())
    assert (known["role"] == "sales").all() and (known["store"] == known["roster_store"]).all()
    # repair orders name sold cars by VIN or customers by phone
    assert service["vin"].is_in(sales["vin"].implode()).any()
    assert (service["vin"].is_not_null() | service["phone"].is_not_null()).all()
    # some customers appear at both stores
    assert leads.group_by("phone").agg(pl.col("store").n_unique().alias("n")).filter(pl.col("n") > 1).height > 0


def test_no_event_after_as_of(loads) -> None:
    """Every event (created, contacted, ordered, delivered, visited, birthday) is on or before as_of. Plans —
    planned_delivery_at and next_followup_at — may lie ahead, as they do in real data."""
    end = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 23, 59)
    events = {"leads": ["created_at"], "followups": ["contacted_at"], "sales": ["ordered_at", "delivered_at"],
              "service": ["visited_at"]}
    for load in loads.values():
        for sheet in load.sheets:
            for col in events.get(sheet.kind, []):
                assert sheet.loaded[col].max() <= end, (sheet.kind, col)
            if sheet.kind in ("leads", "sales"):
                assert sheet.loaded["birthday"].drop_nulls().max() <= AS_OF


def test_increment(plan, drop: Path, tmp_path: Path) -> None:
    target = tmp_path / "next"
    rows = make_increment(target, base=plan, fraction=0.05, tag="N1")
    files = sorted(p for p in target.iterdir() if not p.name.startswith("."))
    assert files and all("_N1" in p.name for p in files)
    assert not {p.name for p in files} & {p.name for p in drop.iterdir()}
    expected = {"leads": 100, "followups": 300, "sales": 20, "service": 100}
    seen = {k: 0 for k in expected}
    new_ids: list[str] = []
    for path in files:
        load = load_file(path)
        assert load.status == "loaded", (path.name, load.why)
        planted = sum(planted_bad(load.kind, row) for row in raw_rows(path))
        assert load.rows_rejected == planted, path.name
        seen[load.kind] += load.rows_in
        for sheet in load.sheets:
            if sheet.kind == "leads":
                new_ids += sheet.loaded["lead_id"].to_list()
                assert (sheet.loaded["created_at"].dt.date() == date(2026, 11, 24)).all()
            if sheet.kind in ("sales", "service"):
                key = "order_id" if sheet.kind == "sales" else "ro_id"
                assert not sheet.loaded[key].is_in(getattr(plan, sheet.kind)[key].implode()).any()
            if sheet.kind == "service":
                known = pl.concat([plan.cars["vin"].drop_nulls(), plan.service["vin"].drop_nulls()])
                assert sheet.loaded["vin"].drop_nulls().is_in(known.implode()).all()
    assert seen == expected and rows == sum(expected.values())
    assert new_ids and not set(new_ids) & set(plan.leads["lead_id"].to_list())
