"""Customer ids (SPEC §4): `C` + the first 12 hex digits, upper case, of the SHA-256 of the key — the E.164 phone,
or `VIN:<vin>` for a repair order without a phone. A store's history holds these ids from earlier nights, so they
must stay what Python's hashlib gave: every expected id here is worked out with hashlib (and one with
`sha256sum`), not by genjin."""

from __future__ import annotations

import hashlib

import polars as pl

from tests.conftest import fu, lead, make_inputs, ro, sale
from transforms.customers import customer_id, identify


def sha_id(key: str) -> str:
    return "C" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12].upper()


def test_an_id_is_the_sha256_of_its_key_and_a_missing_key_has_none() -> None:
    keys = ["+8613800138001", "VIN:LSVAU2180N2183294", "+85291234567", "", "陈先生", None]
    got = pl.DataFrame({"key": keys}, schema={"key": pl.String}).select(customer_id(pl.col("key")))
    assert got["key"].to_list() == [sha_id(k) for k in keys[:-1]] + [None]
    # printf '%s' '+8613800138001' | sha256sum → 0bf26ba2364e58c4…
    assert got["key"][0] == "C0BF26BA2364E"


def test_the_same_ids_when_polars_streams() -> None:
    keys = pl.LazyFrame({"key": ["+8613800138001", None, "VIN:LSVAU2180N2183294"]})
    streamed = keys.select(customer_id(pl.col("key"))).collect(engine="streaming")
    assert streamed["key"].to_list() == [sha_id("+8613800138001"), None, sha_id("VIN:LSVAU2180N2183294")]


def test_each_record_gets_the_id_of_its_phone_or_of_its_vin() -> None:
    inputs = make_inputs(
        leads=[lead("L1", phone="13800138001")],
        followups=[
            fu("2026-11-21 10:00", lead_id="L1"),  # the lead's customer
            fu("2026-11-21 11:00", lead_id=None, phone="139 0013 9002"),  # only a phone, seen on a repair order
            fu("2026-11-21 12:00", lead_id="L9"),  # neither a known lead nor a phone: no customer
        ],
        service=[
            ro("R1", phone="", vin="LSVAU2180N2183294"),  # no phone: the VIN is the key
            ro("R2", phone="13900139002"),
        ],
    )
    who = identify(inputs.leads, inputs.followups, inputs.sales, inputs.service)
    leads = dict(who.leads.select("lead_id", "customer_id").collect().iter_rows())
    assert leads == {"L1": "C0BF26BA2364E"}
    service = dict(who.service.select("ro_id", "customer_id").collect().iter_rows())
    assert service == {"R1": sha_id("VIN:LSVAU2180N2183294"), "R2": sha_id("+8613900139002")}
    followups = who.followups.sort("contacted_at").collect()["customer_id"].to_list()
    assert followups == ["C0BF26BA2364E", sha_id("+8613900139002"), None]
    customers = who.customers.select("customer_id", "phone").sort("phone", nulls_last=True).collect()
    assert customers.rows() == [
        ("C0BF26BA2364E", "+8613800138001"),
        (sha_id("+8613900139002"), "+8613900139002"),
        (sha_id("VIN:LSVAU2180N2183294"), None),
    ]


def test_a_phone_seen_only_on_a_vin_merged_repair_order_belongs_to_the_cars_buyer() -> None:
    # 陈先生 bought the car with 13800138001; his wife brings it in with her own phone 13900139002
    inputs = make_inputs(
        sales=[sale("O1", phone="13800138001", vin="LSVAU2180N2183294")],
        service=[ro("R1", phone="13900139002", vin="LSVAU2180N2183294")],
        followups=[
            fu("2026-11-21 10:00", lead_id=None, phone="13900139002"),  # the wife's phone: the buyer
            fu("2026-11-21 11:00", lead_id=None, phone="13700137003"),  # a phone seen nowhere else: its own
        ],
    )
    who = identify(inputs.leads, inputs.followups, inputs.sales, inputs.service)
    buyer = sha_id("+8613800138001")
    assert who.service.collect()["customer_id"].to_list() == [buyer]
    followups = who.followups.sort("contacted_at").collect()["customer_id"].to_list()
    assert followups == [buyer, sha_id("+8613700137003")]
