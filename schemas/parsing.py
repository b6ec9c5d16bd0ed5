"""Cell text → typed values, as Polars expressions (one per `Parse` kind).

Every parser returns null for text it cannot read; `schemas.validate` compares the parsed value with the
original text, so a value that was there and could not be read rejects its row instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import phonenumbers
import polars as pl

from schemas.columns import Parse
from schemas.phones import MOBILE_TEXT, SEPARATORS
from schemas.vocab import DECISION_WORDS, FALSE_WORDS, GRADES, ROLE_WORDS, TRUE_WORDS

EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = r"^\d{1,6}(\.\d+)?$"
_DATE_PARTS = (
    r"^(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})\D?"  # 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日
    r"(?:[ T]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}(?:\.\d+)?))?)?\D*$"
)


def _clean_text(col: str) -> pl.Expr:
    s = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


# --- numbers Excel mangled ------------------------------------------------------------------------------
# A long number in a cell of Excel's General format is shown — and saved to CSV — in scientific notation with as
# many digits as the column is wide: 13800138000 → `1.38001E+10`. Only the form that kept every digit can be
# read back; the others lost theirs and are rejected (`EXCEL_DAMAGE`), never guessed. A leading digit and a dot
# or a `+` are required, so that an id such as `12E34` or `2E5` stays an id.
_SCIENTIFIC = r"^([1-9])(?:\.(\d+))?[eE](\+)?(\d{1,2})$"
SCIENTIFIC, LEADING_ZEROS = "scientific", "leading_zeros"


def _scientific(s: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(written in scientific notation, every digit kept, the digits) of the text `s`."""
    parts = s.str.extract_groups(_SCIENTIFIC)
    lead, frac, plus = (parts.struct.field(str(i)) for i in (1, 2, 3))
    exponent = parts.struct.field("4").cast(pl.Int64)
    written = lead.is_not_null() & (frac.is_not_null() | plus.is_not_null())
    frac = frac.fill_null("")
    # 1.3800138000E+10: ten digits after the point for an exponent of 10 (more only as trailing zeros)
    kept = (frac.str.len_chars() >= exponent) & frac.str.slice(exponent).str.contains(r"^0*$")
    return written, kept, lead + frac.str.slice(0, exponent)


def _unscientific(cleaned: pl.Series) -> pl.Series:
    hit = cleaned.str.contains(_SCIENTIFIC)
    if not hit.any():  # nearly every night: nothing to do
        return cleaned
    written, kept, digits = _scientific(pl.col("s"))
    read = cleaned.filter(hit).rename("s").to_frame().select(
        pl.when(written & kept).then(digits).when(written).then(None).otherwise(pl.col("s"))).to_series()
    return cleaned.scatter(hit.arg_true(), read)


def unscientific(s: pl.Expr) -> pl.Expr:
    """`1.3800138000E+10` → `13800138000`; a scientific form that lost digits (`1.38001E+10`) → null; any other
    text unchanged."""
    return s.map_batches(_unscientific, return_dtype=pl.String, is_elementwise=True)


def excel_damage(values: pl.Series, leading_zeros: bool) -> pl.Series:
    """Why each cell's number cannot be trusted (`SCIENTIFIC`, `LEADING_ZEROS`), else null. `leading_zeros`: an
    id column, where digits-only ids shorter than the column's zero-padded ones lost their leading zeros to
    Excel (`000123` beside `789`) — detectable only when some of the column kept theirs."""
    text = values.cast(pl.String)
    scientific = bool(text.str.contains(r"^\s*[1-9](?:\.\d+)?[eE]\+?\d{1,2}\s*$").any())
    padded = leading_zeros and bool(text.str.contains(r"^\s*0\d+\s*$").any())
    if not scientific and not padded:  # nearly every night: nothing to look into
        return pl.Series(values.name, [None] * values.len(), pl.String)
    cleaned = text.str.strip_chars().rename("s").to_frame()
    s = pl.col("s")
    written, kept, _ = _scientific(s) if scientific else (pl.lit(False), pl.lit(True), None)
    lost = pl.lit(False)
    if padded:
        digits = s.str.contains(r"^\d+$")
        width = s.str.len_chars().filter(digits & s.str.starts_with("0")).min()
        lost = digits & ~s.str.starts_with("0") & (s.str.len_chars() < width)
    return cleaned.select(pl.when(written & ~kept).then(pl.lit(SCIENTIFIC)).when(lost).then(pl.lit(LEADING_ZEROS))
                          .otherwise(None).alias(values.name)).to_series()


def padded_example(values: pl.Series) -> str | None:
    """The shortest zero-padded digits-only id of a column (`000123`): what its ids look like, for a reason."""
    s = values.cast(pl.String).str.strip_chars()
    padded = s.filter(s.str.contains(r"^0\d+$"))
    return None if padded.is_empty() else str(padded[int(padded.str.len_chars().arg_min() or 0)])


# what most exports hold, read directly: 2025-03-05 14:30(:00), 2025/3/5 9:05, 2025-03-05, 2025/3/5
_DIRECT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")  # after `/` → `-`
_DIRECT = r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}"


