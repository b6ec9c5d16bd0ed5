"""Numbers Excel mangled are caught, not guessed: a phone or an id saved in scientific notation loads only when
every digit survived; otherwise its row is rejected with what happened and what to do — in the file's rejects and
in `genjin check`. Read from real files, as ops drop them: a CSV saved from Excel, an .xlsx with number cells."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import tests.spreadsheets as ss
from adapters.ingest import load_file
from genjin.check import check
from schemas.validate import ROW

HEADER = ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号"]
SCIENTIFIC = 'Excel 把号码变成了科学记数法「{}」，后几位已丢失；请把该列设为"文本"后重新导出'


def _lead(lead_id: str, phone: object) -> list[object]:
    return [lead_id, "2026-11-20 10:00", "陈先生", phone, "浦东店", "S1"]


@pytest.mark.parametrize(
    ("written", "loads_as"),
    [
        ("1.3800138000E+10", "+8613800138000"),  # every one of the eleven digits written: nothing lost
        ("1.380013800000E+10", "+8613800138000"),  # more places than digits, as trailing zeros
        ("1.38001380E10", None),  # nine digits kept: today +86 138 0013 8010, a stranger's number
        ("1.50558023E10", None),  # today 150 5580 2310
        ("1.81175E+10", None),  # Excel's General format in a narrow column
        ("1.38001E+10", None),
    ],
)
def test_a_phone_in_scientific_notation_loads_only_when_every_digit_survived(
    tmp_path: Path, written: str, loads_as: str | None
) -> None:
    path = ss.write_csv(tmp_path / "线索.csv", [HEADER, _lead("L1", written), _lead("L2", "13900139000")])
    (sheet,) = load_file(path).sheets
    phones = dict(zip(sheet.loaded["lead_id"], sheet.loaded["phone"], strict=True))
    if loads_as is not None:
        assert phones == {"L1": loads_as, "L2": "+8613900139000"} and sheet.rejects.is_empty()
        return
    assert phones == {"L2": "+8613900139000"}
    (reject,) = sheet.rejects.iter_rows(named=True)  # one reason, not also "无效的电话号码"
    assert (reject[ROW], reject["column"]) == (2, "phone")
    assert reject["reason_zh"] == SCIENTIFIC.format(written)
    assert reject["reason_en"].startswith(f"Excel turned the number into scientific notation '{written}'")
    assert "Text" in reject["reason_en"] and "文本" in reject["hint"]


def test_a_number_cell_of_an_xlsx_is_the_number_it_holds(tmp_path: Path) -> None:
    rows = [HEADER, _lead("L1", 13800138000), ["L2", "2026-11-20", "林女士", 19459690635, "浦东店", 1001]]
    path = ss.write_openpyxl(tmp_path / "线索.xlsx", {"线索": rows})
    (sheet,) = load_file(path).sheets
    assert sheet.rejects.is_empty()
    assert sheet.loaded.select("lead_id", "phone", "advisor_id").rows() == [
        ("L1", "+8613800138000", "S1"), ("L2", "+8619459690635", "1001")]


def test_an_id_excel_wrote_as_1_23457E_15_is_rejected_and_an_exact_one_is_read(tmp_path: Path) -> None:
    header = ["订单号", "联系电话", "客户姓名", "销售顾问工号", "订车日期", "门店"]
    rows = [header,
            ["1.23457E+15", "13800138000", "王先生", "S1", "2026-11-01", "浦东店"],
            ["1.234567890123450E+15", "13800138001", "李女士", "S1", "2026-11-01", "浦东店"],
            ["XS-00017", "13800138002", "赵先生", "S1", "2026-11-01", "浦东店"]]
    (sheet,) = load_file(ss.write_csv(tmp_path / "订单.csv", rows)).sheets
    assert sheet.loaded["order_id"].to_list() == ["1234567890123450", "XS-00017"]
    (reject,) = sheet.rejects.iter_rows(named=True)
    assert (reject[ROW], reject["column"], reject["reason_zh"]) == (2, "order_id", SCIENTIFIC.format("1.23457E+15"))


def test_ids_that_lost_their_leading_zeros_beside_ids_that_kept_them_are_rejected(tmp_path: Path) -> None:
    rows = [HEADER, _lead("000123", "13800138001"), _lead("789", "13800138002"), _lead("004560", "13800138003"),
            _lead("1234567", "13800138004")]  # longer than the padded ids: not a lost zero
    (sheet,) = load_file(ss.write_csv(tmp_path / "线索.csv", rows)).sheets
    assert sheet.loaded["lead_id"].to_list() == ["000123", "004560", "1234567"]
    (reject,) = sheet.rejects.iter_rows(named=True)
    assert (reject[ROW], reject["column"]) == (3, "lead_id")
    assert reject["reason_zh"] == ('Excel 去掉了编号开头的 0「789」（同列的编号是 6 位，如 000123）；'
                                   '请把该列设为"文本"后重新导出')


def test_ids_that_only_look_like_numbers_in_notation_stay_ids(tmp_path: Path) -> None:
    rows = [HEADER, _lead("12E34", "13800138001"), _lead("2E5", "13800138002"), _lead("789", "13800138003")]
    (sheet,) = load_file(ss.write_csv(tmp_path / "线索.csv", rows)).sheets
    assert sheet.rejects.is_empty() and sheet.loaded["lead_id"].to_list() == ["12E34", "2E5", "789"]


def test_genjin_check_says_what_excel_did_and_what_to_do(tmp_path: Path) -> None:
    rows = [HEADER, _lead("L1", "1.38001380E10"), _lead("L2", "1.3800138000E+10"), _lead("L3", "1.81175E+10")]
    path = ss.write_csv(tmp_path / "线索.csv", rows)
    out = io.StringIO()
    assert check([path], out) == 1
    text = out.getvalue()
    assert "共 3 行，可载入 1 行，拒绝 2 行" in text
    assert f"✗ 第 2 行「联系电话」：{SCIENTIFIC.format('1.38001380E10')}" in text
    assert f"✗ 第 4 行「联系电话」：{SCIENTIFIC.format('1.81175E+10')}" in text
    assert "row 2, column '联系电话': Excel turned the number into scientific notation '1.38001380E10'" in text
