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
    return _clean_text(col).map_batches(_phones, return_dtype=pl.String, is_elementwise=True).alias(col)


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
    return _clean_text(col).str.extract(r"^([^\s（(]+)", 1).alias(col)


def parse_vin(col: str) -> pl.Expr:
    s = _clean_text(col).str.to_uppercase().str.replace_all(r"\s", "")
    return pl.when(s.str.contains(r"^[A-HJ-NPR-Z0-9]{17}$")).then(s).otherwise(None).alias(col)


def parse_text(col: str) -> pl.Expr:
    return _clean_text(col).alias(col)


PARSERS: dict[Parse, Callable[[str], pl.Expr]] = {
    Parse.TEXT: parse_text,
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