def _general_datetime(s: pl.Expr) -> pl.Expr:
    """Excel serial numbers and every text form of SPEC §2 (the ISO forms included)."""
    serial = s.cast(pl.Float64, strict=False)
    from_serial = (
        pl.lit(EXCEL_EPOCH).cast(pl.Datetime("us"))
        + pl.duration(microseconds=(serial * 86_400_000_000).round(0).cast(pl.Int64))
    )
    parts = s.str.extract_groups(_DATE_PARTS)

    def part(i: int, width: int = 2) -> pl.Expr:
        return parts.struct.field(str(i)).fill_null("0").str.split(".").list.first().str.zfill(width)

    text = pl.format(
        "{}-{}-{} {}:{}:{}", parts.struct.field("1"), part(2), part(3), part(4), part(5), part(6)
    ).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    return pl.when(s.str.contains(_SERIAL) & serial.is_between(1, 2_958_465)).then(from_serial).otherwise(text)


def _datetimes(cleaned: pl.Series) -> pl.Series:
    """The common forms straight through strptime; only what is left takes the general pattern (the same
    result: the general pattern reads those forms the same way)."""
    frame = cleaned.rename("s").to_frame()
    s = pl.col("s")
    dashed = s.str.replace_all("/", "-", literal=True)
    iso = pl.when(s.str.contains(_DIRECT)).then(
        pl.coalesce(dashed.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _DIRECT_FORMATS)
    )
    out = frame.select(iso.alias("d")).to_series()
    rest = out.is_null() & cleaned.is_not_null()
    if rest.any():
        out = out.scatter(rest.arg_true(), frame.filter(rest).select(_general_datetime(s)).to_series())
    return out.rename(cleaned.name)


def parse_datetime(col: str) -> pl.Expr:
    """Real Excel dates (read as `2025-03-05 14:30:00`), Excel serial numbers, and the text forms of SPEC §2."""
    cleaned = _clean_text(col).str.replace_all("：", ":", literal=True)
    return cleaned.map_batches(_datetimes, return_dtype=pl.Datetime("us"), is_elementwise=True).alias(col)


# a date typed without its year, as advisors type a next date: 12月6日, 12/6, 12.6, 12-6 (with an optional time)
MONTH_DAY = r"^(\d{1,2})\s*(?:月|/|\.|-)\s*(\d{1,2})\s*日?\s*(?:[ T]+(\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2})?))?$"
HALF_YEAR_DAYS = 183


def with_year(text: pl.Expr, near: pl.Expr) -> pl.Expr:
    """A month-day text (`MONTH_DAY`) as ISO text in the year that puts it nearest the datetime `near` — the
    row's own date: `11/28` by a contact on 11-25 is three days on, by one on 12-03 five days back, never a
    year ahead of it; `1/5` by one on 12-20 is in the next year. Any other text unchanged."""
    parts = text.str.extract_groups(MONTH_DAY)
    month, day, clock = (parts.struct.field(str(i)) for i in (1, 2, 3))

    def in_year(year: pl.Expr) -> pl.Expr:
        return pl.format("{}-{}-{}", year, month.str.zfill(2), day.str.zfill(2)).str.strptime(
            pl.Date, "%Y-%m-%d", strict=False)

    same, day0 = in_year(near.dt.year()), near.dt.date()
    chosen = (pl.when((same - day0).dt.total_days() > HALF_YEAR_DAYS).then(in_year(near.dt.year() - 1))
              .when((day0 - same).dt.total_days() > HALF_YEAR_DAYS).then(in_year(near.dt.year() + 1))
              .otherwise(same))
    iso = pl.concat_str([chosen.dt.strftime("%Y-%m-%d"), pl.lit(" ") + clock.str.replace_all("：", ":")],
                        ignore_nulls=True)
    return pl.when(month.is_not_null() & chosen.is_not_null()).then(iso).otherwise(text)


def parse_date(col: str) -> pl.Expr:
    return parse_datetime(col).dt.date().alias(col)


