"""Phones as people read them (schemas/phones.py): one form per kind of number, for every writer; the forms are
written out by hand here, as a Chinese user writes each number."""

from __future__ import annotations

import polars as pl
import pytest

from schemas.phones import masked_phone, national_mobile, one_phone, shown_phone, tel_href, with_shown_phones

# every mainland mobile block, 13x to 19x: 145/147 (data cards), 154 and 194 (which phonenumbers 9.0.43 calls
# invalid), 162/165/166/167 (virtual operators), 199
MOBILES = [
    ("+8613800138000", "138 0013 8000", "138****8000"),
    ("+8614512347822", "145 1234 7822", "145****7822"),
    ("+8614787654321", "147 8765 4321", "147****4321"),
    ("+8615459690635", "154 5969 0635", "154****0635"),
    ("+8616212345678", "162 1234 5678", "162****5678"),
    ("+8616698765432", "166 9876 5432", "166****5432"),
    ("+8617012345678", "170 1234 5678", "170****5678"),
    ("+8618800001111", "188 0000 1111", "188****1111"),
    ("+8619459697822", "194 5969 7822", "194****7822"),
    ("+8619912345678", "199 1234 5678", "199****5678"),
]


@pytest.mark.parametrize(("stored", "shown", "masked"), MOBILES)
def test_every_mainland_mobile_block_reads_3_4_4_and_masks_to_its_ends(stored: str, shown: str, masked: str) -> None:
    assert one_phone(shown_phone, stored) == shown
    assert one_phone(masked_phone, stored) == masked
    assert one_phone(tel_href, stored) == "tel:" + stored


@pytest.mark.parametrize(("stored", "shown", "href", "masked"), [
    ("13800138000", "138 0013 8000", "tel:+8613800138000", "138****8000"),  # text a file carried
    ("+861065529988", "010 6552 9988", "tel:+861065529988", "****9988"),  # Beijing fixed line, area code first
    ("+862158881234", "021 5888 1234", "tel:+862158881234", "****1234"),  # Shanghai
    ("+8675512345678", "0755 1234 5678", "tel:+8675512345678", "****5678"),  # Shenzhen: a 4-digit area code
    ("+869011234567", "0901 123 4567", "tel:+869011234567", "****4567"),  # a 7-digit number
    ("+864008001234", "400 800 1234", "tel:+864008001234", "****1234"),  # a service number has no area code
    ("+85291234567", "+85291234567", "tel:+85291234567", "****4567"),  # Hong Kong: E.164
    ("+14155552671", "+14155552671", "tel:+14155552671", "****2671"),
    ("不详", "不详", "", "****"),  # not a number: shown as typed, no link
    (None, "", "", ""),
])
def test_one_form_per_kind_of_number(stored: str | None, shown: str, href: str, masked: str) -> None:
    assert one_phone(shown_phone, stored) == shown
    assert one_phone(tel_href, stored) == href
    assert one_phone(masked_phone, stored) == masked


def test_a_column_is_formatted_in_one_pass_as_each_value_is() -> None:
    stored = ["+8619459690635", None, "+861065529988", "+85291234567", "+8616612345678"]
    frame = with_shown_phones(pl.DataFrame({"phone": stored, "n": range(5)}))
    assert frame.columns == ["phone", "n"]
    assert frame["phone"].to_list() == ["194 5969 0635", "", "010 6552 9988", "+85291234567", "166 1234 5678"]
    masked = pl.DataFrame({"phone": stored}).select(masked_phone("phone"))
    assert masked.to_series().to_list() == ["194****0635", "", "****9988", "****4567", "166****5678"]
    assert with_shown_phones(pl.DataFrame({"n": [1]})).columns == ["n"]  # no phone column: as it was


@pytest.mark.parametrize(("text", "mobile"), [
    ("+8613800138000", "13800138000"), ("138-0013-8000", "13800138000"), ("008613800138000", "13800138000"),
    ("+86 194-5969-0635", "19459690635"), ("166 1234 5678", "16612345678"), ("14512347822", "14512347822"),
    ("021-12345678", None), ("12345678901", None), (None, None),
])
def test_national_mobile(text: str | None, mobile: str | None) -> None:
    assert national_mobile(text) == mobile
