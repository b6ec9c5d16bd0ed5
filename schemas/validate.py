"""Validation at the boundary: canonical text columns in, typed rows out, and every bad row rejected with the
column at fault and a reason in Chinese and English — all failures of a file gathered in one pass."""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from schemas.columns import Kind, Parse
from schemas.models import MODELS
from schemas.parsing import PARSERS, REASONS

ROW = "__row"  # the row number as Excel shows it
SHEET = "__sheet"

REJECT_SCHEMA = {ROW: pl.Int64, "column": pl.String, "reason_zh": pl.String, "reason_en": pl.String}


@dataclass(frozen=True)
class Validated:
    loaded: pl.DataFrame  # typed canonical columns + ROW, SHEET
    rejects: pl.DataFrame  # one row per failure: ROW, column, reason_zh, reason_en


def _check_reason(check: str, column: str) -> tuple[str, str]:
    if check == "not_nullable":
        return "必填项为空", f"required value {column} is empty"
    if check.startswith("str_matches"):
        return "格式不正确", f"{column} is not in the expected format"
    if check.startswith("isin"):
        allowed = check[len("isin(") : -1]
        return f"不是允许的取值 {allowed}", f"{column} is not one of {allowed}"
    if check.startswith(("greater_than", "less_than", "in_range")):
        return f"数值超出范围 {check}", f"{column} out of range: {check}"
    if check.startswith("field_uniqueness") or check == "unique":
        return "编号重复", f"duplicate {column}"
    if "|" in check:
        a, b = check.split("|")
        return f"{a} 和 {b} 至少填写一项", f"one of {a} or {b} is required"
    return check, check


def parse(kind: Kind, raw: pl.DataFrame) -> pl.DataFrame:
    """Parse the canonical text columns of `raw`; missing optional columns come back as nulls."""
    present = [c for c in kind.columns if c.name in raw.columns]
    missing = [c for c in kind.columns if c.name not in raw.columns]
    frame = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c.name) for c in missing)
    return frame.with_columns(PARSERS[c.parse](c.name) for c in (*present, *missing))


def _parse_failures(kind: Kind, raw: pl.DataFrame, parsed: pl.DataFrame) -> pl.DataFrame:
    """Cells that held text the parser could not read: a value that was there must not silently vanish."""
    frames = []
    for col in kind.columns:
        if col.parse is Parse.TEXT or col.name not in raw.columns:
            continue
        zh, en = REASONS[col.parse]
        text = raw[col.name].cast(pl.String).str.strip_chars()
        bad = text.is_not_null() & (text != "") & parsed[col.name].is_null()
        original = text.filter(bad)
        frames.append(
            pl.DataFrame(
                {
                    ROW: raw[ROW].filter(bad),
                    "column": col.name,
                    "reason_zh": f"{kind.label}·{col.name}：{zh}「" + original + "」",
                    "reason_en": f"{col.name}: {en} '" + original + "'",
                },
                schema=REJECT_SCHEMA,
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=REJECT_SCHEMA)


def _model_failures(kind: Kind, parsed: pl.DataFrame) -> pl.DataFrame:
    try:
        MODELS[kind.name].validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    rows = []
    for case in cases.iter_rows(named=True):
        if case["index"] is None:  # a schema-level failure has no row: it is the whole file's problem
            raise ValueError(f"{kind.name}: {case['check']} on {case['column']}")
        column = case["column"] if case["schema_context"] == "Column" else case["check"].replace("|", "/")
        zh, en = _check_reason(case["check"], column)
        rows.append((parsed[ROW][case["index"]], column, f"{column}：{zh}", en))
    return pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row")


def validate(kind: Kind, raw: pl.DataFrame) -> Validated:
    """Split `raw` (canonical text columns, ROW, SHEET) into typed loaded rows and rejects with reasons."""
    parsed = parse(kind, raw)
    unreadable = _parse_failures(kind, raw, parsed)
    # a value that could not be read also fails the model's checks; say only why it could not be read
    checks = _model_failures(kind, parsed).join(unreadable, on=[ROW, "column"], how="anti")
    failures = pl.concat([unreadable, checks]).unique(maintain_order=True).sort(ROW, maintain_order=True)
    loaded = parsed.filter(~pl.col(ROW).is_in(failures[ROW].implode()))
    return Validated(loaded=loaded, rejects=failures)
