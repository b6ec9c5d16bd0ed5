"""One pandera DataFrameModel per input kind (SPEC §2), checked on the parsed, collected frame.

The models see values after `schemas.parsing`, so dates are dates and phones E.164; a value that could not be
parsed at all is caught before them (see `schemas.validate`).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.vocab import DECISION_LABELS, GRADES, LEAD_STATUSES, ORDER_STATUSES, OUTCOMES

E164 = r"^\+[1-9]\d{6,14}$"


class _Base(pa.DataFrameModel):
    class Config:
        strict = False  # the original cells travel with the row (`__row`, `__sheet`)
        coerce = False


class Leads(_Base):
    lead_id: str = pa.Field(nullable=False)
    created_at: pl.Datetime = pa.Field(nullable=False)
    customer_name: str = pa.Field(nullable=False)
    phone: str = pa.Field(nullable=False, str_matches=E164)
    store: str = pa.Field(nullable=False)
    advisor_id: str = pa.Field(nullable=False)
    grade: str = pa.Field(nullable=True, isin=list(GRADES))
    status: str = pa.Field(nullable=True, isin=list(LEAD_STATUSES))
    do_not_contact: bool = pa.Field(nullable=True)


class Followups(_Base):
    lead_id: str = pa.Field(nullable=True)
    phone: str = pa.Field(nullable=True, str_matches=E164)
    advisor_id: str = pa.Field(nullable=False)
    contacted_at: pl.Datetime = pa.Field(nullable=False)
    outcome: str = pa.Field(nullable=True, isin=list(OUTCOMES))
    next_followup_at: pl.Datetime = pa.Field(nullable=True)
    grade: str = pa.Field(nullable=True, isin=list(GRADES))

    @pa.dataframe_check(error="lead_id|phone")
    def lead_or_phone(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("lead_id").is_not_null() | pl.col("phone").is_not_null())


class Sales(_Base):
    order_id: str = pa.Field(nullable=False)
    phone: str = pa.Field(nullable=False, str_matches=E164)
    customer_name: str = pa.Field(nullable=False)
    advisor_id: str = pa.Field(nullable=False)
    ordered_at: pl.Datetime = pa.Field(nullable=False)
    store: str = pa.Field(nullable=False)
    status: str = pa.Field(nullable=True, isin=list(ORDER_STATUSES))
    price: float = pa.Field(nullable=True, ge=0)


class Service(_Base):
    ro_id: str = pa.Field(nullable=False)
    visited_at: pl.Datetime = pa.Field(nullable=False)
    store: str = pa.Field(nullable=False)
    vin: str = pa.Field(nullable=True)
    phone: str = pa.Field(nullable=True, str_matches=E164)
    amount: float = pa.Field(nullable=True, ge=0)
    csat: float = pa.Field(nullable=True, ge=0, le=100)
    complaint: bool = pa.Field(nullable=True)

    @pa.dataframe_check(error="vin|phone")
    def vin_or_phone(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("vin").is_not_null() | pl.col("phone").is_not_null())


class Advisors(_Base):
    advisor_id: str = pa.Field(nullable=False, unique=True)
    name: str = pa.Field(nullable=False)
    store: str = pa.Field(nullable=False)
    role: str = pa.Field(nullable=False, isin=["sales", "service", "manager"])
    active: bool = pa.Field(nullable=True)


class Decisions(_Base):
    customer_id: str = pa.Field(nullable=True)
    decision: str = pa.Field(nullable=False, isin=list(DECISION_LABELS))
    decided_at: pl.Date = pa.Field(nullable=False)
    bulk: bool = pa.Field(nullable=True)
    idle_days: float = pa.Field(nullable=True, ge=1)

    @pa.dataframe_check(error="customer_id|bulk")
    def customer_or_bulk(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A row names its customer, or is marked 整批 (transforms/bulk_decisions.py)."""
        return data.lazyframe.select(pl.col("customer_id").is_not_null() | pl.col("bulk").fill_null(False))


MODELS: dict[str, type[_Base]] = {
    "leads": Leads,
    "followups": Followups,
    "sales": Sales,
    "service": Service,
    "advisors": Advisors,
    "decisions": Decisions,
}
