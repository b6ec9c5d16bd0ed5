"""Phones as people read them (reports/phones.py): one form per kind of number, for every writer."""

from __future__ import annotations

import polars as pl
import pytest

from reports.phones import display_phone, display_phones, mask_phone, tel_href


@pytest.mark.parametrize(("stored", "shown", "href"), [
    ("+8613800138000", "138 0013 8000", "tel:+8613800138000"),  # a mainland mobile: 3-4-4
    ("13800138000", "138 0013 8000", "tel:+8613800138000"),  # text a file carried
    ("+861065529988", "010 6552 9988", "tel:+861065529988"),  # Beijing fixed line, area code first
    ("+862158881234", "021 5888 1234", "tel:+862158881234"),
    ("+85291234567", "+85291234567", "tel:+85291234567"),  # Hong Kong: E.164
    ("+14155552671", "+14155552671", "tel:+14155552671"),
    ("不详", "不详", ""),  # not a number: shown as typed, no link
    (None, "", ""),
])
def test_one_form_per_kind_of_number(stored: str | None, shown: str, href: str) -> None:
    assert display_phone(stored) == shown
    assert tel_href(stored) == href


def test_a_column_is_formatted_as_each_value_is() -> None:
    stored = ["+8613800138000", None, "+861065529988", "+85291234567", "+8613800138000"]
    got = display_phones(pl.Series("phone", stored))
    assert got.name == "phone"
    assert got.to_list() == ["138 0013 8000", "", "010 6552 9988", "+85291234567", "138 0013 8000"]


@pytest.mark.parametrize(("stored", "masked"), [
    ("+8613800138000", "138****8000"), ("+861065529988", "****9988"), ("+85291234567", "****4567"), (None, ""),
])
def test_masked_for_a_digest(stored: str | None, masked: str) -> None:
    assert mask_phone(stored) == masked
