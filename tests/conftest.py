"""Builders for tiny input frames: rows are written as ops would type them (text), and go through the same
parsing as real files, so a test reads like the spreadsheet it stands for."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date

import polars as pl
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from policy.model import Policy, load_policy
from schemas.columns import KIND_BY_NAME
from schemas.validate import ROW, SHEET, parse
from transforms.frames import Inputs

AS_OF = date(2026, 11, 23)
pytest_plugins = ["tests.mail_night"]  # the small mail night's fixtures (`frames`, `night`)

ADVISORS = [
    {"advisor_id": "M1", "name": "王经理", "store": "浦东店", "role": "经理", "active": "是"},
    {"advisor_id": "S1", "name": "张三", "store": "浦东店", "role": "销售顾问", "active": "是", "manager_id": "M1"},
    {"advisor_id": "S2", "name": "李四", "store": "浦东店", "role": "销售顾问", "active": "否", "manager_id": "M1"},
    {"advisor_id": "V1", "name": "赵六", "store": "浦东店", "role": "服务顾问", "active": "是", "manager_id": "M1"},
]


def frame(kind: str, rows: Iterable[Mapping[str, str | None]]) -> pl.LazyFrame:
    spec = KIND_BY_NAME[kind]
    names = [c.name for c in spec.columns]
    rows = list(rows)
    data = {n: [r.get(n) for r in rows] for n in names}
    raw = pl.DataFrame(data, schema=dict.fromkeys(names, pl.String)).with_columns(
        pl.int_range(2, pl.len() + 2).alias(ROW), pl.lit("test").alias(SHEET)
    )
    return parse(spec, raw).lazy()


def make_inputs(
    leads: Iterable[Mapping[str, str | None]] = (),
    followups: Iterable[Mapping[str, str | None]] = (),
    sales: Iterable[Mapping[str, str | None]] = (),
    service: Iterable[Mapping[str, str | None]] = (),
    advisors: Iterable[Mapping[str, str | None]] = ADVISORS,
) -> Inputs:
    return Inputs(
        leads=frame("leads", leads),
        followups=frame("followups", followups),
        sales=frame("sales", sales),
        service=frame("service", service),
        advisors=frame("advisors", advisors),
    )


def lead(lead_id: str = "L1", created_at: str = "2026-11-20 10:00", phone: str = "13800138001", **kw: str) -> dict:
    row = {"lead_id": lead_id, "created_at": created_at, "customer_name": "陈先生", "phone": phone,
           "store": "浦东店", "advisor_id": "S1"}
    return row | kw


def fu(contacted_at: str, lead_id: str | None = "L1", **kw: str | None) -> dict:
    return {"lead_id": lead_id, "advisor_id": "S1", "contacted_at": contacted_at, "outcome": "已接通"} | kw


def sale(order_id: str = "O1", ordered_at: str = "2026-10-01", phone: str = "13800138001", **kw: str) -> dict:
    row = {"order_id": order_id, "phone": phone, "customer_name": "陈先生", "advisor_id": "S1",
           "ordered_at": ordered_at, "store": "浦东店"}
    return row | kw


def ro(ro_id: str = "R1", visited_at: str = "2026-11-20 09:00", phone: str = "13800138001", **kw: str) -> dict:
    return {"ro_id": ro_id, "visited_at": visited_at, "store": "浦东店", "phone": phone,
            "service_advisor_id": "V1"} | kw


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()
