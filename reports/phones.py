"""Phones as the people who read genjin's outputs write them — one formatter for every writer (worklist.csv,
workbooks, emails, digests). The history and the customer id keep E.164 (`+8613800138000`); what a person reads:

- a mainland mobile in 3-4-4 groups, `138 0013 8000`: how Chinese users write a mobile on a card, in WeChat or on
  a call sheet, and how China's phones show it while dialling — read off paper and typed in by hand without
  losing a digit; dialler apps and the follow-up reader (`schemas/parsing.py`) ignore the spaces, and a cell of
  digits and spaces stays text in Excel (no `1.38E+10`, no formula guard needed as for `+86…`);
- a mainland fixed line as it is written at home, area code first: `010 6552 9988`;
- a foreign number in E.164 (`+85291234567`), since its country code is the one thing the caller must not drop;
- masked for a manager's digest, the middle digits hidden: `138****8000`;
- in HTML, a `tel:` link to the E.164 number (`tel_href`), so a phone's mail app dials it with one tap.
"""

from __future__ import annotations

import re

import phonenumbers
import polars as pl

from schemas.parsing import valid_number

MOBILE = r"^\+861\d{10}$"


def display_phone(phone: str | None) -> str:
    """One stored phone (E.164, or text a file carried) as a person reads it; "" for none."""
    if not phone:
        return ""
    text = phone.strip()
    number = valid_number(text)
    if number is None:
        return text
    if number.country_code == 86:
        national = str(number.national_number)
        if len(national) == 11 and national.startswith("1"):
            return f"{national[:3]} {national[3:7]} {national[7:]}"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phones(phones: pl.Series) -> pl.Series:
    """`display_phone` over a column: mainland mobiles in Polars, the few others one by one."""
    mobile = phones.str.contains(MOBILE).fill_null(False)
    grouped = pl.concat_str(
        [phones.str.slice(3, 3), phones.str.slice(6, 4), phones.str.slice(10, 4)], separator=" "
    )
    others = phones.filter(~mobile & phones.is_not_null()).unique()
    table = {value: display_phone(value) for value in others.to_list()}
    return (
        pl.select(
            pl.when(mobile).then(grouped).otherwise(phones.replace_strict(table, default=None, return_dtype=pl.String))
        )
        .to_series()
        .fill_null("")
        .alias(phones.name)
    )


def with_display_phones(frame: pl.DataFrame, column: str = "phone") -> pl.DataFrame:
    """`frame` with `column` as people read it (the writers' last step)."""
    if column not in frame.columns:
        return frame
    return frame.with_columns(display_phones(frame[column]))


def mask_phone(phone: str | None) -> str:
    """For a digest: a mainland mobile → `138****8000` (the masking Chinese apps and bank SMS use, kept without
    spaces so it is never mistaken for a number to dial); any other number keeps only its last four digits
    (`****1234`)."""
    shown = display_phone(phone)
    digits = "".join(c for c in shown if c.isdigit())
    if re.fullmatch(r"1\d{2} \d{4} \d{4}", shown):
        return f"{digits[:3]}****{digits[-4:]}"
    return "****" + digits[-4:] if len(digits) > 4 else ("****" if shown else "")


def tel_href(phone: str | None) -> str:
    """The `tel:` address of a stored phone: E.164 when it parses, "" when it does not."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone.strip(), "CN")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
