"""Customer identity (SPEC §4): the E.164 phone, with a VIN linking sales and service orders whose phones
differ. A name alone never merges two customers. `customer_id` is a hash of the key, stable night to night."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from polars_hash import CryptographicHashingNameSpace

from transforms.frames import ENGINE, in_time_order


def customer_id(key: pl.Expr) -> pl.Expr:
    """`C` + the first 12 hex digits, upper case, of the SHA-256 of the key's UTF-8 text: the phone, or `VIN:<vin>`
    for a service order with no phone; null for a null key. The same ids as Python's `hashlib.sha256` gave before
    (a store's history holds them), computed in Polars (the polars-hash plugin), not per row in Python."""
    digest = CryptographicHashingNameSpace(key.cast(pl.String)).sha2_256()
    named = key.meta.output_name(raise_if_undetermined=False)  # named as the key, as `map_batches` named it
    prefixed = pl.lit("C") + digest.str.slice(0, 12).str.to_uppercase()
    return prefixed if named is None else prefixed.alias(named)


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
    """phone → customer_id for a phone seen only on service orders: the customer of its orders (the VIN's owner
    for a VIN-merged one; the smallest id when they differ). A phone of a lead or an order is its own customer
    (`customer_id` of the phone), which needs no directory."""
    own = pl.concat([leads.select("phone"), sales.select("phone")])
    return (
        service.filter(pl.col("phone").is_not_null())
        .select("phone", "customer_id")
        .join(own, on="phone", how="anti")
        .group_by("phone")
        .agg(pl.col("customer_id").min())
    )


def _keyed(frame: pl.LazyFrame, key: pl.Expr, name: str = "customer_id") -> pl.LazyFrame:
    return frame.with_columns(customer_id(key).alias(name))


def identify(
    leads: pl.LazyFrame, followups: pl.LazyFrame, sales: pl.LazyFrame, service: pl.LazyFrame
) -> Identity:
    phone = pl.col("phone")
    service_key = pl.coalesce(phone, pl.lit("VIN:") + pl.col("vin"))
    leads = _keyed(leads, phone)
    sales = _keyed(sales, phone)
    service = (
        _keyed(service, service_key, "key_customer_id")
        .join(_vin_owners(sales), on="vin", how="left")
        .with_columns(pl.coalesce("vin_customer_id", "key_customer_id").alias("customer_id"))
        .drop("vin_customer_id", "key_customer_id")
    )
    directory = _phone_directory(leads, sales, service)
    lead_owner = leads.select("lead_id", pl.col("customer_id").alias("lead_customer_id"))
    lead_customer, phone_customer = pl.col("lead_customer_id"), pl.col("phone_customer_id")
    unresolved = pl.when(lead_customer.is_null() & phone_customer.is_null()).then(phone)  # only these are hashed
    followups = (
        followups.join(lead_owner, on="lead_id", how="left")
        .join(directory.rename({"customer_id": "phone_customer_id"}), on="phone", how="left")
        .with_columns(pl.coalesce(lead_customer, phone_customer, customer_id(unresolved)).alias("customer_id"))
        .drop("lead_customer_id", "phone_customer_id")
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
