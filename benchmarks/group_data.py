"""Generated dealer-group data for the nightly benchmark (issue #8), vectorised.

    .venv/bin/python benchmarks/group_data.py /tmp/genjin-group                 # the issue's full group
    .venv/bin/python benchmarks/group_data.py /tmp/g --scale 0.01               # 1% of every count
    .venv/bin/python benchmarks/group_data.py /tmp/n1 --increment-of /tmp/genjin-group --tag N1

`demo/sample_data.py` builds every lead as a Python object (realistic, planted cases, but ~10k rows/s); this
module draws whole columns with a seeded `numpy.random.Generator` and shapes the cells with Polars expressions,
so that 100 stores / 1,000 advisors / 1M leads / 3M follow-ups / 200k orders / 1M repair orders take minutes.
Vocabularies, headers and value formats are sample_data's, so genjin reads both the same way.

What ops drop (`plan_group` → `write_group`):
- `顾问名单.xlsx`: the roster, ~10 per store (销售经理, 服务经理, sales and service advisors, a few inactive);
- `线索导出_<store>.xlsx`: one CRM lead export per store, a merged title row above the header, 留资时间 as real
  Excel date-times (a few typed as text);
- `销售订单_<region>.xlsx`: the DMS orders per region (10 stores), dates as real Excel dates;
- `跟进记录_<region>.csv`, `售后工单_<region>.csv`: follow-up log and repair orders per region, as CSV with dates as
  text; regions alternate between GB18030 with CRLF (Chinese Excel's "CSV") and UTF-8 with BOM.
A hidden `.group.json` (genjin leaves dot files alone) records the spec and, per file, its kind, rows and the
rows planted to be rejected.

Planted bad rows (each must come back as a reject): masked or mistyped phones (`138****5678`, 10 or 12 digits)
in every kind, `待定` as a follow-up's next date, a 16-character VIN on a repair order. `GroupPlan.bad_rows`
counts them; a file's rows_in = rows loaded + its bad rows.

`make_increment` writes the next night: `fraction` new rows of every kind (new leads with new ids and phones,
follow-ups on recent open leads and on the new ones, new orders, new repair orders of known cars), dated the day
after as_of, in the same mix of files, tagged in the file names.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo.sample_data import (  # noqa: E402
    ADVISOR_HEADERS,
    BUDGET_WEIGHTS,
    BUDGETS,
    CANCEL_SUMMARY,
    CHANNELS_BY_OUTCOME,
    CHINESE_ORDINALS,
    COLORS,
    COMPETITORS,
    COMPLAINT_CALL_SUMMARIES,
    COMPLAINT_TEXTS,
    DELIVERY_CALL_SUMMARIES,
    FOLLOWUP_HEADERS,
    GIVEN_DOUBLE,
    GIVEN_SINGLE,
    GRADE_BY_TIMEFRAME,
    HISTORY_DAYS,
    LEAD_HEADERS,
    LOST_REASONS,
    MOBILE_PREFIXES,
    MODEL_WEIGHTS,
    MODELS,
    ONLINE_SOURCES,
    PIPELINE_PATH,
    PLATE_LETTERS,
    REFERRAL_SOURCE,
    SALES_HEADERS,
    SERVICE_AMOUNTS,
    SERVICE_CALL_SUMMARIES,
    SERVICE_HEADERS,
    SOURCE_WEIGHTS,
    SOURCES,
    STORE_BASES,
    SUMMARIES,
    SURNAMES,
    TIMEFRAME_WEIGHTS,
    TIMEFRAMES,
    VIN_ALPHABET,
    VIN_PLANTS,
    VIN_VALUES,
    VIN_WEIGHTS,
    VIN_YEAR_CODES,
    WECHAT_ID_CHARS,
    WORK_HOURS,
)

__all__ = ["GroupPlan", "GroupSpec", "generate_group", "make_increment", "plan_group", "write_group"]

DAY = 1440  # minutes; every moment here is int64 minutes since 1970-01-01, every day int days since then
EXCEL_UNIX_DAYS = 25569  # 1899-12-30 → 1970-01-01
STORES_PER_REGION = 10
MANIFEST = ".group.json"
ADVISORS_FILE = "顾问名单.xlsx"
OUTCOMES = (*PIPELINE_PATH, "未接通", "下订", "战败", "暂不考虑")  # codes 0-4: the pipeline path, then these
MISSED, ORDERED, LOST, DORMANT = 5, 6, 7, 8
BAD_PHONE_SHARE = 0.002  # leads, follow-ups, orders, repair orders with a phone nobody can call
BAD_DATE_SHARE = 0.0005  # follow-ups whose next date is 待定
BAD_VIN_SHARE = 0.0005  # repair orders with a VIN one character short
SURNAME_WEIGHTS = np.arange(len(SURNAMES) + 20, 20, -1, dtype=float)


# --------------------------------------------------------------------------------------------------
# Spec and plan
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSpec:
    as_of: date
    stores: int = 100
    advisors: int = 1000
    leads: int = 1_000_000
    followups: int = 3_000_000
    sales: int = 200_000
    service: int = 1_000_000
    seed: int = 7

    @classmethod
    def scaled(cls, as_of: date, scale: float = 1.0, seed: int = 7) -> GroupSpec:
        """Every count of the issue's group times `scale` (at least 1 store with 5 advisors)."""
        full = cls(as_of=as_of, seed=seed)
        stores = max(1, round(full.stores * scale))
        return cls(
            as_of=as_of,
            stores=stores,
            advisors=max(5 * stores, round(full.advisors * scale)),
            leads=max(10, round(full.leads * scale)),
            followups=max(10, round(full.followups * scale)),
            sales=max(2, round(full.sales * scale)),
            service=max(10, round(full.service * scale)),
            seed=seed,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"as_of": self.as_of.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupSpec:
        return cls(**(data | {"as_of": date.fromisoformat(data["as_of"])}))


@dataclass
class GroupPlan:
    """Every row of the group as Polars frames: the cells as written (text, or numbers for Excel dates) plus
    internal columns prefixed `_` (indices, moments, `_bad` for rows planted to be rejected)."""

    spec: GroupSpec
    stores: pl.DataFrame
    advisors: pl.DataFrame
    leads: pl.DataFrame
    followups: pl.DataFrame
    sales: pl.DataFrame
    service: pl.DataFrame
    cars: pl.DataFrame

    def bad_rows(self, kind: str) -> int:
        return int(getattr(self, kind)["_bad"].sum())


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _p(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _take(values: Sequence[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(pl.Series(idx, dtype=pl.UInt32))


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def _blank(n: int) -> pl.Series:
    return pl.repeat("", n, dtype=pl.String, eager=True)


def _nullify(s: pl.Series) -> pl.Series:
    return s.set(s == "", None) if s.dtype == pl.String else s


def _work_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.asarray(WORK_HOURS), n) * 60 + rng.integers(0, 60, n)


def _group_rank(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within runs of equal `keys` (which must be sorted)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, keys[1:] != keys[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - first


def _is_last(keys: np.ndarray) -> np.ndarray:
    return np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.zeros(0, dtype=bool)


# --------------------------------------------------------------------------------------------------
# Cell formats (Polars expressions)
# --------------------------------------------------------------------------------------------------


def phone_cells(digits: pl.Expr, style: pl.Expr) -> pl.Expr:
    """11 digits → the cell as exports and people type it; styles 5 and 6 are not a phone at all."""
    d = digits
    a, b, c = d.str.slice(0, 3), d.str.slice(3, 4), d.str.slice(7, 4)
    return (
        pl.when(style == 1).then(pl.concat_str(a, pl.lit(" "), b, pl.lit(" "), c))
        .when(style == 2).then(pl.concat_str(pl.lit("+86 "), a, pl.lit("-"), b, pl.lit("-"), c))
        .when(style == 3).then(pl.concat_str(a, pl.lit("-"), b, pl.lit("-"), c))
        .when(style == 4).then(pl.lit("86") + d)
        .when(style == 5).then(pl.concat_str(a, pl.lit("****"), c))  # masked by the export
        .when(style == 6).then(d.str.slice(0, 10))  # a digit short
        .when(style == 7).then(d + d.str.slice(10, 1))  # a digit too many
        .otherwise(d)
    )  # fmt: skip


def phone_styles(rng: np.random.Generator, n: int, bad_share: float = 0.0) -> np.ndarray:
    style = rng.choice(5, n, p=_p((70, 10, 8, 7, 5)))
    bad = rng.random(n) < bad_share
    style[bad] = rng.integers(5, 8, int(bad.sum()))
    return style


def datetime_text(moment: pl.Expr, style: pl.Expr) -> pl.Expr:
    """`2025-03-05 14:30`, `2025/3/5 14:30` or `2025年3月5日 14:30`, as people and exports type them."""
    y, m, d = moment.dt.year(), moment.dt.month(), moment.dt.day()
    hm = moment.dt.strftime("%H:%M")
    return (
        pl.when(style == 1).then(pl.format("{}/{}/{} {}:{}", y, m, d, moment.dt.hour(), moment.dt.strftime("%M")))
        .when(style == 2).then(pl.format("{}年{}月{}日 {}", y, m, d, hm))
        .otherwise(moment.dt.strftime("%Y-%m-%d %H:%M"))
    )  # fmt: skip


def date_text(day: pl.Expr, style: pl.Expr) -> pl.Expr:
    return pl.when(style == 1).then(pl.format("{}/{}/{}", day.dt.year(), day.dt.month(), day.dt.day())).otherwise(
        day.dt.strftime("%Y-%m-%d")
    )


def _moment(minutes: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(minutes, dtype=np.int64) * 60_000_000).cast(pl.Datetime("us"))


def _day(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


# --------------------------------------------------------------------------------------------------
# People, phones, cars
# --------------------------------------------------------------------------------------------------


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    surname = _take(SURNAMES, rng.choice(len(SURNAMES), n, p=_p(SURNAME_WEIGHTS)))
    compound = rng.random(n) < 0.01
    surname = surname.zip_with(pl.Series(~compound), _take(("欧阳", "司马", "诸葛", "上官"), rng.integers(0, 4, n)))
    single = rng.random(n) < 0.4
    given = _take(GIVEN_SINGLE, rng.integers(0, len(GIVEN_SINGLE), n)).zip_with(
        pl.Series(single), _take(GIVEN_DOUBLE, rng.integers(0, len(GIVEN_DOUBLE), n))
    )
    return surname + given


def new_mobiles(rng: np.random.Generator, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """`n` distinct mainland mobile numbers (int64, 11 digits), none of them in `exclude`."""
    space = len(MOBILE_PREFIXES) * 10**8
    prefixes = np.asarray([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)
    found = np.zeros(0, dtype=np.int64)
    while len(found) < n:
        k = rng.integers(0, space, int((n - len(found)) * 1.05) + 16)
        numbers = prefixes[k // 10**8] * 10**8 + k % 10**8
        found = np.unique(np.r_[found, numbers])
        if exclude is not None:
            found = found[~np.isin(found, exclude)]
    return rng.permutation(found)[:n]


def vins(rng: np.random.Generator, model_idx: np.ndarray, year: np.ndarray, serial: np.ndarray) -> pl.Series:
    """17-character VINs with a valid check digit; unique when `serial` (any distinct ints < 1.3e8) is."""
    n = len(model_idx)
    codes = np.asarray([list(m[3].encode()) for m in MODELS], dtype=np.uint8)
    alpha = np.frombuffer(VIN_ALPHABET.encode(), dtype=np.uint8)
    plants = np.frombuffer(VIN_PLANTS.encode(), dtype=np.uint8)
    years = np.frombuffer(VIN_YEAR_CODES.encode(), dtype=np.uint8)
    out = np.empty((n, 17), dtype=np.uint8)
    out[:, 0:3] = np.frombuffer(b"LSV", dtype=np.uint8)
    out[:, 3:7] = codes[model_idx]
    out[:, 7] = alpha[(serial // (10**6 * len(plants))) % len(alpha)]
    out[:, 9] = years[(year - 2010) % len(years)]
    out[:, 10] = plants[(serial // 10**6) % len(plants)]
    digits = serial % 10**6
    for pos in range(16, 10, -1):
        out[:, pos] = ord("0") + digits % 10
        digits //= 10
    value = np.zeros(256, dtype=np.int64)
    for ch, v in VIN_VALUES.items():
        value[ord(ch)] = v
    out[:, 8] = ord("0")
    check = (value[out] * np.asarray(VIN_WEIGHTS)).sum(axis=1) % 11
    out[:, 8] = np.where(check == 10, ord("X"), ord("0") + check)
    return pl.Series(out.view("S17").ravel().astype("U17"), dtype=pl.String)


def plates(rng: np.random.Generator, prefix: pl.Series, electric: np.ndarray) -> pl.Series:
    n = len(prefix)
    digits = rng.integers(0, 10, (n, 5)).astype(np.uint8) + ord("0")
    letters = np.frombuffer(PLATE_LETTERS.encode(), dtype=np.uint8)
    n_letters = rng.choice(3, n, p=_p((1, 2, 1)))
    for pos in range(2):
        at = rng.integers(0, 5, n)
        put = n_letters > pos
        digits[put, at[put]] = letters[rng.integers(0, len(letters), int(put.sum()))]
    digits[electric, 0] = np.where(rng.random(int(electric.sum())) < 0.5, ord("D"), ord("F"))
    tail = pl.Series(digits.view("S5").ravel().astype("U5"), dtype=pl.String)
    dot = pl.Series(np.where(rng.random(n) < 0.8, "·", ""), dtype=pl.String)
    return prefix + dot + tail


def _random_text(rng: np.random.Generator, n: int, alphabet: str, k: int) -> pl.Series:
    chars = np.frombuffer(alphabet.encode(), dtype=np.uint8)[rng.integers(0, len(alphabet), (n, k))]
    return pl.Series(np.ascontiguousarray(chars).view(f"S{k}").ravel().astype(f"U{k}"), dtype=pl.String)


def _pick_texts(rng: np.random.Generator, codes: np.ndarray, table: Sequence[Sequence[str]]) -> pl.Series:
    """For each code, one random entry of `table[code]`."""
    flat = [t for texts in table for t in texts]
    lengths = np.asarray([len(t) for t in table])
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    idx = offsets[codes] + (rng.random(len(codes)) * lengths[codes]).astype(np.int64)
    return _take(flat, idx)


# --------------------------------------------------------------------------------------------------
# Stores and the roster
# --------------------------------------------------------------------------------------------------


def plan_stores(spec: GroupSpec, rng: np.random.Generator) -> pl.DataFrame:
    names, prefixes = [], []
    for i in range(spec.stores):
        base, plate = STORE_BASES[i % len(STORE_BASES)]
        branch = i // len(STORE_BASES) + 1
        suffix = f"{CHINESE_ORDINALS[branch - 1]}店" if branch <= len(CHINESE_ORDINALS) else f"{branch}店"
        names.append(base if branch == 1 else base.removesuffix("店") + suffix)
        prefixes.append(plate)
    regions = min(STORES_PER_REGION, spec.stores)
    idx = np.arange(spec.stores)
    weight = rng.lognormal(0.0, 0.3, spec.stores)
    return pl.DataFrame(
        {
            "idx": idx,
            "code": [f"S{i + 1:03d}" for i in idx],
            "name": names,
            "plate_prefix": prefixes,
            "region": idx * regions // spec.stores,
            "weight": weight / weight.sum(),
        }
    )


def plan_advisors(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame) -> pl.DataFrame:
    """Per store: 销售经理 (and 服务经理 from 8 people on), a quarter of the rest service advisors, the others
    sales advisors; about 4% of the sales advisors have left (在职 否) and still own leads."""
    per, extra = divmod(spec.advisors, spec.stores)
    if per < 4 + (extra > 0) - 1 or per < 4:
        raise ValueError(f"{spec.advisors} advisors for {spec.stores} stores: need at least 4 per store")
    rows: dict[str, list[Any]] = {k: [] for k in ("store_idx", "advisor_id", "role_text", "role", "manager_id")}
    for s, code in enumerate(stores["code"]):
        n = per + (s < extra)
        managers = 2 if n >= 8 else 1
        service = max(1, (n - managers) // 4)
        sales = n - managers - service
        sales_mgr, service_mgr = f"{code}A01", f"{code}A{managers:02d}"
        roles = [("销售经理", "manager", "")] + ([("服务经理", "manager", "")] if managers == 2 else [])
        roles += [("销售顾问", "sales", sales_mgr)] * sales + [("服务顾问", "service", service_mgr)] * service
        for pos, (text, role, manager) in enumerate(roles, start=1):
            rows["store_idx"].append(s)
            rows["advisor_id"].append(f"{code}A{pos:02d}")
            rows["role_text"].append(text)
            rows["role"].append(role)
            rows["manager_id"].append(manager or None)
    frame = pl.DataFrame(rows)
    n = frame.height
    sales = (frame["role"] == "sales").to_numpy()
    active = ~(sales & (rng.random(n) < 0.04))
    capacity = np.where(sales, rng.choice((30, 35, 40), n), rng.choice((40, 50), n)).astype(str)
    no_email = rng.random(n) < 0.05
    return frame.with_columns(
        name=person_names(rng, n),
        store=stores["name"].gather(frame["store_idx"]),
        email=pl.Series(np.where(no_email, "", [f"{a.lower()}@dealer.example.cn" for a in frame["advisor_id"]])),
        active=pl.Series(np.where(active, "是", "否")),
        capacity=pl.Series(np.where(frame["role"].to_numpy() == "manager", "", capacity)),
        _active=pl.Series(active),
    ).with_columns(pl.col("email", "capacity").replace("", None), _bad=pl.lit(False))


def _by_store(advisors: pl.DataFrame, role: str, stores: int) -> tuple[np.ndarray, np.ndarray, pl.Series]:
    """(first index per store, count per store, ids) of the advisors with `role`, in store order."""
    team = advisors.filter(pl.col("role") == role)
    counts = np.bincount(team["store_idx"].to_numpy(), minlength=stores)
    return np.r_[0, np.cumsum(counts)[:-1]], counts, team["advisor_id"]


def _pick_member(rng: np.random.Generator, team: tuple[np.ndarray, np.ndarray, pl.Series], store: np.ndarray):
    start, count, ids = team
    return ids.gather(pl.Series(start[store] + (rng.random(len(store)) * count[store]).astype(np.int64)))


# --------------------------------------------------------------------------------------------------
# Leads, orders, repair orders, follow-ups
# --------------------------------------------------------------------------------------------------


def _lead_attributes(rng: np.random.Generator, n: int) -> dict[str, Any]:
    timeframe_idx = rng.choice(len(TIMEFRAMES), n, p=_p(TIMEFRAME_WEIGHTS))
    timeframe = _take(TIMEFRAMES, timeframe_idx)
    by_timeframe = _take([GRADE_BY_TIMEFRAME[t] for t in TIMEFRAMES], timeframe_idx)
    r = rng.random(n)
    grade = pl.Series(np.full(n, "", dtype=object), dtype=pl.String)
    grade = grade.zip_with(pl.Series(r >= 0.4), by_timeframe).zip_with(
        pl.Series(r >= 0.1), _take("SABCD", rng.integers(0, 5, n))
    )
    grade = grade.zip_with(pl.Series(r < 0.5), _blank(n))
    model_idx = rng.choice(len(MODELS), n, p=_p(MODEL_WEIGHTS))
    return {
        "name": person_names(rng, n),
        "source_idx": rng.choice(len(SOURCES), n, p=_p(SOURCE_WEIGHTS)),
        "model_idx": model_idx,
        "budget": _take(BUDGETS, rng.choice(len(BUDGETS), n, p=_p(BUDGET_WEIGHTS))),
        "timeframe": timeframe,
        "grade": grade,
        "gender": _take(("男", "女", ""), rng.choice(3, n, p=_p((60, 38, 2)))),
        "birthday": pl.select(
            pl.format(
                "{}-{}-{}",
                pl.lit(pl.Series(rng.integers(1965, 2002, n))),
                pl.lit(pl.Series(rng.integers(1, 13, n))).cast(pl.String).str.zfill(2),
                pl.lit(pl.Series(rng.integers(1, 29, n))).cast(pl.String).str.zfill(2),
            )
        ).to_series(),
        "show_birthday": rng.random(n) < 0.4,
        "competitor": _take(COMPETITORS, rng.integers(0, len(COMPETITORS), n)).zip_with(
            pl.Series(rng.random(n) < 0.4), _blank(n)
        ),
        "dnc": _take(("是", "否", ""), rng.choice(3, n, p=_p((1, 30, 69)))),
        "wechat_kind": rng.choice(3, n, p=_p((65, 14, 21))),  # none, the phone, a wxid
        "wxid": "wxid_" + _random_text(rng, n, WECHAT_ID_CHARS, 10),
    }


def build_leads(
    rng: np.random.Generator,
    stores: pl.DataFrame,
    advisors: pl.DataFrame,
    store_idx: np.ndarray,
    created: np.ndarray,
    phones: np.ndarray,
    seq_start: np.ndarray,
) -> pl.DataFrame:
    """Lead rows for `store_idx` created at `created` (minutes) with `phones` (int64); ids continue each store's
    sequence from `seq_start[store]`."""
    n = len(store_idx)
    a = _lead_attributes(rng, n)
    sales_team = _by_store(advisors, "sales", stores.height)
    advisor = _pick_member(rng, sales_team, store_idx)
    ghost = rng.random(n) < 0.005  # an advisor since deleted from the roster, still routed to by the CRM
    code = stores["code"].gather(pl.Series(store_idx))
    advisor = advisor.zip_with(pl.Series(~ghost), code + "A99")
    order = np.lexsort((created, store_idx))
    frame = pl.DataFrame(
        {
            "_store": store_idx,
            "_created": created,
            "_phone": phones,
            "_model": a["model_idx"],
            "_source": a["source_idx"],
            "_show_birthday": a["show_birthday"],
            "_wechat_kind": a["wechat_kind"],
            "_phone_style": phone_styles(rng, n, BAD_PHONE_SHARE),
            "_created_style": rng.choice(4, n, p=_p((9985, 5, 5, 5))),  # 0: a real date, 1-3: typed as text
            "customer_name": a["name"],
            "advisor_id": advisor,
            "budget": a["budget"],
            "purchase_timeframe": a["timeframe"],
            "grade": a["grade"],
            "gender": a["gender"],
            "_birthday": a["birthday"],
            "competitor_model": a["competitor"],
            "do_not_contact": a["dnc"],
            "_wxid": a["wxid"],
        }
    )[order]
    store_sorted = frame["_store"].to_numpy()
    seq = seq_start[store_sorted] + _group_rank(store_sorted) + 1
    return frame.with_columns(
        lead_id=pl.concat_str(pl.lit("L"), stores["code"].gather(pl.Series(store_sorted)),
                              pl.Series(seq).cast(pl.String).str.zfill(7)),
        store=stores["name"].gather(pl.Series(store_sorted)),
        _digits=pl.col("_phone").cast(pl.String),
        _moment=_moment(frame["_created"].to_numpy()),
        source=_take(SOURCES, frame["_source"].to_numpy()),
        model_interest=_take([m[0] for m in MODELS], frame["_model"].to_numpy()),
    ).with_columns(
        phone=phone_cells(pl.col("_digits"), pl.col("_phone_style")),
        _bad=pl.col("_phone_style") >= 5,
        created_text=pl.when(pl.col("_created_style") > 0).then(
            datetime_text(pl.col("_moment"), pl.col("_created_style") - 1)),
        birthday=pl.when(pl.col("_show_birthday")).then(pl.col("_birthday")),
        wechat=pl.when(pl.col("_wechat_kind") == 1).then(pl.col("_digits"))
        .when(pl.col("_wechat_kind") == 2).then(pl.col("_wxid")),
    )  # fmt: skip


def plan_leads(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame, advisors: pl.DataFrame,
               phones: np.ndarray) -> pl.DataFrame:
    n = spec.leads
    store_idx = rng.choice(stores.height, n, p=stores["weight"].to_numpy())
    source = rng.choice(len(SOURCES), n, p=_p(SOURCE_WEIGHTS))  # only for the hour; attributes draw their own
    online = np.isin(source, [SOURCES.index(s) for s in ONLINE_SOURCES]) & (rng.random(n) < 0.2)
    day = _days(spec.as_of) - (HISTORY_DAYS * rng.random(n) ** 1.25).astype(np.int64)
    hour = np.where(online, rng.integers(0, 24, n), rng.integers(9, 21, n))
    minute = np.where(hour == 23, rng.integers(0, 31, n), rng.integers(0, 60, n))
    # the same customer asking again, mostly at another store of the group
    again = rng.random(n) < 0.03
    phones = phones.copy()
    phones[again] = phones[rng.integers(0, n, int(again.sum()))]
    return build_leads(rng, stores, advisors, store_idx, day * DAY + hour * 60 + minute, phones,
                       np.zeros(stores.height, dtype=np.int64))


def plan_sales(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame, leads: pl.DataFrame,
               serial_offset: int = 0, order_day: int | None = None) -> pl.DataFrame:
    """Orders of `spec.sales` distinct leads created before as_of (or, with `order_day`, all ordered that day)."""
    as_of = _days(spec.as_of)
    created = leads["_created"].to_numpy()
    eligible = np.flatnonzero(created // DAY < as_of) if order_day is None else np.arange(leads.height)
    if spec.sales > len(eligible):
        raise ValueError(f"{spec.sales} orders but only {len(eligible)} leads created before as_of")
    lead = np.sort(rng.choice(eligible, spec.sales, replace=False))
    n = len(lead)
    c = created[lead]
    c_day = c // DAY
    if order_day is None:
        cycle = np.where(rng.random(n) < 0.12, 0, rng.exponential(20, n).astype(np.int64) + 1)
        day = c_day + cycle
        late = day > as_of
        day[late] = c_day[late] + (rng.random(int(late.sum())) * (as_of - c_day[late] + 1)).astype(np.int64)
    else:
        day = np.full(n, order_day)
    at = day * DAY + _work_minutes(rng, n)
    walk_in = at <= c
    at[walk_in] = np.minimum(c[walk_in] + rng.integers(30, 121, int(walk_in.sum())), day[walk_in] * DAY + DAY - 1)
    planned = day + rng.integers(5, 36, n)
    cancelled = (rng.random(n) < 0.04) & (day < as_of - 1)
    actual = np.maximum(day, planned + rng.choice((-2, -1, 0, 0, 0, 0, 1, 2, 3), n))
    delivered = ~cancelled & (actual <= as_of) & (rng.random(n) > 0.03)
    cancel_at = np.maximum(np.minimum(day + rng.integers(2, 11, n), as_of) * DAY + _work_minutes(rng, n), at + 30)
    lead_model = leads["_model"].to_numpy()[lead]
    model = np.where(rng.random(n) < 0.85, lead_model, rng.choice(len(MODELS), n, p=_p(MODEL_WEIGHTS)))
    low = np.asarray([m[1] for m in MODELS]) // 1000
    high = np.asarray([m[2] for m in MODELS]) // 1000
    price = (low[model] + (rng.random(n) * (high[model] - low[model] + 1)).astype(np.int64)) * 1000
    price -= rng.choice((200, 1200, 0, 500, 2200), n)
    year = 1970 + (day / 365.2425).astype(np.int64)
    l = leads[lead]  # noqa: E741
    show = l["_show_birthday"].to_numpy()
    birthday = (show & (rng.random(n) < 0.8)) | (rng.random(n) < 0.3)
    frame = pl.DataFrame(
        {
            "_lead": lead,
            "_store": l["_store"],
            "_digits": l["_digits"],
            "_day": day,
            "_at": at,
            "_planned": planned,
            "_delivered_day": np.where(delivered, actual, -1),
            "_cancel_at": np.where(cancelled, cancel_at, -1),
            "_model": model,
            "_phone_style": phone_styles(rng, n, BAD_PHONE_SHARE / 2),
            "customer_name": l["customer_name"],
            "advisor_id": l["advisor_id"],
            "store": l["store"],
            "lead_id": l["lead_id"],
            "vin": vins(rng, model, year, serial_offset + rng.permutation(n)),
            "color": _take(COLORS, rng.integers(0, len(COLORS), n)),
            "status": pl.Series(np.where(cancelled, "已退订", np.where(delivered, "已交车", "已订车"))),
            "price": price.astype(np.float64),
            "_birthday": l["_birthday"].zip_with(pl.Series(birthday), _nulls(n)),
            "_referrer": l["referrer_phone"] if "referrer_phone" in l.columns else _nulls(n),
        }
    ).sort("_store", "_day", "lead_id")
    return frame.with_columns(
        _bad=pl.col("_phone_style") >= 5,
        phone=phone_cells(pl.col("_digits"), pl.col("_phone_style")),
        model=_take([m[0] for m in MODELS], frame["_model"].to_numpy()),
    )


def number_orders(frame: pl.DataFrame, stores: pl.DataFrame, key: str, tag: str, width: int,
                  seq_start: np.ndarray) -> pl.DataFrame:
    """`S001-XS000001`: per store, in the frame's order, continuing from `seq_start[store]`."""
    store = frame["_store"].to_numpy()
    seq = seq_start[store] + _group_rank(store) + 1
    return frame.with_columns(
        pl.concat_str(stores["code"].gather(pl.Series(store)), pl.lit(f"-{tag}"),
                      pl.Series(seq).cast(pl.String).str.zfill(width)).alias(key)
    )


def plan_cars(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame, leads: pl.DataFrame,
              sales: pl.DataFrame, new_phones: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """The cars the workshops see: delivered cars of the orders (a few serviced at another store, under the
    spouse's phone or without one) and cars bought elsewhere. Returns the cars and each one's visit count."""
    as_of = _days(spec.as_of)
    sold = sales.filter(pl.col("_delivered_day") >= 0)
    n_sold = sold.height
    start = sold["_delivered_day"].to_numpy()
    span = as_of - start
    lam = (np.maximum(span - 135, 0) / 185 + 0.3 * span / 365) * 0.9
    visits_sold = rng.poisson(lam)
    total_sold = int(visits_sold.sum())
    if total_sold > spec.service:  # few repair orders asked for: thin the sold cars' visits out
        keep = rng.choice(total_sold, spec.service, replace=False)
        visits_sold = np.bincount(np.repeat(np.arange(n_sold), visits_sold)[keep], minlength=n_sold)
        total_sold = spec.service
    rest = spec.service - total_sold
    counts = rng.choice(np.arange(1, 6), int(rest / 2.5 * 1.2) + 10, p=_p((25, 30, 22, 15, 8)))
    cum = np.cumsum(counts)
    n_only = int(np.searchsorted(cum, rest) + 1) if rest else 0
    counts = counts[:n_only]
    if n_only:
        counts[-1] -= cum[n_only - 1] - rest
    store_sold = sold["_store"].to_numpy().copy()
    moved = rng.random(n_sold) < 0.05
    store_sold[moved] = rng.choice(stores.height, int(moved.sum()), p=stores["weight"].to_numpy())
    spouse = rng.random(n_sold) < 0.1
    no_phone = rng.random(n_sold) < 0.03
    phone_sold = sold["_digits"].to_list()
    phone_sold = pl.Series(phone_sold, dtype=pl.String).zip_with(
        pl.Series(~spouse), pl.Series(new_phones[:n_sold]).cast(pl.String)
    ).zip_with(pl.Series(~no_phone), _nulls(n_sold))
    name_sold = sold["customer_name"].zip_with(pl.Series(~spouse), person_names(rng, n_sold))
    only_model = rng.choice(len(MODELS), n_only, p=_p(MODEL_WEIGHTS))
    only_first = as_of - rng.integers(0, HISTORY_DAYS, n_only)
    only_year = 1970 + (only_first / 365.2425).astype(np.int64) - rng.integers(1, 9, n_only)
    only_vin = vins(rng, only_model, only_year, sales.height + rng.permutation(n_only))
    only_vin = only_vin.zip_with(pl.Series(rng.random(n_only) >= 0.01), _nulls(n_only))
    cars = pl.DataFrame(
        {
            "_store": np.r_[store_sold, rng.choice(stores.height, n_only, p=stores["weight"].to_numpy())],
            "_sold": np.r_[np.ones(n_sold, bool), np.zeros(n_only, bool)],
            "_start": np.r_[start, only_first],
            "_start_km": np.r_[rng.integers(5, 41, n_sold), rng.integers(8_000, 90_001, n_only)],
            "_km_per_day": np.r_[rng.uniform(20, 70, n_sold), rng.uniform(20, 60, n_only)],
            "_model": np.r_[sold["_model"].to_numpy(), only_model],
            "vin": pl.concat([sold["vin"], only_vin]),
            "_digits": pl.concat([phone_sold, pl.Series(new_phones[n_sold:n_sold + n_only]).cast(pl.String)]),
            "customer_name": pl.concat([name_sold, person_names(rng, n_only)]),
        }
    )
    electric = np.asarray([m[0].startswith("ID.") for m in MODELS])[cars["_model"].to_numpy()]
    cars = cars.with_columns(
        plate=plates(rng, stores["plate_prefix"].gather(cars["_store"]), electric),
    )
    return cars, np.r_[visits_sold, counts]


def build_visits(rng: np.random.Generator, stores: pl.DataFrame, advisors: pl.DataFrame, cars: pl.DataFrame,
                 car: np.ndarray, day: np.ndarray, kind: np.ndarray) -> pl.DataFrame:
    """Repair orders of `car` on `day` of `kind` (index into SERVICE_TYPES order below)."""
    n = len(car)
    kinds = ("首保", "定保", "保养", "维修", "钣喷", "索赔", "保险")
    c = cars[car]
    store = c["_store"].to_numpy()
    low = np.asarray([SERVICE_AMOUNTS[k][0] for k in kinds], dtype=float)
    high = np.asarray([SERVICE_AMOUNTS[k][1] for k in kinds], dtype=float)
    amount = low[kind] + rng.random(n) * (high[kind] - low[kind])
    amount = np.where(rng.random(n) < 0.5, np.round(amount), np.round(amount, 2))
    amount[(kind == 0) & (rng.random(n) < 0.7)] = 0.0
    mileage = c["_start_km"].to_numpy() + (
        np.maximum(day - c["_start"].to_numpy(), 0) * c["_km_per_day"].to_numpy() * rng.uniform(0.9, 1.1, n)
    ).astype(np.int64)
    complaint = rng.choice(3, n, p=_p((3, 90, 7)))  # 是, 否, blank
    r = rng.random(n)
    five = np.where(complaint == 0, rng.choice((2, 3, 4, 4, 5, 5, 5), n), rng.choice((3, 4, 4, 5, 5, 5, 5), n))
    hundred = np.where(
        complaint == 0, rng.integers(30, 76, n), np.where(rng.random(n) < 0.93, rng.integers(85, 101, n),
                                                          rng.integers(45, 85, n))
    )
    csat = np.where(r < 0.12, -1, np.where(r < 0.27, five, hundred))
    unhappy = (complaint == 0) | ((csat >= 0) & np.where(csat <= 5, csat < 3, csat < 60))
    service_team = _by_store(advisors, "service", stores.height)
    advisor = _pick_member(rng, service_team, store)
    first_service = service_team[2].gather(pl.Series(service_team[0][store]))
    with_time = rng.random(n) < 0.5
    at = day * DAY + _work_minutes(rng, n)
    vin_bad = (rng.random(n) < BAD_VIN_SHARE) & c["vin"].is_not_null().to_numpy()
    frame = pl.DataFrame(
        {
            "_store": store,
            "_car": car,
            "_day": day,
            "_at": at,
            "_unhappy": unhappy,
            "_phone_style": phone_styles(rng, n, BAD_PHONE_SHARE / 2),
            "_advisor": advisor,
            "_first_service": first_service,
            "_vin_bad": vin_bad,
            "_date_style": np.where(with_time, 2, rng.integers(0, 2, n)),
            "store": stores["name"].gather(pl.Series(store)),
            "vin": c["vin"],
            "_digits": c["_digits"],
            "plate": c["plate"],
            "customer_name": c["customer_name"],
            "service_type": _take(kinds, kind),
            "amount": pl.Series(amount).cast(pl.String).str.strip_suffix(".0"),
            "mileage": pl.Series(mileage).cast(pl.String),
            "service_advisor_id": advisor.zip_with(pl.Series(rng.random(n) >= 0.03),
                                                   _nulls(n)),
            "csat": pl.Series(np.where(csat < 0, "", csat.astype(str))),
            "complaint": _take(("是", "否", ""), complaint),
            "complaint_text": _take(COMPLAINT_TEXTS, rng.integers(0, len(COMPLAINT_TEXTS), n)).zip_with(
                pl.Series(complaint == 0), _blank(n)),
        }
    ).sort("_store", "_at", maintain_order=True)
    moment = pl.col("_at").cast(pl.Int64).mul(60_000_000).cast(pl.Datetime("us"))
    return frame.with_columns(
        phone=pl.when(pl.col("_digits").is_not_null()).then(phone_cells(pl.col("_digits"), pl.col("_phone_style"))),
        vin=pl.when(pl.col("_vin_bad")).then(pl.col("vin").str.slice(0, 16)).otherwise(pl.col("vin")),
        visited_at=pl.when(pl.col("_date_style") == 2).then(moment.dt.strftime("%Y-%m-%d %H:%M"))
        .otherwise(date_text(moment.dt.date(), pl.col("_date_style"))),
    ).with_columns(
        _bad=(pl.col("_phone_style") >= 5) & pl.col("_digits").is_not_null() | pl.col("_vin_bad"),
    )  # fmt: skip


def plan_service(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame, advisors: pl.DataFrame,
                 cars: pl.DataFrame, visits: np.ndarray) -> pl.DataFrame:
    as_of = _days(spec.as_of)
    car = np.repeat(np.arange(cars.height), visits)
    rank = _group_rank(car)
    sold = cars["_sold"].to_numpy()[car]
    start = cars["_start"].to_numpy()[car]
    # sold cars: 首保 ~150 days after delivery, then a service every ~185 days; cars bought elsewhere: every ~170
    day = np.where(sold, start + 150 + rank * 185, start + rank * 170) + rng.integers(-15, 36, len(car))
    day = np.maximum(day, start)
    kind = np.where(sold & (rank == 0), 0, rng.choice((1, 2), len(car), p=(0.67, 0.33)))
    kind = np.where(sold, kind, rng.choice(7, len(car), p=_p((0, 20, 40, 20, 9, 3, 8))))
    late = day > as_of  # beyond the schedule: a repair at any time since delivery
    lo = start[late] + np.minimum(30, as_of - start[late])
    day[late] = lo + (rng.random(int(late.sum())) * (as_of - lo + 1)).astype(np.int64)
    kind[late & sold] = rng.choice((3, 4, 5, 6), int((late & sold).sum()), p=_p((45, 25, 10, 20)))
    return build_visits(rng, stores, advisors, cars, car, day, kind)


def _lead_fate(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """0 lost, 1 dormant, 2 open — most old leads are closed, recent ones still open (as sample_data)."""
    r = rng.random(len(age))
    bands = [(180, (90, 8)), (60, (60, 15)), (15, (25, 10)), (-1, (5, 3))]
    fate = np.full(len(age), 2)
    for i, (older, (lost, dormant)) in enumerate(bands):
        newer = bands[i - 1][0] if i else 10**9
        band = (age > older) & (age <= newer)
        fate[band & (r < lost / 100)] = 0
        fate[band & (r >= lost / 100) & (r < (lost + dormant) / 100)] = 1
    return fate


def _followup_frame(
    rng: np.random.Generator,
    leads: pl.DataFrame,
    lead: np.ndarray,
    at: np.ndarray,
    outcome: np.ndarray,
    summary: pl.Series | None,
    advisor: pl.Series,
    phone_only: np.ndarray,
    next_day: np.ndarray,
) -> pl.DataFrame:
    n = len(lead)
    l = leads[lead]  # noqa: E741
    if summary is None:
        summary = _pick_texts(rng, outcome, [SUMMARIES[o] for o in OUTCOMES])
    update = rng.random(n)
    return pl.DataFrame(
        {
            "_region": l["_region"],
            "_at": at,
            "_digits": l["_digits"],
            "lead_id": l["lead_id"].zip_with(pl.Series(~phone_only), _nulls(n)),
            "advisor_id": advisor,
            "channel": _pick_texts(rng, outcome, [CHANNELS_BY_OUTCOME[o] for o in OUTCOMES]),
            "outcome": _take(OUTCOMES, outcome),
            "summary": summary.str.replace("{model}", l["model_interest"], literal=True).str.replace(
                "{competitor}", l["competitor_model"].replace("", "其他品牌"), literal=True),
            "_next": next_day,
            "purchase_timeframe": _take(TIMEFRAMES[:-1], rng.choice(len(TIMEFRAMES) - 1, n,
                                                                   p=_p(TIMEFRAME_WEIGHTS[:-1]))).zip_with(
                pl.Series(update < 0.075), _blank(n)),
            "grade": _take("SABCD", rng.integers(0, 5, n)).zip_with(
                pl.Series((update >= 0.075) & (update < 0.15)), _blank(n)),
        }
    )


def _service_calls(rng: np.random.Generator, service: pl.DataFrame, stores: pl.DataFrame, as_of: int,
                   share: float) -> pl.DataFrame:
    """Service advisors call back by phone: complaints within 2 days, recent visits (revisit) after 3-4."""
    s = service.filter(pl.col("_digits").is_not_null() & (pl.col("_phone_style") < 5))
    n = s.height
    day = s["_day"].to_numpy()
    unhappy = s["_unhappy"].to_numpy()
    call_day = np.where(unhappy, day + rng.integers(0, 3, n), day + rng.integers(3, 5, n))
    handled = np.where(unhappy, ((as_of - day) > 7) | (rng.random(n) < 0.5), ((as_of - day) <= 45) & (rng.random(n)
                                                                                                  < 0.6))
    keep = handled & (call_day <= as_of) & (rng.random(n) < share)
    s = s.filter(pl.Series(keep))
    unhappy, call_day = unhappy[keep], call_day[keep]
    n = s.height
    summary = _take(COMPLAINT_CALL_SUMMARIES, rng.integers(0, len(COMPLAINT_CALL_SUMMARIES), n)).zip_with(
        pl.Series(unhappy), _take(SERVICE_CALL_SUMMARIES, rng.integers(0, len(SERVICE_CALL_SUMMARIES), n)))
    return pl.DataFrame(
        {
            "_region": stores["region"].gather(s["_store"]),
            "_at": call_day * DAY + _work_minutes(rng, n),
            "_digits": s["_digits"],
            "lead_id": _nulls(n),
            "advisor_id": s["_advisor"].fill_null(s["_first_service"]),
            "channel": pl.Series(["电话"] * n, dtype=pl.String),
            "outcome": pl.Series(["已接通"] * n, dtype=pl.String),
            "summary": summary,
            "_next": np.full(n, -1),
            "purchase_timeframe": _blank(n),
            "grade": _blank(n),
        }
    )


def finish_followups(rng: np.random.Generator, parts: list[pl.DataFrame]) -> pl.DataFrame:
    frame = pl.concat(parts, how="vertical_relaxed")
    n = frame.height
    next_style = rng.integers(0, 2, n)
    bad_date = rng.random(n) < BAD_DATE_SHARE
    return frame.with_columns(
        _phone_style=pl.Series(phone_styles(rng, n, BAD_PHONE_SHARE / 2)),
        _next_style=pl.Series(next_style),
        _bad_date=pl.Series(bad_date),
        _moment=pl.col("_at").cast(pl.Int64).mul(60_000_000).cast(pl.Datetime("us")),
        _time_style=pl.Series(rng.choice(3, n, p=_p((60, 25, 15)))),
    ).with_columns(
        phone=phone_cells(pl.col("_digits"), pl.col("_phone_style")),
        contacted_at=datetime_text(pl.col("_moment"), pl.col("_time_style")),
        next_followup_at=pl.when(pl.col("_bad_date")).then(pl.lit("待定"))
        .when(pl.col("_next") >= 0).then(date_text(pl.col("_next").cast(pl.Int32).cast(pl.Date),
                                                   pl.col("_next_style"))),
        _bad=(pl.col("_phone_style") >= 5) | pl.col("_bad_date"),
    ).sort("_region", "_at", maintain_order=True)  # fmt: skip


def plan_followups(spec: GroupSpec, rng: np.random.Generator, stores: pl.DataFrame, advisors: pl.DataFrame,
                   leads: pl.DataFrame, sales: pl.DataFrame, service: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """Orders (下订, cancellations, delivery calls), service calls and, for the rest of `spec.followups`, the
    pipeline touches of the leads. Returns the follow-ups and each lead's highest pipeline level (-1: none)."""
    as_of = _days(spec.as_of)
    end = as_of * DAY + DAY - 1
    n_leads = leads.height
    managers = advisors.filter(pl.col("role") == "manager").group_by("store_idx").agg(pl.col("advisor_id").first())
    manager_of = managers.sort("store_idx")["advisor_id"]
    lead_store = leads["_store"].to_numpy()

    # orders: 下订 on the order's moment, 战败 when cancelled, calls on delivered + 1/3/7/30 days
    s_lead = sales["_lead"].to_numpy()
    at = sales["_at"].to_numpy()
    cancel = sales["_cancel_at"].to_numpy()
    delivered = sales["_delivered_day"].to_numpy()
    call_lead, call_at = [], []
    for offset, chance in ((1, 0.8), (3, 0.6), (7, 0.7), (30, 0.5)):
        ok = (delivered >= 0) & (delivered + offset <= as_of) & (rng.random(len(s_lead)) < chance)
        call_lead.append(s_lead[ok])
        call_at.append((delivered[ok] + offset) * DAY + _work_minutes(rng, int(ok.sum())))
    fixed = sales.height + int((cancel >= 0).sum()) + sum(len(c) for c in call_lead)
    service_share = min(1.0, max(0.0, (spec.followups - fixed) * 0.08 / max(service.height * 0.15, 1)))
    calls = _service_calls(rng, service, stores, as_of, service_share)
    budget = spec.followups - fixed - calls.height
    if budget < 0:  # a tiny spec: drop delivery calls first
        all_calls = np.concatenate(call_lead)
        keep = rng.random(len(all_calls)) < max(0.0, (len(all_calls) + budget) / max(len(all_calls), 1))
        call_lead, call_at = [all_calls[keep]], [np.concatenate(call_at)[keep]]
        budget = spec.followups - sales.height - int((cancel >= 0).sum()) - len(call_lead[0]) - calls.height
        if budget < 0:
            calls = calls.head(max(0, calls.height + budget))
            budget = 0
    order_lead = np.r_[s_lead, s_lead[cancel >= 0], *call_lead]
    order_at = np.r_[at, cancel[cancel >= 0], *call_at]
    order_outcome = np.r_[np.full(len(s_lead), ORDERED), np.full(int((cancel >= 0).sum()), LOST),
                          np.zeros(len(order_at) - len(s_lead) - int((cancel >= 0).sum()), dtype=np.int64)]
    order_summary = pl.concat([
        _take(SUMMARIES["下订"], rng.integers(0, len(SUMMARIES["下订"]), len(s_lead))),
        pl.Series([CANCEL_SUMMARY] * int((cancel >= 0).sum()), dtype=pl.String),
        _take(DELIVERY_CALL_SUMMARIES, rng.integers(0, len(DELIVERY_CALL_SUMMARIES),
                                                    len(order_at) - len(s_lead) - int((cancel >= 0).sum()))),
    ])  # fmt: skip

    # pipeline touches: which leads get them, how many, when
    created = leads["_created"].to_numpy()
    cap = np.full(n_leads, end)
    sold = np.zeros(n_leads, bool)
    sold[s_lead] = True
    cap[s_lead] = at - 1
    fate = _lead_fate(rng, as_of - created // DAY)
    fate[sold] = 3
    weight = np.asarray([2.0, 2.5, 3.0, 1.5])[fate] * (cap - created > 60)
    lead = np.sort(rng.choice(n_leads, budget, p=weight / weight.sum())) if budget else np.zeros(0, np.int64)
    rank = _group_rank(lead)
    r = rng.random(len(lead))
    first_delay = np.where(r < 0.65, rng.integers(8, 241, len(lead)),
                           np.where(r < 0.9, DAY, rng.integers(2, 5, len(lead)) * DAY))  # fmt: skip
    grade_gap = np.asarray([(1, 3), (2, 5), (3, 8), (5, 15), (7, 30)])
    g = rng.integers(0, 5, len(lead))
    gap_days = grade_gap[g, 0] + (rng.random(len(lead)) * (grade_gap[g, 1] - grade_gap[g, 0] + 1)).astype(np.int64)
    gap_days[rank == 0] = 0
    cum_days = np.cumsum(gap_days)
    cum_days -= (cum_days - gap_days)[rank == 0][np.cumsum(rank == 0) - 1]
    first = created[lead] + first_delay
    t = np.where(rank == 0, first, (first // DAY + cum_days) * DAY + _work_minutes(rng, len(lead)))
    t = np.where((rank > 0) & (t <= first), first + rng.integers(5, 90, len(lead)), t)
    over = t > cap[lead]  # past the lead's end: somewhere in its life instead
    span = np.maximum(cap[lead][over] - created[lead][over], 1)
    t[over] = created[lead][over] + 1 + (rng.random(int(over.sum())) * span).astype(np.int64)
    order = np.lexsort((t, lead))
    lead, t = lead[order], t[order]
    rank = _group_rank(lead)
    level = np.minimum((rank * rng.uniform(0.5, 1.3, len(lead))).astype(np.int64), len(PIPELINE_PATH) - 1)
    outcome = np.where(rng.random(len(lead)) < 0.22, MISSED, level)
    last = _is_last(lead)
    outcome = np.where(last & (fate[lead] == 0), LOST, np.where(last & (fate[lead] == 1), DORMANT, outcome))
    next_day = np.where(rng.random(len(lead)) < 0.3, t // DAY + rng.choice((1, 2, 3, 5, 7), len(lead)), -1)
    next_day = np.where(outcome == LOST, -1, np.where(outcome == DORMANT,
                        np.where(rng.random(len(lead)) < 0.4, t // DAY + 30, -1), next_day))  # fmt: skip
    top = np.full(n_leads, -1)
    reached = outcome < len(PIPELINE_PATH)
    np.maximum.at(top, lead[reached], outcome[reached])

    by_manager = rng.random(len(lead)) < 0.03
    advisor = leads["advisor_id"].gather(pl.Series(lead)).zip_with(
        pl.Series(~by_manager), manager_of.gather(pl.Series(lead_store[lead])))
    pipeline = _followup_frame(rng, leads, lead, t, outcome, None, advisor, rng.random(len(lead)) < 0.1, next_day)
    orders = _followup_frame(rng, leads, order_lead, order_at, order_outcome, order_summary,
                             leads["advisor_id"].gather(pl.Series(order_lead)), np.zeros(len(order_lead), bool),
                             np.full(len(order_lead), -1))
    return finish_followups(rng, [pipeline, orders, calls]), np.where(fate == 0, -2, top)


def lead_status(rng: np.random.Generator, leads: pl.DataFrame, sales: pl.DataFrame, top: np.ndarray,
                referrers: pl.Series) -> pl.DataFrame:
    n = leads.height
    status = np.where(top >= 2, "谈判", np.where(top >= 0, "意向", "线索")).astype(object)
    status[top == -2] = "战败"
    won = sales["_lead"].to_numpy()
    status[won] = np.where(sales["status"].to_numpy() == "已退订", "战败", "成交")
    lost = status == "战败"
    referral = leads["_source"].to_numpy() == SOURCES.index(REFERRAL_SOURCE)
    return leads.with_columns(
        status=pl.Series(status, dtype=pl.String),
        lost_reason=_take(LOST_REASONS, rng.integers(0, len(LOST_REASONS), n)).zip_with(
            pl.Series(lost), _nulls(n)),
        referrer_phone=referrers.zip_with(pl.Series(referral), _nulls(n)),
    )


def _referrers(rng: np.random.Generator, leads: pl.DataFrame, sales: pl.DataFrame,
               fresh: np.ndarray) -> pl.Series:
    """An earlier buyer's phone (85%) or someone outside the data, formatted as typed."""
    n = leads.height
    buyers = sales["_digits"]
    pick = buyers.gather(pl.Series(rng.integers(0, max(buyers.len(), 1), n))) if buyers.len() else None
    outside = pl.Series(fresh[:n]).cast(pl.String)
    digits = outside if pick is None else pick.zip_with(pl.Series(rng.random(n) < 0.85), outside)
    return pl.DataFrame({"d": digits, "s": phone_styles(rng, n)}).select(
        phone_cells(pl.col("d"), pl.col("s")))["d"]


def plan_group(spec: GroupSpec) -> GroupPlan:
    """Every row of the group, in memory; nothing written."""
    rng = np.random.default_rng(spec.seed)
    stores = plan_stores(spec, rng)
    advisors = plan_advisors(spec, rng, stores)
    phones = new_mobiles(rng, spec.leads + spec.service + spec.leads // 5)
    lead_phones, spare = phones[: spec.leads], phones[spec.leads:]
    leads = plan_leads(spec, rng, stores, advisors, lead_phones)
    leads = leads.with_columns(_region=stores["region"].gather(leads["_store"]))
    sales = plan_sales(spec, rng, stores, leads)
    sales = number_orders(sales, stores, "order_id", "XS", 6, np.zeros(stores.height, np.int64))
    leads = lead_status(rng, leads, sales, np.full(leads.height, -1), _referrers(rng, leads, sales, spare))
    sales = sales.with_columns(_referrer=leads["referrer_phone"].gather(sales["_lead"]))
    cars, visits = plan_cars(spec, rng, stores, leads, sales, spare[spec.leads // 5:])
    service = plan_service(spec, rng, stores, advisors, cars, visits)
    service = number_orders(service, stores, "ro_id", "RO", 7, np.zeros(stores.height, np.int64))
    followups, top = plan_followups(spec, rng, stores, advisors, leads, sales, service)
    leads = lead_status(rng, leads, sales, top, leads["referrer_phone"])
    return GroupPlan(spec, stores, advisors, leads, followups, sales.with_columns(
        _region=stores["region"].gather(sales["_store"])), service.with_columns(
        _region=stores["region"].gather(service["_store"])), cars)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

STRING, NUMBER, DATE, DATETIME, MIXED = "s", "n", "d", "t", "m"


def write_xlsx(path: Path, sheet: str, headers: Sequence[str], columns: Sequence[tuple[str, list[Any]]],
               title: str | None = None) -> Path:
    """One sheet, streamed by xlsxwriter in constant-memory mode; `columns` are (kind, values) with None for an
    empty cell: strings, numbers, Excel date or date-time serials, or MIXED (a serial, or a text typed instead)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet(sheet)
    formats = {DATE: book.add_format({"num_format": "yyyy-mm-dd"}),
               DATETIME: book.add_format({"num_format": "yyyy-mm-dd hh:mm"})}
    formats[MIXED] = formats[DATETIME]
    for c, header in enumerate(headers):
        ws.set_column(c, c, 18 if columns[c][0] in (DATE, DATETIME, MIXED) else max(10, 2 * len(header) + 4))
    top = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title)
        top = 2
    for c, header in enumerate(headers):
        ws.write_string(top, c, header)
    writers = []
    for c, (kind, values) in enumerate(columns):
        method = {STRING: ws.write_string, NUMBER: ws.write_number, MIXED: ws.write}.get(kind, ws.write_number)
        writers.append((c, values, method, formats.get(kind)))
    n = len(columns[0][1]) if columns else 0
    for r in range(n):
        row = top + 1 + r
        for c, values, method, fmt in writers:
            v = values[r]
            if v is not None:
                method(row, c, v, fmt)
    book.close()
    return path


def _serial_minutes(minutes: pl.Expr) -> pl.Expr:
    return minutes / DAY + EXCEL_UNIX_DAYS


def _serial_days(days: pl.Expr) -> pl.Expr:
    return (days + EXCEL_UNIX_DAYS).cast(pl.Float64)


def _cols(frame: pl.DataFrame, spec: Sequence[tuple[str, str | pl.Expr]]) -> list[tuple[str, list[Any]]]:
    exprs = [(e if isinstance(e, pl.Expr) else pl.col(e)).alias(f"c{i}") for i, (_, e) in enumerate(spec)]
    out = frame.select(exprs)
    cols = []
    for i, (kind, _) in enumerate(spec):
        s = out[f"c{i}"]
        if s.dtype == pl.String:
            s = _nullify(s)
        cols.append((kind, s.to_list()))
    return cols


def advisor_job(plan: GroupPlan, drop: Path) -> tuple[Path, str, Sequence[str], list, None]:
    cols = _cols(plan.advisors, [(STRING, "advisor_id"), (STRING, "name"), (STRING, "store"), (STRING, "role_text"),
                                 (STRING, "email"), (STRING, "manager_id"), (STRING, "active"),
                                 (NUMBER, pl.col("capacity").cast(pl.Float64))])
    return drop / ADVISORS_FILE, "顾问名单", ADVISOR_HEADERS, cols, None


LEAD_COLUMNS = (
    (STRING, "lead_id"), (MIXED, "_created_cell"), (STRING, "customer_name"), (STRING, "phone"), (STRING, "store"),
    (STRING, "advisor_id"), (STRING, "source"), (STRING, "model_interest"), (STRING, "budget"),
    (STRING, "purchase_timeframe"), (STRING, "grade"), (STRING, "status"), (STRING, "lost_reason"),
    (STRING, "competitor_model"), (STRING, "referrer_phone"), (STRING, "birthday"), (STRING, "gender"),
    (STRING, "wechat"), (STRING, "do_not_contact"),
)  # fmt: skip
SALES_COLUMNS = (
    (STRING, "order_id"), (STRING, "phone"), (STRING, "customer_name"), (STRING, "advisor_id"), (DATE, "_ordered"),
    (STRING, "store"), (STRING, "lead_id"), (STRING, "vin"), (STRING, "model"), (STRING, "color"), (DATE, "_planned_c"),
    (DATE, "_delivered_c"), (STRING, "status"), (NUMBER, "price"), (STRING, "_referrer"), (DATE, "_birthday_c"),
)  # fmt: skip
FOLLOWUP_COLUMNS = ("lead_id", "phone", "advisor_id", "contacted_at", "channel", "outcome", "summary",
                    "next_followup_at", "purchase_timeframe", "grade")
SERVICE_COLUMNS = ("ro_id", "visited_at", "store", "vin", "phone", "plate", "customer_name", "service_type", "amount",
                   "mileage", "service_advisor_id", "csat", "complaint", "complaint_text")


def lead_jobs(plan: GroupPlan, drop: Path, tag: str = "") -> list[tuple]:
    leads = plan.leads.with_columns(
        _created_cell=pl.when(pl.col("created_text").is_null())
        .then(_serial_minutes(pl.col("_created")).cast(pl.String))
        .otherwise(pl.col("created_text"))
    )  # fmt: skip
    jobs = []
    as_of = plan.spec.as_of.isoformat()
    for (store,), part in leads.partition_by("_store", as_dict=True, maintain_order=True).items():
        code, name = plan.stores.row(store)[1:3]
        cols = _cols(part, LEAD_COLUMNS)
        created = part["created_text"].to_list()
        serial = (part["_created"] / DAY + EXCEL_UNIX_DAYS).to_list()
        cols[1] = (MIXED, [s if t is None else t for s, t in zip(serial, created, strict=True)])
        suffix = f"_{tag}" if tag else ""
        jobs.append((drop / f"线索导出_{code}{suffix}.xlsx", "线索", LEAD_HEADERS, cols,
                     f"{name}线索导出（截至{as_of}）"))
    return jobs


def sales_jobs(plan: GroupPlan, drop: Path, tag: str = "") -> list[tuple]:
    sales = plan.sales.with_columns(
        _ordered=_serial_days(pl.col("_day")),
        _planned_c=_serial_days(pl.col("_planned")),
        _delivered_c=pl.when(pl.col("_delivered_day") >= 0).then(_serial_days(pl.col("_delivered_day"))),
        _birthday_c=_serial_days(pl.col("_birthday").str.to_date("%Y-%m-%d").cast(pl.Int32)),
    )
    jobs = []
    for (region,), part in sales.partition_by("_region", as_dict=True, maintain_order=True).items():
        suffix = f"_{tag}" if tag else ""
        jobs.append((drop / f"销售订单_R{region + 1:02d}{suffix}.xlsx", "销售订单", SALES_HEADERS,
                     _cols(part, SALES_COLUMNS), None))
    return jobs


def write_csv(path: Path, frame: pl.DataFrame, gb18030: bool) -> Path:
    """Chinese Excel's CSV (GB18030, CRLF) or a system export's (UTF-8 with BOM, LF)."""
    if gb18030:
        text = frame.write_csv(line_terminator="\r\n")
        path.write_bytes(text.encode("gb18030"))
    else:
        frame.write_csv(path, include_bom=True)
    return path


def write_csvs(plan: GroupPlan, drop: Path, tag: str = "") -> list[Path]:
    written = []
    suffix = f"_{tag}" if tag else ""
    for kind, name, columns, headers, gb_parity in (
        ("followups", "跟进记录", FOLLOWUP_COLUMNS, FOLLOWUP_HEADERS, 0),
        ("service", "售后工单", SERVICE_COLUMNS, SERVICE_HEADERS, 1),
    ):
        frame = getattr(plan, kind)
        for (region,), part in frame.partition_by("_region", as_dict=True, maintain_order=True).items():
            out = part.select([pl.col(c).alias(h) for c, h in zip(columns, headers, strict=True)])
            out = out.with_columns(pl.col(pl.String).replace("", None))
            path = drop / f"{name}_R{region + 1:02d}{suffix}.csv"
            written.append(write_csv(path, out, gb18030=region % 2 == gb_parity))
    return written


def _rows_by_file(plan: GroupPlan, tag: str = "") -> dict[str, dict[str, int | str]]:
    suffix = f"_{tag}" if tag else ""
    files: dict[str, dict[str, int | str]] = {}

    def add(frame: pl.DataFrame, key: str, kind: str, name: str) -> None:
        counts = frame.group_by(key).agg(pl.len().alias("rows"), pl.col("_bad").sum().alias("bad"))
        for k, rows, bad in counts.iter_rows():
            region = f"R{k + 1:02d}" if isinstance(k, int) else ""
            files[name.format(k=k, r=region, s=suffix)] = {"kind": kind, "rows": rows, "bad_rows": bad}

    codes = dict(enumerate(plan.stores["code"]))
    leads = plan.leads.with_columns(_code=pl.col("_store").replace_strict(codes, return_dtype=pl.String))
    add(leads, "_code", "leads", "线索导出_{k}{s}.xlsx")
    add(plan.sales, "_region", "sales", "销售订单_{r}{s}.xlsx")
    add(plan.followups, "_region", "followups", "跟进记录_{r}{s}.csv")
    add(plan.service, "_region", "service", "售后工单_{r}{s}.csv")
    return files


def write_group(plan: GroupPlan, drop: Path, *, workers: int = 2, tag: str = "", roster: bool = True) -> list[Path]:
    """Write the plan's files into `drop` (created) and `.group.json`; return the files written, sorted."""
    drop = Path(drop)
    drop.mkdir(parents=True, exist_ok=True)
    jobs = ([advisor_job(plan, drop)] if roster else []) + lead_jobs(plan, drop, tag) + sales_jobs(plan, drop, tag)
    jobs.sort(key=lambda job: -len(job[3][0][1]))  # the biggest first, so that the workers end together
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(write_xlsx, *job) for job in jobs]
            written = write_csvs(plan, drop, tag)
            written += [f.result() for f in futures]
    else:
        written = write_csvs(plan, drop, tag) + [write_xlsx(*job) for job in jobs]
    files = _rows_by_file(plan, tag)
    if roster:
        files[ADVISORS_FILE] = {"kind": "advisors", "rows": plan.advisors.height, "bad_rows": 0}
    manifest = {"spec": plan.spec.to_json(), "tag": tag, "files": dict(sorted(files.items()))}
    (drop / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return sorted(written)


def generate_group(drop: Path, *, as_of: date, stores: int = 100, advisors: int = 1000, leads: int = 1_000_000,
                   followups: int = 3_000_000, sales: int = 200_000, service: int = 1_000_000, seed: int = 7,
                   scale: float | None = None, workers: int = 2) -> list[Path]:
    """Plan and write a group drop folder. With `scale`, every count is the issue's group times `scale` and the
    explicit counts are ignored."""
    if scale is not None:
        spec = GroupSpec.scaled(as_of, scale, seed)
    else:
        spec = GroupSpec(as_of, stores, advisors, leads, followups, sales, service, seed)
    return write_group(plan_group(spec), drop, workers=workers)


def read_manifest(drop: Path) -> dict[str, Any]:
    return json.loads((Path(drop) / MANIFEST).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# The next night
# --------------------------------------------------------------------------------------------------


def plan_increment(base: GroupPlan, fraction: float = 0.01, night: int = 1) -> GroupPlan:
    """`fraction` new rows of each kind, dated as_of + `night`: new leads (new ids and phones) and their first
    calls, calls on recent open leads, new orders of recent leads, new repair orders of known cars."""
    spec = base.spec
    rng = np.random.default_rng([spec.seed, night])
    day = _days(spec.as_of) + night
    new = replace(spec, as_of=date.fromordinal(spec.as_of.toordinal() + night),
                  leads=max(1, round(spec.leads * fraction)), followups=max(1, round(spec.followups * fraction)),
                  sales=max(1, round(spec.sales * fraction)), service=max(1, round(spec.service * fraction)))
    stores, advisors = base.stores, base.advisors
    n_stores = stores.height
    # ids continue each store's sequence; an earlier night of the same base took its share before this one
    earlier = np.zeros(n_stores, np.int64)
    for k in range(1, night):
        earlier += np.bincount(np.random.default_rng([spec.seed, k]).choice(n_stores, new.leads,
                                                                             p=stores["weight"].to_numpy()),
                               minlength=n_stores)
    store_idx = rng.choice(n_stores, new.leads, p=stores["weight"].to_numpy())
    seq_start = np.bincount(base.leads["_store"].to_numpy(), minlength=n_stores) + earlier
    created = day * DAY + rng.integers(8 * 60, 22 * 60, new.leads)
    used = np.unique(np.r_[base.leads["_phone"].to_numpy(),
                           base.cars["_digits"].drop_nulls().cast(pl.Int64).to_numpy()])
    phones = new_mobiles(rng, new.leads + new.service, exclude=used)
    leads = build_leads(rng, stores, advisors, store_idx, created, phones[: new.leads], seq_start)
    leads = leads.with_columns(_region=stores["region"].gather(leads["_store"]), status=pl.lit("线索"),
                               lost_reason=pl.lit(None, pl.String), referrer_phone=pl.lit(None, pl.String))
    # new orders: recent open leads of the history decide today
    as_of = _days(spec.as_of)
    recent = base.leads.filter((pl.col("_created") // DAY >= as_of - 60) & pl.col("status").is_in(["意向", "谈判"]))
    sales = plan_sales(replace(new, as_of=new.as_of), rng, stores, recent, serial_offset=2 * 10**7 + night * 10**6,
                       order_day=day)
    sales_seq = np.bincount(base.sales["_store"].to_numpy(), minlength=n_stores) + (night - 1) * new.sales
    sales = number_orders(sales, stores, "order_id", "XS", 6, sales_seq)
    sales = sales.with_columns(_region=stores["region"].gather(sales["_store"]))
    # repair orders of known cars
    car = rng.choice(base.cars.height, new.service)
    kind = rng.choice(7, new.service, p=_p((5, 25, 35, 18, 8, 3, 6)))
    service = build_visits(rng, stores, advisors, base.cars, car, np.full(new.service, day), kind)
    ro_seq = np.bincount(base.service["_store"].to_numpy(), minlength=n_stores) + (night - 1) * new.service
    service = number_orders(service, stores, "ro_id", "RO", 7, ro_seq)
    service = service.with_columns(_region=stores["region"].gather(service["_store"]))
    # follow-ups: 下订 of the new orders, first calls of the new leads, then calls on recent open leads
    n_order = min(sales.height, new.followups)
    n_first = min(round(leads.height * 0.6), new.followups - n_order)
    n_open = new.followups - n_order - n_first
    both = pl.concat([recent.select(leads.columns), leads], how="vertical_relaxed")
    offset = recent.height
    first_lead = offset + rng.choice(leads.height, n_first, replace=False)
    first_at = np.minimum(both["_created"].to_numpy()[first_lead] + rng.integers(8, 241, n_first), day * DAY + DAY - 1)
    open_lead = rng.choice(max(offset, 1), n_open) if offset else offset + rng.choice(leads.height, n_open)
    open_at = day * DAY + _work_minutes(rng, n_open)
    lead = np.r_[first_lead, open_lead]
    at = np.r_[first_at, open_at]
    outcome = np.where(rng.random(len(lead)) < 0.25, MISSED, rng.integers(0, len(PIPELINE_PATH), len(lead)))
    next_day = np.where(rng.random(len(lead)) < 0.3, day + rng.choice((1, 2, 3, 5, 7), len(lead)), -1)
    pipeline = _followup_frame(rng, both, lead, at, outcome, None, both["advisor_id"].gather(pl.Series(lead)),
                               rng.random(len(lead)) < 0.1, next_day)
    order_rows = sales.head(n_order)
    sold_idx = recent.with_row_index("_i").join(order_rows.select("lead_id"), on="lead_id")["_i"].to_numpy()
    sold_at = dict(zip(order_rows["lead_id"], order_rows["_at"], strict=True))
    orders = _followup_frame(rng, both, sold_idx, np.asarray([sold_at[i] for i in recent["lead_id"].gather(
        pl.Series(sold_idx))]), np.full(len(sold_idx), ORDERED), None,
        both["advisor_id"].gather(pl.Series(sold_idx)), np.zeros(len(sold_idx), bool), np.full(len(sold_idx), -1))
    followups = finish_followups(rng, [pipeline, orders])
    return GroupPlan(new, stores, advisors, leads, followups, sales, service, base.cars)


def make_increment(target: Path, *, base: GroupPlan | GroupSpec | Path, fraction: float = 0.01, tag: str = "N1",
                   night: int = 1, workers: int = 1) -> int:
    """Write the night after `base` (a plan, its spec, or a drop folder written by `write_group`) into `target`:
    `fraction` new rows of each kind, file names tagged with `tag`. Returns the number of data rows written."""
    if isinstance(base, Path):
        base = GroupSpec.from_json(read_manifest(base)["spec"])
    if isinstance(base, GroupSpec):
        base = plan_group(base)
    plan = plan_increment(base, fraction, night)
    write_group(plan, target, workers=workers, tag=tag, roster=False)
    return plan.leads.height + plan.followups.height + plan.sales.height + plan.service.height


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("drop", type=Path, help="folder to write (created)")
    p.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 23))
    p.add_argument("--scale", type=float, default=1.0, help="share of the issue's group (default 1.0)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workers", type=int, default=2, help="processes writing workbooks (default 2)")
    p.add_argument("--increment-of", type=Path, default=None,
                   help="write the next night of the group written in this folder instead")
    p.add_argument("--fraction", type=float, default=0.01)
    p.add_argument("--tag", default="N1")
    p.add_argument("--night", type=int, default=1)
    args = p.parse_args(argv)
    start = time.perf_counter()
    if args.increment_of:
        rows = make_increment(args.drop, base=args.increment_of, fraction=args.fraction, tag=args.tag,
                              night=args.night, workers=args.workers)
        print(f"increment: {rows} rows in {time.perf_counter() - start:.1f} s → {args.drop}")
        return 0
    spec = GroupSpec.scaled(args.as_of, args.scale, args.seed)
    plan = plan_group(spec)
    planned = time.perf_counter() - start
    files = write_group(plan, args.drop, workers=args.workers)
    size = sum(f.stat().st_size for f in files) / 2**20
    print(f"{spec}: {len(files)} files, {size:.0f} MB, planned in {planned:.1f} s, "
          f"written in {time.perf_counter() - start - planned:.1f} s → {args.drop}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
