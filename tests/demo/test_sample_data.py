"""The sample drop folder behind ``genjin demo``: determinism, scale, encodings and the planted cases.

Expectations come from the files as a reader sees them (openpyxl, csv), not from the generator's internals.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from demo.sample_data import generate

AS_OF = date(2025, 3, 5)
END_OF_AS_OF = datetime.combine(AS_OF, time(23, 59, 59))

ADVISOR_HEADERS = ("顾问编号", "姓名", "门店", "岗位", "邮箱", "上级工号", "在职", "每日上限")
LEAD_HEADERS = (
    "线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户来源", "意向车型", "购车预算",
    "预计购车时间", "客户级别", "客户状态", "战败原因", "对比车型", "推荐人电话", "生日", "性别", "微信",
    "勿扰",
)  # fmt: skip
FOLLOWUP_HEADERS = (
    "线索编号", "手机号", "销售顾问工号", "跟进时间", "跟进方式", "跟进结果", "沟通内容", "下次跟进时间",
    "预计购车时间", "客户级别",
)  # fmt: skip
SALES_HEADERS = (
    "订单号", "手机号", "客户姓名", "销售顾问工号", "订车日期", "门店", "线索编号", "车架号", "车型", "颜色",
    "预计交车日期", "交车日期", "订单状态", "成交价", "推荐人电话", "生日",
)  # fmt: skip
SERVICE_HEADERS = (
    "工单号", "进厂日期", "门店", "车架号", "手机号", "车牌号", "客户姓名", "维修类型", "结算金额", "里程",
    "服务顾问工号", "满意度", "是否投诉", "投诉内容",
)  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Reading the files back, independently of the generator
# ------------------------------------------------------------------------------------------------


def sheet_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def records(path: Path, header_row: int = 1) -> list[dict[str, object]]:
    (rows,) = sheet_values(path).values()
    header = [str(h) for h in rows[header_row - 1]]
    return [
        dict(zip(header, row + (None,) * (len(header) - len(row)), strict=True)) for row in rows[header_row:]
    ]


def lead_records(folder: Path) -> list[dict[str, object]]:
    return [r for path in sorted(folder.glob("线索导出_*.xlsx")) for r in records(path, header_row=3)]


def followup_records(folder: Path) -> list[dict[str, str]]:
    text = (folder / "跟进记录.csv").read_bytes().decode("gbk")
    return list(csv.DictReader(io.StringIO(text)))


def phone_digits(value: object) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def parse_moment(value: object) -> datetime:
    """A reader's view of a date/time cell: a real datetime, or text in one of the usual Chinese forms."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?", text)
    assert m, f"unexpected date text {text!r}"
    year, month, day, hour, minute = m.groups()
    return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))


def parse_day(value: object) -> date | None:
    return None if value in (None, "") else parse_moment(value).date()


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drop")
    generate(folder, as_of=AS_OF)
    return folder


# ------------------------------------------------------------------------------------------------
# Files, headers, determinism, scale, encoding
# ------------------------------------------------------------------------------------------------


def test_writes_the_expected_files_sorted(tmp_path: Path) -> None:
    written = generate(tmp_path, as_of=AS_OF, seed=3)
    names = [
        "售后工单.xlsx",
        "线索导出_S01.xlsx",
        "线索导出_S02.xlsx",
        "线索导出_S03.xlsx",
        "跟进记录.csv",
        "销售订单.xlsx",
        "顾问名单.xlsx",
    ]
    assert written == sorted(written)
    assert sorted(p.name for p in written) == sorted(names)
    assert all(p.parent == tmp_path and p.is_file() for p in written)


