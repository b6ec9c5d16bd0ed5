"""An advisor's worklist workbook dropped back after the calls (SPEC §6: "the filled-in workbook can be dropped
back as `followups`"). It reads as follow-ups through the usual aliases (by header name, never by position);
rules of its own (issue #13):

- a row the advisor left empty (no 跟进时间, 跟进结果, 下次跟进时间 or 沟通内容) is no follow-up and no error: it
  is "未跟进 / not worked", counted per advisor;
- a filled row without 跟进时间 was contacted when the workbook was filled in (the file's own time);
- a next date typed as advisors type it — `12月6日`, `12/6`, `12.6`, `12-6` — is read in the year that puts it
  nearest its contact, as in every follow-up file (`Col.year_from`, schemas/validate.py);
- a row whose outcome is valid but whose next date cannot be read still loads the contact: the date is dropped
  and reported as a warning row (the row is loaded, not rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from schemas.columns import normalise_header
from schemas.parsing import MONTH_DAY, parse_datetime
from schemas.validate import REJECT_SCHEMA, ROW
from schemas.vocab import OUTCOMES

# headers only genjin's own worklist workbook carries (reports/workbook.py)
SIGNATURE = tuple(normalise_header(h) for h in ("跟进事项", "客户编号", "逾期天数"))
FILLED_IN = ("contacted_at", "outcome", "next_followup_at", "summary")
RETURNED = "returned_workbook"  # the follow-ups' `entry`: the digest counts who returned their workbook
UNREAD_DATE = ("下次跟进时间无法识别「{}」：本次跟进已载入，但没有安排下次跟进",
               "next follow-up date not readable '{}': the contact was loaded without a next date")
DATE_HINT = "下次跟进日期请写成 2025-12-06、12月6日 或 12/6；这一行的跟进已载入，无需重交"


@dataclass(frozen=True)
class Prepared:
    filled: pl.DataFrame  # rows to validate as follow-ups
    not_worked: pl.DataFrame  # ROW, advisor_id of the rows left empty
    warnings: pl.DataFrame  # REJECT_SCHEMA: loaded rows with a part that was dropped


def is_returned_worklist(header_cells: list[str | None]) -> bool:
    present = {normalise_header(c) for c in header_cells if c}
    return set(SIGNATURE) <= present


def count_by_advisor(not_worked: pl.DataFrame) -> dict[str, int]:
    """Rows left empty per advisor (advisor id, or "—" when the row has none)."""
    counts = not_worked.group_by(pl.col("advisor_id").fill_null("—")).len().sort("advisor_id")
    return dict(counts.iter_rows())


def cell_text(raw: pl.DataFrame, col: str) -> pl.Expr:
    """A canonical text column, stripped, an empty cell null (a column the sheet lacks: null)."""
    if col not in raw.columns:
        return pl.lit(None, pl.String)
    return pl.col(col).cast(pl.String).str.strip_chars().replace("", None)


def prepare(raw: pl.DataFrame, filled_at: datetime) -> Prepared:
    """`raw` holds canonical text columns of the returned sheet."""
    present = [c for c in FILLED_IN if c in raw.columns]
    blank = pl.all_horizontal(cell_text(raw, c).is_null() for c in present)
    not_worked = raw.filter(blank).select(ROW, cell_text(raw, "advisor_id").alias("advisor_id"))
    stamp = filled_at.strftime("%Y-%m-%d %H:%M:%S")
    filled = raw.filter(~blank).with_columns(
        pl.coalesce(cell_text(raw, "contacted_at"), pl.lit(stamp)).alias("contacted_at"))
    if "next_followup_at" not in filled.columns:
        return Prepared(filled, not_worked, pl.DataFrame(schema=REJECT_SCHEMA))
    typed = cell_text(filled, "next_followup_at")
    unreadable = (
        typed.is_not_null()
        & parse_datetime("next_followup_at").is_null()
        & ~typed.str.contains(MONTH_DAY)  # read in the year of its contact (schemas.validate)
        & cell_text(filled, "outcome").is_in(list(OUTCOMES))
    )
    dropped = filled.filter(unreadable)
    warnings = pl.DataFrame(
        {
            ROW: dropped[ROW],
            "column": "next_followup_at",
            "reason_zh": [UNREAD_DATE[0].format(v) for v in dropped["next_followup_at"]],
            "reason_en": [UNREAD_DATE[1].format(v) for v in dropped["next_followup_at"]],
            "hint": DATE_HINT,
        },
        schema=REJECT_SCHEMA,
    )
    filled = filled.with_columns(pl.when(unreadable).then(None).otherwise(pl.col("next_followup_at"))
                                 .alias("next_followup_at"),
                                 pl.lit(RETURNED).alias("entry"))
    return Prepared(filled, not_worked, warnings)
