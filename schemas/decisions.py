"""The manager's review workbook dropped back (reports/review.py). Its rows arrive with the customer, the
proposal and the date filled in, and 决定 pre-filled with the proposal; a row whose 决定 the manager left or
made empty is no decision and no error: it is "未决定 / undecided", counted per manager (经理工号), neither
loaded nor rejected — the customer is offered again on a later day, as an advisor's empty row is 未跟进
(schemas/returned_worklist.py)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.returned_worklist import cell_text, count_by_advisor
from schemas.validate import ROW


@dataclass(frozen=True)
class Prepared:
    decided: pl.DataFrame  # rows to validate as decisions
    undecided: dict[str, int]  # manager id (经理工号, "—" when blank) → rows whose 决定 is empty


def prepare(raw: pl.DataFrame) -> Prepared:
    """`raw` holds canonical text columns of a decisions sheet."""
    blank = cell_text(raw, "decision").is_null()
    undecided = raw.filter(blank).select(ROW, cell_text(raw, "decided_by").alias("advisor_id"))
    return Prepared(raw.filter(~blank), count_by_advisor(undecided))
