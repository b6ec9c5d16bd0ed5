"""Per-store fan-out of the worklist (issue #8): the stores' worklists add up to the single build exactly, and the
nightly flow on a real local Dask cluster gives the same night as on one machine."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.history import History
from adapters.ingest import load_file, load_new_file
from demo.sample_data import generate
from policy.model import load_policy
from schemas.columns import KIND_BY_NAME
from tests.conftest import ADVISORS, lead, make_inputs, ro, sale
from transforms.customers import identify
from transforms.frames import Inputs, known_on, latest_per_key
from transforms.partition import combine, split_by_store
from transforms.worklist import build_worklist

AS_OF = date(2026, 11, 23)
KINDS = ("leads", "followups", "sales", "service")
POLICIES = ("default", "honda_ohabc", "three_signals", "day_sequence")


def _generated(drop: Path) -> dict[str, pl.DataFrame]:
    """The generated drop folder's rows by kind, as genjin reads them."""
    sheets = [s for path in sorted(drop.iterdir()) for s in load_file(path).sheets]
    return {
        kind: pl.concat([s.loaded for s in sheets if s.kind == kind], how="diagonal_relaxed")
        for kind in ("advisors", *KINDS)
    }


def _day(days_before: int, hour: int = 10) -> str:
    return f"{AS_OF - timedelta(days=days_before)} {hour:02d}:00"


def _write(path: Path, kind: str, like: pl.DataFrame, rows: list[dict[str, str | None]]) -> None:
    """A CSV export of `kind` with the columns of the generated file `like`, in its order, under Chinese headers."""
    spec = KIND_BY_NAME[kind]
    names = [c for c in like.columns if c in {col.name for col in spec.columns}]
    frame = pl.DataFrame([{n: row.get(n) for n in names} for row in rows], schema=dict.fromkeys(names, pl.String))
    frame.rename({n: spec.column(n).aliases[0] for n in names}).write_csv(path)


def add_cross_store_customers(drop: Path) -> None:
    """Add to a generated drop folder what the generator never makes: customers served by more than one store.
    - a new lead at the next store for customers who already have a lead (same phone);
    - a service visit at the next store for a car sold elsewhere, under a phone found nowhere else (the VIN
      joins the buyer), and a follow-up that names only that phone;
    - two cars of different owners brought in under one phone (a follow-up by that phone goes to one of them);
    - an order at another store under a new phone naming an existing customer's lead;
    - follow-ups of a phone found nowhere else, and of a lead_id that does not exist."""
    data = _generated(drop)
    roster = data["advisors"]
    stores = sorted(roster["store"].unique().to_list())

    def staff(store: str, role: str) -> str:
        team = roster.filter((pl.col("store") == store) & (pl.col("role") == role) & pl.col("active"))
        return team.sort("advisor_id")["advisor_id"][0]

    def next_store(store: str, step: int = 1) -> str:
        return stores[(stores.index(store) + step) % len(stores)]

    phones = iter(f"+86139{n:08d}" for n in range(1, 1000))
    leads = data["leads"].sort("lead_id")
    delivered = data["sales"].filter(pl.col("delivered_at").is_not_null() & pl.col("vin").is_not_null())
    delivered = delivered.sort("order_id")
    new_leads, new_sales, new_service, new_followups = [], [], [], []
    for store in stores:
        other = next_store(store)
        for n, row in enumerate(leads.filter(pl.col("store") == store).head(6).iter_rows(named=True)):
            new_leads.append({"lead_id": f"X-{row['lead_id']}", "created_at": _day(n % 3),
                              "customer_name": row["customer_name"], "phone": row["phone"], "store": other,
                              "advisor_id": staff(other, "sales"), "grade": "AB"[n % 2]})
        for n, row in enumerate(delivered.filter(pl.col("store") == store).head(4).iter_rows(named=True)):
            phone = next(phones)
            new_service.append({"ro_id": f"X-RO-{row['order_id']}", "visited_at": _day(3 + n % 2), "store": other,
                                "vin": row["vin"], "phone": phone, "customer_name": row["customer_name"],
                                "service_type": "保养", "amount": "800", "service_advisor_id": staff(other, "service"),
                                "csat": "2" if n == 0 else "5"})
            if n % 2:
                new_followups.append({"phone": phone, "advisor_id": staff(other, "service"),
                                      "contacted_at": _day(1), "outcome": "已接通"})
        shared = next(phones)
        for n, row in enumerate(delivered.filter(pl.col("store") != store).tail(2).iter_rows(named=True)):
            new_service.append({"ro_id": f"X-RO-SHARED-{store}-{n}", "visited_at": _day(4), "store": store,
                                "vin": row["vin"], "phone": shared, "service_type": "维修", "amount": "300",
                                "service_advisor_id": staff(store, "service"), "csat": "5"})
        new_followups.append({"phone": shared, "advisor_id": staff(store, "service"), "contacted_at": _day(2),
                              "outcome": "已接通"})
        far = next_store(store, 2)
        for n, row in enumerate(leads.filter(pl.col("store") == store).tail(2).iter_rows(named=True)):
            new_sales.append({"order_id": f"X-O-{row['lead_id']}", "phone": next(phones), "customer_name": "代购人",
                              "advisor_id": staff(far, "sales"), "ordered_at": _day(5 + n), "store": far,
                              "lead_id": row["lead_id"], "planned_delivery_at": _day(-1 + n)})
        new_followups.append({"phone": next(phones), "advisor_id": staff(store, "sales"), "contacted_at": _day(1),
                              "outcome": "未接通"})
        new_followups.append({"lead_id": f"NO-SUCH-LEAD-{store}", "advisor_id": staff(store, "sales"),
                              "contacted_at": _day(1), "outcome": "已接通"})
    for name, kind, rows in (("线索", "leads", new_leads), ("订单", "sales", new_sales),
                             ("工单", "service", new_service), ("跟进", "followups", new_followups)):
        _write(drop / f"跨店_{name}.csv", kind, data[kind], rows)


