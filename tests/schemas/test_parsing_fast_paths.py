"""The direct paths of schemas/parsing.py (strptime for the common date forms, Polars for mainland mobiles,
the Polars CSV split) read exactly what the general route reads — they only make it cheaper (issue #8)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from adapters.readers import parse_csv
from schemas.parsing import _general_datetime, _phone_e164, parse_datetime, parse_phone

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31))
FORMS = [
    lambda m: m.strftime("%Y-%m-%d %H:%M:%S"),
    lambda m: m.strftime("%Y-%m-%d %H:%M"),
    lambda m: m.strftime("%Y-%m-%d"),
    lambda m: f"{m.year}/{m.month}/{m.day} {m.hour}:{m.minute:02d}",
    lambda m: f"{m.year}/{m.month}/{m.day}",
    lambda m: f"{m.year}-{m.month}-{m.day} {m.hour}:{m.minute}",
    lambda m: f"{m.year}年{m.month}月{m.day}日 {m:%H:%M}",
    lambda m: f"{m.year}/{m.month:02d}/{m.day:02d}  {m.hour}:{m.minute:02d}:{m.second:02d}",
]
ODD = ["2025/13/5", "2025-02-30", "2025-02-30 10:00", "12025-01-01", "2025/3/5 25:00", "45000", "45000.5",
       "2025-03-05T14:30:00", "2025-03-05 14:30:00.25", " 2025/3/5 ", "", "x", None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(moments, st.integers(0, len(FORMS) - 1)), min_size=1, max_size=30))
def test_direct_date_path_reads_what_the_general_pattern_reads(cases):
    texts = [FORMS[form](moment) for moment, form in cases] + ODD
    frame = pl.DataFrame({"c": texts}, schema={"c": pl.String})
    got = frame.select(parse_datetime("c"))
    general = frame.select(_general_datetime(pl.col("c").str.strip_chars().replace("", None)).alias("c"))
    assert got["c"].to_list() == general["c"].to_list()


def test_dates_by_hand():
    texts = ["2025/3/5 9:05", "2025-03-05", "2025/13/5", "2025年3月5日 09:05", None]
    got = pl.DataFrame({"c": texts}).select(parse_datetime("c"))["c"].to_list()
    assert got == [datetime(2025, 3, 5, 9, 5), datetime(2025, 3, 5), None, datetime(2025, 3, 5, 9, 5), None]


@pytest.mark.parametrize("text", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "8613812345678",
                                  "13812345678.0", "021-12345678", "+1 650 253 0000", "12345", "(0755)8888 1234"])
def test_phone_fast_path_agrees_with_phonenumbers(text):
    got = pl.DataFrame({"p": [text]}).select(parse_phone("p"))["p"].item()
    assert got == _phone_e164(text.removesuffix(".0"))


def _csv_module(text: str, delimiter: str) -> pl.DataFrame:
    rows = [[c if c != "" else None for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    width = max((len(r) for r in rows), default=0)
    padded = [r + [None] * (width - len(r)) for r in rows]
    return pl.DataFrame(padded, schema=dict.fromkeys([f"column_{i}" for i in range(width)], pl.String), orient="row")


cells = st.text(alphabet="ab1一 ;|", max_size=4)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(cells, max_size=5), min_size=1, max_size=8), st.sampled_from([",", ";"]),
       st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_plain_csv_split_matches_the_csv_module(rows, delimiter, newline, trailing):
    text = newline.join(delimiter.join(r) for r in rows) + (newline if trailing else "")
    if not text.strip():
        return  # an empty file is refused before parsing
    assert_frame_equal(parse_csv(text, delimiter), _csv_module(text, delimiter))
