"""The manager's review workbook dropped back (reports/review.py). Every row of it arrives pre-filled with the
customer, the proposal and the date; a row whose 决定 the manager left empty is no decision: it is rejected
with that reason, so the rejects file shows which proposals were not decided."""

from __future__ import annotations

import polars as pl

from schemas.validate import REJECT_SCHEMA, ROW


def prepare(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to validate as decisions, rejects of the rows with no decision). `raw` holds canonical text."""
    blank = pl.col("decision").cast(pl.String).str.strip_chars().fill_null("") == ""
    empty_rows = raw.filter(blank)
    rejects = pl.DataFrame(
        {
            ROW: empty_rows[ROW],
            "column": "decision",
            "reason_zh": "未填写决定（改派/战败/勿扰/保持），本行不生效",
            "reason_en": "no decision filled in (reassign/lost/do not contact/keep): nothing changes",
            "hint": "在「决定」列的下拉框里选 改派、战败、勿扰 或 保持，再把工作簿放回投放目录",
        },
        schema=REJECT_SCHEMA,
    )
    return raw.filter(~blank), rejects