def load_night(drop: Path, history_dir: Path) -> Inputs:
    """What the flow's read and store stages make of the drop folder, without moving anything."""
    history = History(history_dir)
    for order, path in enumerate(sorted(drop.iterdir())):
        load = load_new_file(path, lambda digest: history.loaded_before(digest, AS_OF))
        assert load.status == "loaded" and load.rows_rejected == 0, (path.name, load.why)
        history.record(load, AS_OF, order)
    return history.inputs(AS_OF)


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fanout") / "drop"
    generate(folder, as_of=AS_OF, seed=11, size=1)
    add_cross_store_customers(folder)
    return folder


@pytest.fixture(scope="module")
def inputs(drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return load_night(drop, tmp_path_factory.mktemp("fanout-history") / "history")


def _policy(name: str):
    return load_policy(None if name == "default" else Path("policy") / f"{name}.toml")


def _stores_of_customers(inputs: Inputs) -> pl.DataFrame:
    night = latest_per_key(known_on(inputs, AS_OF))
    ident = identify(night.leads, night.followups, night.sales, night.service)
    rows = pl.concat([f.select("customer_id", "store") for f in (ident.leads, ident.sales, ident.service)])
    return rows.group_by("customer_id").agg(pl.col("store").n_unique().alias("stores")).collect()


def test_the_night_has_customers_served_by_several_stores(inputs: Inputs) -> None:
    assert _stores_of_customers(inputs).filter(pl.col("stores") > 1).height >= 20
    night = latest_per_key(known_on(inputs, AS_OF))
    ident = identify(night.leads, night.followups, night.sales, night.service).collected()
    foreign_lead = ident.sales.join(ident.leads.select("lead_id", pl.col("customer_id").alias("lead_owner")),
                                    on="lead_id").filter(pl.col("customer_id") != pl.col("lead_owner"))
    assert foreign_lead.collect().height == 6  # orders naming another customer's lead


def test_every_row_lands_in_exactly_one_part_per_store(inputs: Inputs) -> None:
    parts = split_by_store(inputs, AS_OF)
    roster = inputs.advisors.collect()
    assert [p.store for p in parts] == sorted(roster["store"].unique().to_list())
    assert len(parts) == 3
    night = latest_per_key(known_on(inputs, AS_OF))
    for kind in KINDS:
        whole = getattr(night, kind).collect()
        pieces = [getattr(p.inputs, kind).collect() for p in parts]
        assert_frame_equal(pl.concat(pieces).sort(whole.columns), whole.sort(whole.columns))
    seen: set[str] = set()
    for part in parts:
        assert_frame_equal(part.inputs.advisors.collect(), night.advisors.collect())  # the whole roster each
        ident = identify(part.inputs.leads, part.inputs.followups, part.inputs.sales, part.inputs.service)
        customers = set(ident.customers.collect()["customer_id"].to_list())
        assert not customers & seen
        seen |= customers


@pytest.mark.parametrize("policy_name", POLICIES)
def test_the_stores_worklists_add_up_to_the_single_build(inputs: Inputs, policy_name: str) -> None:
    policy = _policy(policy_name)
    single = build_worklist(inputs, policy, AS_OF)
    fanned = combine([build_worklist(p.inputs, policy, AS_OF) for p in split_by_store(inputs, AS_OF)])
    assert_frame_equal(fanned, single)
    refs = single["ref"].to_list()
    assert any(r.startswith("X-") for r in refs)  # the cross-store rows make tasks of their own


def test_cutting_by_each_rows_own_store_would_not_add_up(inputs: Inputs, policy) -> None:
    """The check above can fail: the naive cut (each row to the store it names) gives another worklist."""
    stores = inputs.advisors.collect()["store"].unique().sort().to_list()
    naive = [
        Inputs(**{k: getattr(inputs, k).filter(pl.col("store") == s) for k in ("leads", "sales", "service")},
               followups=inputs.followups, advisors=inputs.advisors)
        for s in stores
    ]
    single = build_worklist(inputs, policy, AS_OF)
    fanned = combine([build_worklist(part, policy, AS_OF) for part in naive])
    assert fanned.height != single.height or not fanned.equals(single)


def test_an_order_naming_another_stores_lead_keeps_both_customers_together(policy) -> None:
    roster = [*ADVISORS, {"advisor_id": "M9", "name": "钱经理", "store": "浦西店", "role": "经理", "active": "是"},
              {"advisor_id": "S9", "name": "孙七", "store": "浦西店", "role": "销售顾问", "active": "是",
               "manager_id": "M9"}]
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00", "13800138001"), lead("L2", "2026-11-20 10:00", "13800138003")],
        sales=[sale("O1", "2026-11-10", "13800138002", lead_id="L1", store="浦西店", advisor_id="S9",
                    planned_delivery_at="2026-11-24")],
        service=[ro("R1", "2026-11-19 09:00", "13800138004", store="浦西店")],
        advisors=roster,
    )
    parts = split_by_store(inputs, AS_OF)
    assert [p.store for p in parts] == ["浦东店", "浦西店"]
    assert parts[0].inputs.sales.collect()["order_id"].to_list() == ["O1"]  # with lead L1, not at its own store
    single = build_worklist(inputs, policy, AS_OF)
    assert_frame_equal(combine([build_worklist(p.inputs, policy, AS_OF) for p in parts]), single)
    assert "L1" not in single.filter(pl.col("task_type") == "followup")["ref"].to_list()  # won by O1


