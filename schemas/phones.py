"""Phones: what a mainland mobile is, and how a stored phone reads to a person — the one copy of the phone
rules. The history and the customer id keep E.164 (`+8619459690635`, schemas/parsing.py reads every phone into
it with `MOBILE_TEXT`); every writer shows it through the expressions below:

- a mainland mobile, any of 13x–19x (14x, 16x, 19x included), in 3-4-4 groups, `194 5969 0635`: how Chinese users
  write a mobile on a card, in WeChat or on a call sheet, and how China's phones show it while dialling — read
  off paper and typed in by hand without losing a digit; dialler apps and the follow-up reader ignore the spaces,
  and a cell of digits and spaces stays text in Excel (no `1.95E+10`, no formula guard needed as for `+86…`);
- a mainland fixed line as it is written at home, area code first: `010 6552 9988`, `0755 1234 5678`,
  `0901 123 4567`; a 400/800 service number `400 123 4567`;
- a foreign number in E.164 (`+85291234567`), since its country code is the one thing the caller must not drop;
- masked for a manager's digest, the review workbook and a group chat, the middle digits hidden: `194****7822`
  (the masking Chinese apps and bank SMS use, kept without spaces so it is never mistaken for a number to
  dial); any other number keeps only its last four digits, `****9988`;
- in HTML, a `tel:` link to the E.164 number, so a phone's mail app dials it with one tap.

The rules are Polars expressions over the E.164 column (a review workbook of tens of thousands of rows formats
them in one pass, no phone parsed in Python), and a mainland mobile is ours to define, not phonenumbers': its
metadata lags the numbering plan (9.0.43 calls the 154 and 194 blocks invalid).

This module sits in schemas/, the lowest layer its users share: parsing reads with it, adapters/robots.py
@-mentions a roster mobile with `national_mobile`, and reports/ writes every phone with it.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

MOBILE = r"1[3-9]\d{9}"  # a mainland mobile's 11 digits: 13x–19x
MOBILE_TEXT = rf"^(?:\+?86|0086)?({MOBILE})$"  # a mobile as a file carries it, separators taken out
SEPARATORS = r"[\s\-()（）.]"  # what people put between a phone's digits
_SERVICE = r"^\+86([48]00)(\d{3})(\d{4})$"  # 400 / 800 numbers: no area code
_TWO_DIGIT_AREA = r"^\+86(10|2\d)(\d{7,8})$"  # Beijing 010, and 020–029
_THREE_DIGIT_AREA = r"^\+86([3-9]\d{2})(\d{7,8})$"
_E164 = r"^\+[1-9]\d{6,14}$"


def _as_expr(phone: str | pl.Expr) -> pl.Expr:
    return pl.col(phone) if isinstance(phone, str) else phone


def _mobile(phone: pl.Expr) -> pl.Expr:
    """The 11 digits of a mainland mobile, E.164 or as a file carried it; null for any other number."""
    return phone.str.replace_all(SEPARATORS, "").str.extract(MOBILE_TEXT, 1)


def _grouped(subscriber: pl.Expr) -> pl.Expr:
    """A fixed line's own number: 8 digits as 4 4, 7 as 3 4."""
    cut = subscriber.str.len_chars() - 4
    return subscriber.str.head(cut) + " " + subscriber.str.tail(4)


def shown_phone(phone: str | pl.Expr) -> pl.Expr:
    """A stored phone as a person reads it (module docstring); "" for none, text that is no number as it is."""
    p = _as_expr(phone)
    mobile = _mobile(p)
    two, three = (p.str.extract(pattern, 1) for pattern in (_TWO_DIGIT_AREA, _THREE_DIGIT_AREA))
    area = pl.coalesce(two, three)
    subscriber = pl.coalesce(p.str.extract(_TWO_DIGIT_AREA, 2), p.str.extract(_THREE_DIGIT_AREA, 2))
    return (
        pl.when(mobile.is_not_null())
        .then(mobile.str.slice(0, 3) + " " + mobile.str.slice(3, 4) + " " + mobile.str.slice(7, 4))
        .when(p.str.contains(_SERVICE))
        .then(p.str.replace(_SERVICE, "$1 $2 $3"))
        .when(area.is_not_null())
        .then("0" + area + " " + _grouped(subscriber))
        .otherwise(p)
        .fill_null("")
    )


def masked_phone(phone: str | pl.Expr) -> pl.Expr:
    """`194****7822` for a mainland mobile, `****9988` for any other number, "" for none."""
    p = _as_expr(phone)
    mobile = _mobile(p)
    digits = p.str.replace_all(r"\D", "")
    return (
        pl.when(mobile.is_not_null())
        .then(mobile.str.head(3) + "****" + mobile.str.tail(4))
        .when(digits.str.len_chars() > 4)
        .then("****" + digits.str.tail(4))
        .when(p.str.len_chars() > 0)
        .then(pl.lit("****"))
        .otherwise(pl.lit(""))
    )


def tel_href(phone: str | pl.Expr) -> pl.Expr:
    """`tel:+8619459690635` for a stored (E.164) phone; "" for none or text that is no number."""
    p = _as_expr(phone)
    mobile = _mobile(p)
    return (
        pl.when(mobile.is_not_null())
        .then("tel:+86" + mobile)
        .when(p.str.contains(_E164))
        .then("tel:" + p)
        .otherwise(pl.lit(""))
    )


def with_shown_phones(frame: pl.DataFrame, column: str = "phone") -> pl.DataFrame:
    """`frame` with `column` as people read it (a writer's last step)."""
    return frame.with_columns(shown_phone(column).alias(column)) if column in frame.columns else frame


def one_phone(rule: Callable[[pl.Expr], pl.Expr], phone: str | None) -> str:
    """One phone through one of the rules above (`one_phone(masked_phone, p)`), for a message about one
    customer."""
    return str(pl.select(rule(pl.lit(phone, dtype=pl.String))).item())


def national_mobile(text: str | None) -> str | None:
    """A mainland mobile as its 11 digits (`+86 194-5969-0635` → `19459690635`: what WeCom and DingTalk take to
    @-mention someone); None when `text` is not one."""
    found = pl.select(_mobile(pl.lit(text, dtype=pl.String))).item()
    return str(found) if found else None