def valid_number(text: str) -> phonenumbers.PhoneNumber | None:
    """`text` as a valid phone number (a Chinese one when it has no country code), else None."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _phone_e164(text: str) -> str | None:
    number = valid_number(text)
    return None if number is None else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phones(cleaned: pl.Series) -> pl.Series:
    """Mainland mobiles in Polars; only what is left goes to phonenumbers, in Python, value by value."""
    digits = cleaned.str.replace(r"\.0+$", "").str.replace_all(SEPARATORS, "")
    out = "+86" + digits.str.extract(MOBILE_TEXT, 1)
    rest = out.is_null() & cleaned.is_not_null()
    if rest.any():
        others = cleaned.filter(rest).map_elements(_phone_e164, return_dtype=pl.String, skip_nulls=True)
        out = out.scatter(rest.arg_true(), others)
    return out.rename(cleaned.name)


def parse_phone(col: str) -> pl.Expr:
    """E.164 with default region CN."""
    return unscientific(_clean_text(col)).map_batches(_phones, return_dtype=pl.String, is_elementwise=True).alias(col)


def parse_bool(col: str) -> pl.Expr:
    s = _clean_text(col).str.to_lowercase()
    return (
        pl.when(s.is_in(TRUE_WORDS))
        .then(True)
        .when(s.is_in(FALSE_WORDS))
        .then(False)
        .otherwise(None)
        .alias(col)
    )


def parse_amount(col: str) -> pl.Expr:
    """`158,800`, `15.88万`, `¥158800元` → 158800.0."""
    s = _clean_text(col).str.replace_all(r"[,，\s¥￥元]|rmb|RMB", "")
    wan = s.str.ends_with("万")
    n = s.str.strip_suffix("万").cast(pl.Float64, strict=False)
    return pl.when(wan).then(n * 10_000).otherwise(n).alias(col)


def parse_grade(col: str) -> pl.Expr:
    s = _clean_text(col).str.to_uppercase().str.strip_suffix("级")
    return pl.when(s.is_in(GRADES)).then(s).otherwise(None).alias(col)


def parse_role(col: str) -> pl.Expr:
    s = _clean_text(col).str.to_lowercase()
    return s.replace_strict(ROLE_WORDS, default=None, return_dtype=pl.String).alias(col)


def parse_decision(col: str) -> pl.Expr:
    s = _clean_text(col).str.to_lowercase()
    return s.replace_strict(DECISION_WORDS, default=None, return_dtype=pl.String).alias(col)


def parse_advisor_ref(col: str) -> pl.Expr:
    """An advisor as the review workbook's drop-down writes them, `S002 李四`, or just `S002` → `S002`."""
    return unscientific(_clean_text(col)).str.extract(r"^([^\s（(]+)", 1).alias(col)


def parse_vin(col: str) -> pl.Expr:
    s = unscientific(_clean_text(col)).str.to_uppercase().str.replace_all(r"\s", "")
    return pl.when(s.str.contains(r"^[A-HJ-NPR-Z0-9]{17}$")).then(s).otherwise(None).alias(col)


def parse_text(col: str) -> pl.Expr:
    return _clean_text(col).alias(col)


def parse_id(col: str) -> pl.Expr:
    """An id as written; one Excel wrote in scientific notation with every digit kept, back to its digits."""
    return unscientific(_clean_text(col)).alias(col)


PARSERS: dict[Parse, Callable[[str], pl.Expr]] = {
    Parse.TEXT: parse_text,
    Parse.ID: parse_id,
    Parse.DATETIME: parse_datetime,
    Parse.DATE: parse_date,
    Parse.PHONE: parse_phone,
    Parse.BOOL: parse_bool,
    Parse.AMOUNT: parse_amount,
    Parse.GRADE: parse_grade,
    Parse.ROLE: parse_role,
    Parse.VIN: parse_vin,
    Parse.DECISION: parse_decision,
    Parse.ADVISOR_REF: parse_advisor_ref,
}

REASONS: dict[Parse, tuple[str, str]] = {
    Parse.DATETIME: ("无法识别的日期", "unrecognised date"),
    Parse.DATE: ("无法识别的日期", "unrecognised date"),
    Parse.PHONE: ("无效的电话号码", "invalid phone number"),
    Parse.BOOL: ("无法识别的是/否", "not a yes/no value"),
    Parse.AMOUNT: ("无法识别的数字", "not a number"),
    Parse.GRADE: ("客户级别应为 S/A/B/C/D/O/H", "grade must be S/A/B/C/D/O/H"),
    Parse.ROLE: ("岗位应为 销售顾问/服务顾问/经理", "role must be sales/service/manager"),
    Parse.VIN: ("车架号应为17位", "VIN must be 17 characters"),
    Parse.DECISION: ("决定应为 改派/战败/勿扰/保持", "decision must be reassign/lost/do not contact/keep"),
    Parse.ADVISOR_REF: ("无法识别的顾问工号", "not an advisor id"),
}

# the kinds of cell that hold numbers Excel may mangle, and whether a lost leading zero can show in them
EXCEL_CHECKED: dict[Parse, bool] = {Parse.ID: True, Parse.PHONE: False, Parse.VIN: False, Parse.ADVISOR_REF: False}
TEXT_COLUMN = '请把该列设为"文本"后重新导出'
EXCEL_REASONS: dict[str, tuple[str, str]] = {  # {value}, {example}, {width}: the cell, a padded id, its length
    SCIENTIFIC: (
        "Excel 把号码变成了科学记数法「{value}」，后几位已丢失；" + TEXT_COLUMN,
        "Excel turned the number into scientific notation '{value}' and its last digits are lost; "
        "format the column as Text and export again",
    ),
    LEADING_ZEROS: (
        "Excel 去掉了编号开头的 0「{value}」（同列的编号是 {width} 位，如 {example}）；" + TEXT_COLUMN,
        "Excel dropped the leading zeros of the id '{value}' (the column's ids have {width} digits, e.g. "
        "{example}); format the column as Text and export again",
    ),
}
EXCEL_HINT = ("用系统导出的原文件直接放入投放目录；CSV 不要用 Excel 双击打开再保存。"
              '要在 Excel 里整理时，用"数据 → 从文本/CSV"导入，并把该列设为"文本"')