def test_nightly_on_picks_the_task_runner() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_dask import DaskTaskRunner

    from flows.nightly import nightly, nightly_on

    assert nightly_on(None) is nightly
    with temporary_settings({PREFECT_API_URL: "http://10.0.0.5:4200/api"}):
        on_cluster = nightly_on("tcp://10.0.0.5:8786")  # connects only when the flow runs
    assert isinstance(on_cluster.task_runner, DaskTaskRunner)
    assert on_cluster.task_runner.address == "tcp://10.0.0.5:8786"
    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ValueError, match="PREFECT_API_URL"):
        nightly_on("tcp://10.0.0.5:8786")  # workers on other machines could not reach a temporary server


@pytest.mark.slow
def test_the_flow_on_a_local_dask_cluster_matches_one_machine(drop: Path, tmp_path: Path,
                                                               prefect_harness: None) -> None:
    from distributed import Client, LocalCluster
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName, TaskRunFilterStartTime

    from adapters.folders import Folders
    from flows.nightly import nightly_on

    for name in ("dask", "local"):
        shutil.copytree(drop, tmp_path / name / "drop")
    started = datetime.now(UTC)  # the flow tests share one Prefect server: other tests' nights ran before
    # The workers reach the harness's Prefect server through the settings Prefect sends with each task
    # (prefect.context.serialize_context); none of them may run in this process.
    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.get_task_stream()  # start recording which worker ran what
        on_dask = nightly_on(cluster.scheduler_address)(
            folders=Folders.beside(tmp_path / "dask" / "drop"), as_of=AS_OF, settle_seconds=0
        )
        stream = client.get_task_stream()
        workers = set(client.scheduler_info()["workers"])
        worker_pids = set(client.run(os.getpid).values())
        with get_client(sync_client=True) as prefect:  # the workers reported to the harness's server
            by_store = prefect.read_task_runs(task_run_filter=TaskRunFilter(
                name=TaskRunFilterName(like_="store_worklist-"), start_time=TaskRunFilterStartTime(after_=started)
            ))
        on_one = nightly_on(None)(folders=Folders.beside(tmp_path / "local" / "drop"), as_of=AS_OF, settle_seconds=0)

    ran = {}
    for record in stream:
        name = record["key"].rsplit("-", 1)[0]
        ran.setdefault(name, []).append(record["worker"])
    assert len(ran["store_worklist"]) == 3  # one task per store, each run by a worker of the cluster
    assert 1 <= len(ran["read_and_validate"]) <= len(list(drop.iterdir()))  # the files, read in batches
    assert set(ran["store_worklist"]) | set(ran["read_and_validate"]) <= workers
    assert os.getpid() not in worker_pids
    stores = _generated(drop)["advisors"]["store"].unique().sort().to_list()
    assert sorted(r.name for r in by_store if r.state and r.state.is_completed()) == [
        f"store_worklist-{store}" for store in stores
    ]

    assert (on_dask.run_dir / "worklist.csv").read_bytes() == (on_one.run_dir / "worklist.csv").read_bytes()
    dask_run, one_run = (json.loads((r.run_dir / "run.json").read_text(encoding="utf-8")) for r in (on_dask, on_one))
    assert dask_run["tasks"] == one_run["tasks"]
    assert dask_run["tasks"]["total"] > 0
    assert dask_run["files"] == one_run["files"]
    assert dask_run["emails"] == one_run["emails"]