def test_header_rows_are_exact(drop: Path) -> None:
    assert sheet_values(drop / "顾问名单.xlsx")["顾问名单"][0] == ADVISOR_HEADERS
    assert sheet_values(drop / "销售订单.xlsx")["销售订单"][0] == SALES_HEADERS
    service = sheet_values(drop / "售后工单.xlsx")
    assert list(service) == ["工单"]
    assert service["工单"][0] == SERVICE_HEADERS
    assert followup_records(drop)[0].keys() == set(FOLLOWUP_HEADERS)
    with (drop / "跟进记录.csv").open(encoding="gbk", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == FOLLOWUP_HEADERS


def test_lead_exports_have_a_merged_title_a_blank_row_then_the_header(drop: Path) -> None:
    for path in sorted(drop.glob("线索导出_*.xlsx")):
        rows = next(iter(sheet_values(path).values()))
        assert re.fullmatch(r".+店线索导出（截至2025-03-05）", str(rows[0][0]))
        assert all(v is None for v in rows[1])
        assert rows[2] == LEAD_HEADERS
        wb = load_workbook(path)  # merged ranges are only visible outside read-only mode
        assert [str(r) for r in wb.worksheets[0].merged_cells.ranges] == ["A1:S1"]


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", as_of=AS_OF, seed=11)
    second = generate(tmp_path / "b", as_of=AS_OF, seed=11)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes()
        else:
            assert sheet_values(a) == sheet_values(b), a.name
    other = generate(tmp_path / "c", as_of=AS_OF, seed=12)
    csv_name = "跟进记录.csv"
    assert (tmp_path / "c" / csv_name).read_bytes() != (tmp_path / "a" / csv_name).read_bytes()
    assert any(p.name == csv_name for p in other)


@pytest.mark.slow
def test_size_scales_the_number_of_stores_linearly(tmp_path: Path, drop: Path) -> None:
    generate(tmp_path, as_of=AS_OF, size=2)
    one, two = lead_records(drop), lead_records(tmp_path)
    assert 850 <= len(one) <= 950
    assert 1.8 <= len(two) / len(one) <= 2.2
    assert len(list(tmp_path.glob("线索导出_*.xlsx"))) == 6
    roster = records(tmp_path / "顾问名单.xlsx")
    stores = {r["门店"] for r in roster}
    assert len(stores) == 6
    assert len({r["顾问编号"] for r in roster}) == len(roster)
    assert len({r["线索编号"] for r in two}) == len(two)
    sales_one, sales_two = records(drop / "销售订单.xlsx"), records(tmp_path / "销售订单.xlsx")
    assert 1.8 <= len(sales_two) / len(sales_one) <= 2.2
    service_one, service_two = records(drop / "售后工单.xlsx"), records(tmp_path / "售后工单.xlsx")
    assert 1.8 <= len(service_two) / len(service_one) <= 2.2


def test_followup_csv_is_gbk_and_not_utf8(drop: Path) -> None:
    raw = (drop / "跟进记录.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("线索编号,手机号,销售顾问工号")


# ------------------------------------------------------------------------------------------------
# Consistency between the files
# ------------------------------------------------------------------------------------------------


def test_roster_shape_per_store(drop: Path) -> None:
    roster = records(drop / "顾问名单.xlsx")
    by_store: dict[object, list[dict[str, object]]] = {}
    for r in roster:
        by_store.setdefault(r["门店"], []).append(r)
    assert set(by_store) == {"上海浦东店", "杭州西湖店", "南京江宁店"}
    for rows in by_store.values():
        roles = Counter(r["岗位"] for r in rows)
        assert roles["经理"] == 1 and roles["服务顾问"] == 2 and roles["销售顾问"] in (4, 5)
        manager = next(r["顾问编号"] for r in rows if r["岗位"] == "经理")
        assert all(r["上级工号"] == manager for r in rows if r["岗位"] != "经理")
        sales = [r for r in rows if r["岗位"] == "销售顾问"]
        assert sum(r["在职"] == "否" for r in sales) == 1
        assert sum(r["邮箱"] is None and r["在职"] == "是" for r in sales) == 1
        assert all(re.fullmatch(r"S\d{2}A\d{2}", str(r["顾问编号"])) for r in rows)


def test_followups_fall_inside_each_leads_life(drop: Path) -> None:
    leads = {r["线索编号"]: r for r in lead_records(drop)}
    followups = followup_records(drop)
    per_lead = Counter(f["线索编号"] for f in followups if f["线索编号"])
    assert max(per_lead.values()) <= 6
    phone_only = [f for f in followups if not f["线索编号"]]
    assert 0.05 <= len(phone_only) / len(followups) <= 0.2
    assert all(phone_digits(f["手机号"]) for f in phone_only)
    forms: Counter[str] = Counter()
    for f in followups:
        moment = parse_moment(f["跟进时间"])
        assert moment <= END_OF_AS_OF
        forms["年" if "年" in f["跟进时间"] else "/" if "/" in f["跟进时间"] else "-"] += 1
        if f["线索编号"]:
            lead = leads[f["线索编号"]]
            assert moment > parse_moment(lead["留资时间"])
            assert phone_digits(f["手机号"]) == phone_digits(lead["手机号"])
        assert f["跟进结果"] in {
            "已接通",
            "未接通",
            "预约到店",
            "已到店",
            "已试驾",
            "已报价",
            "下订",
            "战败",
            "暂不考虑",
        }
        assert f["跟进方式"] in {"电话", "微信", "短信", "到店", "试驾"}
    assert min(forms.values()) > 50 and len(forms) == 3


def test_every_sale_refers_to_a_lead_row(drop: Path) -> None:
    leads = {r["线索编号"]: r for r in lead_records(drop)}
    sales = records(drop / "销售订单.xlsx")
    assert 150 <= len(sales) <= 200
    for s in sales:
        lead = leads[s["线索编号"]]
        assert phone_digits(s["手机号"]) == phone_digits(lead["手机号"])
        assert s["销售顾问工号"] == lead["销售顾问工号"] and s["门店"] == lead["门店"]
        assert parse_day(s["订车日期"]) <= AS_OF  # type: ignore[operator]
        assert isinstance(s["成交价"], int) and 90_000 < s["成交价"] < 400_000
        if s["交车日期"] is not None:
            assert s["订单状态"] == "已交车" and parse_day(s["交车日期"]) <= AS_OF  # type: ignore[operator]
    vins = [s["车架号"] for s in sales]
    assert len(set(vins)) == len(vins)
    assert all(re.fullmatch(r"LSV[A-HJ-NPR-Z0-9]{14}", str(v)) for v in vins)
    assert {s["订单状态"] for s in sales} == {"已订车", "已交车", "已退订"}
    assert len({s["订单号"] for s in sales}) == len(sales)


def test_service_orders_mix_sold_cars_and_service_only_customers(drop: Path) -> None:
    sales = records(drop / "销售订单.xlsx")
    service = records(drop / "售后工单.xlsx")
    assert 700 <= len(service) <= 800
    sold = {s["车架号"]: phone_digits(s["手机号"]) for s in sales if s["交车日期"] is not None}
    on_sold = [v for v in service if v["车架号"] in sold]
    assert len(on_sold) >= 60
    assert any(v["手机号"] and phone_digits(v["手机号"]) != sold[v["车架号"]] for v in on_sold)  # VIN merging
    assert len(service) - len(on_sold) >= 300  # bought elsewhere
    assert all(parse_day(v["进厂日期"]) <= AS_OF for v in service)  # type: ignore[operator]
    assert {v["维修类型"] for v in service} == {"首保", "定保", "保养", "维修", "钣喷", "索赔", "保险"}
    scores = [v["满意度"] for v in service if v["满意度"] is not None]
    assert any(s <= 5 for s in scores) and any(s > 5 for s in scores)  # type: ignore[operator]
    complaints = [v for v in service if v["是否投诉"] == "是"]
    assert 0.01 <= len(complaints) / len(service) <= 0.06
    assert all(v["投诉内容"] for v in complaints)
    assert len({v["工单号"] for v in service}) == len(service)


# ------------------------------------------------------------------------------------------------
# Planted cases: every task type has something due on as_of, in every store
# ------------------------------------------------------------------------------------------------


def test_planted_cases_in_every_store(drop: Path) -> None:
    d = AS_OF
    roster = records(drop / "顾问名单.xlsx")
    on_roster = {r["顾问编号"] for r in roster}
    inactive = {r["顾问编号"] for r in roster if r["在职"] == "否"}
    leads = lead_records(drop)
    followups = followup_records(drop)
    touched_ids = {f["线索编号"] for f in followups if f["线索编号"]}
    touched_phones = {phone_digits(f["手机号"]) for f in followups}
    sales = records(drop / "销售订单.xlsx")
    service = records(drop / "售后工单.xlsx")
    for store in ("上海浦东店", "杭州西湖店", "南京江宁店"):
        store_leads = [r for r in leads if r["门店"] == store]
        untouched = [
            r for r in store_leads
            if r["线索编号"] not in touched_ids and phone_digits(r["手机号"]) not in touched_phones
        ]  # fmt: skip
        created = Counter(parse_moment(r["留资时间"]).date() for r in untouched)
        assert created[d] >= 1 and created[d - timedelta(days=1)] >= 2
        assert any(parse_moment(r["留资时间"]).time() == time(23, 30) for r in untouched)
        open_leads = [r for r in store_leads if r["客户状态"] not in ("战败", "成交")]
        assert any(r["销售顾问工号"] in inactive for r in open_leads)
        assert any(r["销售顾问工号"] not in on_roster for r in open_leads)
        assert any(r["勿扰"] == "是" for r in store_leads)

        store_sales = [s for s in sales if s["门店"] == store]
        delivered = {parse_day(s["交车日期"]) for s in store_sales if s["交车日期"] is not None}
        assert {d - timedelta(days=n) for n in (1, 3, 7, 30, 90, 150)} <= delivered
        waiting = [s for s in store_sales if s["订单状态"] == "已订车" and s["交车日期"] is None]
        assert any(parse_day(s["预计交车日期"]) == d + timedelta(days=1) for s in waiting)

        store_service = [v for v in service if v["门店"] == store]
        visits = Counter(parse_day(v["进厂日期"]) for v in store_service)
        assert visits[d - timedelta(days=3)] >= 1
        recent_complaints = [
            v for v in store_service
            if v["是否投诉"] == "是" and (d - parse_day(v["进厂日期"])).days <= 7  # type: ignore[operator]
            and phone_digits(v["手机号"]) not in touched_phones
        ]  # fmt: skip
        assert recent_complaints

    # a follow-up that recorded a plan for as_of, and leads whose last touch was 1, 3 and 7 days ago
    assert any(parse_day(f["下次跟进时间"]) == d for f in followups if f["下次跟进时间"])
    last_touch: dict[str, date] = {}
    for f in followups:
        if f["线索编号"]:
            last_touch[f["线索编号"]] = max(
                last_touch.get(f["线索编号"], date.min), parse_moment(f["跟进时间"]).date()
            )
    ages = Counter((d - day).days for day in last_touch.values())
    assert ages[1] >= 3 and ages[3] >= 3 and ages[7] >= 3


def test_dirty_but_valid_cells_are_planted(drop: Path) -> None:
    leads = lead_records(drop)
    assert any(isinstance(r["手机号"], str) and re.search(r"\d \d", r["手机号"]) for r in leads)
    assert any(isinstance(r["留资时间"], str) for r in leads)
    assert any(isinstance(r["手机号"], str) and r["手机号"].startswith("+86 ") for r in leads)
    assert any(isinstance(r["手机号"], str) and re.fullmatch(r"86\d{11}", r["手机号"]) for r in leads)
    sales = records(drop / "销售订单.xlsx")
    assert any(
        isinstance(s["订车日期"], str) and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", s["订车日期"])
        for s in sales
    )
    assert all(isinstance(r["留资时间"], datetime) for r in leads if not isinstance(r["留资时间"], str))


@pytest.mark.parametrize("as_of", [date(2024, 2, 29), date(2026, 1, 1)])
def test_other_as_of_dates(tmp_path: Path, as_of: date) -> None:
    generate(tmp_path, as_of=as_of, seed=1)
    end = datetime.combine(as_of, time(23, 59, 59))
    assert all(parse_moment(f["跟进时间"]) <= end for f in followup_records(tmp_path))
    sales = records(tmp_path / "销售订单.xlsx")
    assert any(parse_day(s["预计交车日期"]) == as_of + timedelta(days=1) for s in sales)
