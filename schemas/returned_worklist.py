"""An advisor's worklist workbook dropped back after the calls (SPEC §6: "the filled-in workbook can be dropped
back as `followups`"). It reads as follow-ups through the usual aliases; two rules are its own:

- a row the advisor left empty (no 跟进时间, 跟进结果, 下次跟进时间 or 沟通内容) is not a follow-up: it is rejected
  with that reason, so the rejects file tells ops which customers were not called;
- a filled row without 跟进时间 was contacted when the workbook was filled in (the file's own time).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from schemas.columns import normalise_header
from schemas.validate import REJECT_SCHEMA, ROW

# headers only genjin's own worklist workbook carries (reports/workbook.py)
SIGNATURE = tuple(normalise_header(h) for h in ("跟进事项", "客户编号", "逾期天数"))
FILLED_IN = ("contacted_at", "outcome", "next_followup_at", "summary")
RETURNED = "returned_workbook"  # the follow-ups' `entry`: the digest counts who returned their workbook


def is_returned_worklist(header_cells: list[str | None]) -> bool:
    present = {normalise_header(c) for c in header_cells if c}
    return set(SIGNATURE) <= present


def prepare(raw: pl.DataFrame, filled_at: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to validate as follow-ups, rejects of the rows left empty). `raw` holds canonical text columns."""
    present = [c for c in FILLED_IN if c in raw.columns]
    blank = pl.all_horizontal(pl.col(c).cast(pl.String).str.strip_chars().fill_null("") == "" for c in present)
    empty_rows = raw.filter(blank)
    rejects = pl.DataFrame(
        {
            ROW: empty_rows[ROW],
            "column": "outcome",
            "reason_zh": "未填写跟进结果，不作为跟进记录 / 该客户尚未跟进",
            "reason_en": "not filled in: no outcome, time, next date or note — not a follow-up",
        },
        schema=REJECT_SCHEMA,
    )
    stamp = filled_at.strftime("%Y-%m-%d %H:%M:%S")
    contacted = pl.col("contacted_at") if "contacted_at" in raw.columns else pl.lit(None, pl.String)
    filled = raw.filter(~blank).with_columns(
        pl.coalesce(contacted.cast(pl.String).str.strip_chars().replace("", None), pl.lit(stamp)).alias(
            "contacted_at"
        )
    )
    return filled.with_columns(pl.lit(RETURNED).alias("entry")), rejects
