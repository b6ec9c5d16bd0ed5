"""Customer identity (SPEC §4): the E.164 phone, with a VIN linking sales and service orders whose phones
differ. A name alone never merges two customers. `customer_id` is a hash of the key, stable night to night."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from transforms.frames import ENGINE, in_time_order


def _digest(key: str) -> str:
    return "C" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def _digests(keys: pl.Series) -> pl.Series:
    """`_digest` of each key, hashing each distinct key once (a phone recurs on many rows)."""
    distinct = keys.drop_nulls().unique()
    ids = pl.Series("id", [_digest(k) for k in distinct], dtype=pl.String)
    table = pl.DataFrame([distinct.rename("key").cast(pl.String), ids])
    joined = keys.rename("key").to_frame().join(table, on="key", how="left", maintain_order="left")
    return joined["id"].rename(keys.name)


def customer_id(key: pl.Expr) -> pl.Expr:
    """`C` + 12 hex digits of SHA-256 of the phone (or `VIN:<vin>` for a service order with no phone)."""
    return key.map_batches(_digests, return_dtype=pl.String, is_elementwise=True)


@dataclass(frozen=True)
class Identity:
    """Every record kind with its customer_id, and what resolves a bare phone to a customer."""

    leads: pl.LazyFrame
    sales: pl.LazyFrame
    service: pl.LazyFrame
    followups: pl.LazyFrame
    customers: pl.LazyFrame  # customer_id, customer_name, phone, store, do_not_contact, has_sale, has_service

    def collected(self) -> Identity:
        """The same frames computed once: every later step reads them several times, and the hashing of
        phones must not be repeated for each read."""
        frames = pl.collect_all([self.leads, self.sales, self.service, self.followups, self.customers], engine=ENGINE)
        return Identity(*(f.lazy() for f in frames))


def _vin_owners(sales: pl.LazyFrame) -> pl.LazyFrame:
    return (
        in_time_order(sales.filter(pl.col("vin").is_not_null()), "ordered_at", "order_id")
        .group_by("vin")
        .agg(pl.col("customer_id").last().alias("vin_customer_id"))
    )


def _phone_directory(leads: pl.LazyFrame, sales: pl.LazyFrame, service: pl.LazyFrame) -> pl.LazyFrame:
    """phone → customer_id: a phone's own customer; a phone seen only on VIN-merged service orders → the owner."""
    own = pl.concat([leads.select("phone", "customer_id"), sales.select("phone", "customer_id")])
    merged = service.filter(pl.col("phone").is_not_null()).select("phone", "customer_id")
    return (
        pl.concat([own.with_columns(pl.lit(0).alias("rank")), merged.with_columns(pl.lit(1).alias("rank"))])
        .sort("rank", "customer_id")
        .group_by("phone")
        .agg(pl.col("customer_id").first())
    )


def _key_ids(keys: list[pl.LazyFrame]) -> pl.LazyFrame:
    """key → customer_id for every distinct key of the night (column `key` of each frame), each hashed once."""
    every = pl.concat([k.select(pl.col("key").cast(pl.String)) for k in keys])
    keys_ = every.drop_nulls().unique().collect(engine=ENGINE).to_series()
    ids = pl.Series("customer_id", [_digest(k) for k in keys_], dtype=pl.String)
    return pl.DataFrame([keys_, ids]).lazy()


def _keyed(frame: pl.LazyFrame, key: pl.Expr, ids: pl.LazyFrame, name: str = "customer_id") -> pl.LazyFrame:
    return (
        frame.with_columns(key.alias("__key"))
        .join(ids.rename({"customer_id": name}), left_on="__key", right_on="key", how="left", maintain_order="left")
        .drop("__key")
    )


def identify(
    leads: pl.LazyFrame, followups: pl.LazyFrame, sales: pl.LazyFrame, service: pl.LazyFrame
) -> Identity:
    phone = pl.col("phone")
    service_key = pl.coalesce(phone, pl.lit("VIN:") + pl.col("vin"))
    ids = _key_ids([leads.select(key=phone), sales.select(key=phone), service.select(key=service_key),
                    followups.select(key=phone)])
    leads = _keyed(leads, phone, ids)
    sales = _keyed(sales, phone, ids)
    service = (
        _keyed(service, service_key, ids, "key_customer_id")
        .join(_vin_owners(sales), on="vin", how="left")
        .with_columns(pl.coalesce("vin_customer_id", "key_customer_id").alias("customer_id"))
        .drop("vin_customer_id", "key_customer_id")
    )
    directory = _phone_directory(leads, sales, service)
    lead_owner = leads.select("lead_id", pl.col("customer_id").alias("lead_customer_id"))
    followups = (
        _keyed(followups, phone, ids, "own_customer_id")
        .join(lead_owner, on="lead_id", how="left")
        .join(directory.rename({"customer_id": "phone_customer_id"}), on="phone", how="left")
        .with_columns(
            pl.coalesce("lead_customer_id", "phone_customer_id", "own_customer_id").alias("customer_id")
        )
        .drop("lead_customer_id", "phone_customer_id", "own_customer_id")
    )
    return Identity(leads, sales, service, followups, _customers(leads, sales, service))


def _customers(leads: pl.LazyFrame, sales: pl.LazyFrame, service: pl.LazyFrame) -> pl.LazyFrame:
    """One row per customer. Name and phone from the newest sale, else the newest lead, else the newest
    service order (a VIN-merged customer shows the sale's phone)."""
    cols = ["customer_id", "customer_name", "phone", "store", "at", "source_rank"]
    records = pl.concat(
        [
            sales.select(*cols[:4], pl.col("ordered_at").alias("at"), pl.lit(0).alias("source_rank")),
            leads.select(*cols[:4], pl.col("created_at").alias("at"), pl.lit(1).alias("source_rank")),
            service.select(*cols[:4], pl.col("visited_at").alias("at"), pl.lit(2).alias("source_rank")),
        ]
    )
    display = (
        records.sort(["source_rank", "at"], descending=[False, True], nulls_last=True)
        .group_by("customer_id")
        .agg(
            pl.col("customer_name").drop_nulls().first(),
            pl.col("phone").drop_nulls().first(),
            pl.col("store").drop_nulls().first(),
            (pl.col("source_rank") == 0).any().alias("has_sale"),
            (pl.col("source_rank") == 2).any().alias("has_service"),
        )
    )
    dnc = leads.group_by("customer_id").agg(pl.col("do_not_contact").fill_null(False).any())
    return display.join(dnc, on="customer_id", how="left").with_columns(pl.col("do_not_contact").fill_null(False))
