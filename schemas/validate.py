"""Validation at the boundary: canonical text columns in, typed rows out, and every bad row rejected with the
column at fault and a reason in Chinese and English — all failures of a file gathered in one pass."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from schemas.columns import ROW as ROW  # re-exported: the readers and the rejects know it from here
from schemas.columns import Kind, Parse
from schemas.models import MODELS
from schemas.parsing import (
    EXCEL_CHECKED,
    EXCEL_HINT,
    EXCEL_REASONS,
    MONTH_DAY,
    PARSERS,
    REASONS,
    excel_damage,
    padded_example,
    with_year,
)

SHEET = "__sheet"

REJECT_SCHEMA = {ROW: pl.Int64, "column": pl.String, "reason_zh": pl.String, "reason_en": pl.String,
                 "hint": pl.String}  # hint: how a clerk fixes the cell, in Chinese
HINTS = {  # per parse kind: what the cell should hold (schemas/parsing.py reads these forms)
    Parse.DATETIME: "日期请写成 2025-03-05 或 2025/3/5（可带时间，如 2025-03-05 14:30）",
    Parse.DATE: "日期请写成 2025-03-05 或 2025/3/5",
    Parse.PHONE: "手机号应为 11 位数字，如 13800138000；座机请带区号，如 021-12345678",
    Parse.BOOL: "请填 是 或 否",
    Parse.AMOUNT: "请填数字，如 158800 或 15.88万",
    Parse.GRADE: "请填 S、A、B、C、D（本田体系可用 O、H）中的一个",
    Parse.ROLE: "请填 销售顾问、服务顾问 或 经理",
    Parse.VIN: "车架号应为 17 位字母和数字（不含 I、O、Q）",
    Parse.DECISION: "请在下拉框里选 改派、战败、勿扰 或 保持",
    Parse.ADVISOR_REF: "请填顾问工号，如 S002（可带姓名：S002 李四），或从下拉框里选",
}
REQUIRED_HINT = "此项必须填写"


@dataclass(frozen=True)
class Validated:
    loaded: pl.DataFrame  # typed canonical columns + ROW, SHEET
    rejects: pl.DataFrame  # one row per failure: ROW, column, reason_zh, reason_en, hint
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))  # loaded, told


def label(kind: Kind, column: str) -> str:
    """The column as a Chinese clerk knows it: its first alias (`phone` → 联系电话)."""
    names = [c for c in kind.columns if c.name == column]
    return names[0].aliases[0] if names and names[0].aliases else column


def _allowed(check: str) -> list[str]:
    """`isin(['已接通', '未接通'])` → ['已接通', '未接通'] (pandera names a check after its arguments)."""
    try:
        values = ast.literal_eval(check[len("isin("):-1])
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in values]


_BOUNDS = {"greater_than_or_equal_to": "不能小于", "greater_than": "应大于", "less_than_or_equal_to": "不能大于",
           "less_than": "应小于"}


def _check_reason(kind: Kind, check: str, column: str) -> tuple[str, str, str]:
    """(reason in Chinese, in English, the fix hint) of a failed model check; no internal names in Chinese."""
    if check == "not_nullable":
        return "必填项为空", "required value is empty", REQUIRED_HINT
    if check.startswith("str_matches"):
        return "格式不正确", "not in the expected format", HINTS.get(kind.column(column).parse, "")
    if check.startswith("isin"):
        allowed = "、".join(_allowed(check))
        return "不是允许的取值", f"not one of {allowed}", f"请从以下取值中选一个：{allowed}"
    for name, words in _BOUNDS.items():
        if check.startswith(name + "("):
            bound = check[len(name) + 1:-1]
            fix = f"请填{words.replace('不能', '不')} {bound} 的数"
            return f"数值{words} {bound}", f"out of range: {check}", fix
    if check.startswith("in_range"):
        return "数值超出范围", f"out of range: {check}", "请检查数值是否填错"
    if check.startswith("field_uniqueness") or check == "unique":
        return "编号重复", "duplicate id", "同一编号在文件中只能出现一次"
    if "|" in check:
        a, b = check.split("|")
        either = f"{label(kind, a)} 和 {label(kind, b)}"
        en = f"one of {label(kind, a)} or {label(kind, b)} is required"
        return f"{either} 至少填写一项", en, f"请填写{either}中的至少一项"
    return check, check, ""


def _text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.strip_chars()


def _yearless(kind: Kind, raw: pl.DataFrame) -> dict[str, pl.Series]:
    """Per column read relative to another (`Col.year_from`), which of its cells were typed without a year."""
    return {c.name: raw.select(_text(c.name).str.contains(MONTH_DAY).fill_null(False)).to_series()
            for c in kind.columns if c.year_from and c.name in raw.columns and c.year_from in raw.columns}


def parse(kind: Kind, raw: pl.DataFrame) -> pl.DataFrame:
    """Parse the canonical text columns of `raw`; missing optional columns come back as nulls. A date typed
    without its year (`11/28`) is read in the year nearest its row's own date (`Col.year_from`)."""
    for name, typed in _yearless(kind, raw).items():
        if typed.any():
            near = kind.column(name).year_from or name
            raw = raw.with_columns(with_year(_text(name), PARSERS[kind.column(near).parse](near)).alias(name))
    present = [c for c in kind.columns if c.name in raw.columns]
    missing = [c for c in kind.columns if c.name not in raw.columns]
    frame = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c.name) for c in missing)
    return frame.with_columns(PARSERS[c.parse](c.name) for c in (*present, *missing))


def _parse_failures(kind: Kind, raw: pl.DataFrame, parsed: pl.DataFrame) -> pl.DataFrame:
    """Cells that held text the parser could not read: a value that was there must not silently vanish."""
    frames = []
    for col in kind.columns:
        if col.parse not in REASONS or col.name not in raw.columns:
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
                    "reason_zh": f"{zh}「" + original + "」",
                    "reason_en": f"{en} '" + original + "'",
                    "hint": HINTS[col.parse],
                },
                schema=REJECT_SCHEMA,
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=REJECT_SCHEMA)


def _excel_reason(lang: int) -> pl.Expr:
    """The reason of a cell of `_excel_failures` in Chinese (0) or English (1): its `damage`'s text, filled in."""
    text = pl.col("damage").replace_strict({code: texts[lang] for code, texts in EXCEL_REASONS.items()},
                                           return_dtype=pl.String)
    return _filled(text, "value", "example", "width")


def _filled(text: pl.Expr, *columns: str) -> pl.Expr:
    """`text` with each `{column}` in it replaced by that column's value of the row."""
    for name in columns:
        text = text.str.replace("{" + name + "}", pl.col(name).cast(pl.String).fill_null(""), literal=True)
    return text


def _excel_failures(kind: Kind, raw: pl.DataFrame) -> pl.DataFrame:
    """Cells whose number Excel mangled (schemas/parsing.py, `EXCEL_CHECKED`): their digits are lost, so the row
    is rejected, with what happened and what to do — never loaded as a guess."""
    found = []
    for col in kind.columns:
        if col.parse not in EXCEL_CHECKED or col.name not in raw.columns:
            continue
        damage = excel_damage(raw[col.name], EXCEL_CHECKED[col.parse])
        if damage.is_null().all():
            continue
        example = padded_example(raw[col.name]) or ""
        found.append(raw.select(ROW, pl.lit(col.name).alias("column"),
                                pl.col(col.name).cast(pl.String).str.strip_chars().alias("value"),
                                damage.alias("damage"), pl.lit(example).alias("example"),
                                pl.lit(str(len(example))).alias("width")).filter(pl.col("damage").is_not_null()))
    if not found:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    return pl.concat(found).select(ROW, "column", _excel_reason(0).alias("reason_zh"),
                                   _excel_reason(1).alias("reason_en"), pl.lit(EXCEL_HINT).alias("hint"))


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
        zh, en, hint = _check_reason(kind, case["check"], column)
        value = case.get("failure_case")
        if value is not None and case["check"].startswith(("isin", "str_matches")):
            zh, en = f"{zh}「{value}」", f"{en}: '{value}'"
        rows.append((parsed[ROW][case["index"]], column, zh, en, hint))
    return pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row")


BEFORE_ITS_ROW = (
    "{column}「{typed}」没写年份，按{near}（{near_day}）读作 {read}：早于{near}，不算约定的下次跟进",
    "'{typed}' has no year: read as {read}, the nearest to its row's date ({near_day}); that is before the row, "
    "so it is no promise",
)
BEFORE_ITS_ROW_HINT = "如果指的是明年，请写完整日期，如 {next_year}"


def _yearless_warnings(kind: Kind, raw: pl.DataFrame, parsed: pl.DataFrame) -> pl.DataFrame:
    """Loaded rows whose date typed without a year reads before its row's own date (`11/28` on a contact of
    12-03): never moved a year ahead in silence — the row loads, and says so."""
    frames = []
    for name, typed in _yearless(kind, raw).items():
        near = kind.column(name).year_from or name
        read, near_day = parsed[name].dt.date(), parsed[near].dt.date()
        before = typed & (read < near_day).fill_null(False)
        if not before.any():
            continue
        rows = pl.DataFrame({ROW: parsed[ROW], "typed": raw[name].cast(pl.String).str.strip_chars(),
                             "read": read, "near_day": near_day}).filter(before)
        rows = rows.with_columns(pl.col("read").dt.offset_by("1y").alias("next_year"))
        texts = (t.replace("{column}", label(kind, name)).replace("{near}", label(kind, near))
                 for t in (*BEFORE_ITS_ROW, BEFORE_ITS_ROW_HINT))
        zh, en, hint = (_filled(pl.lit(t), "typed", "near_day", "read", "next_year") for t in texts)
        frames.append(rows.select(ROW, pl.lit(name).alias("column"), zh.alias("reason_zh"), en.alias("reason_en"),
                                  hint.alias("hint")))
    return pl.concat(frames) if frames else pl.DataFrame(schema=REJECT_SCHEMA)


def validate(kind: Kind, raw: pl.DataFrame) -> Validated:
    """Split `raw` (canonical text columns, ROW, SHEET) into typed loaded rows and rejects with reasons."""
    parsed = parse(kind, raw)
    mangled = _excel_failures(kind, raw)
    # a number Excel mangled may also be unreadable or fail the model's checks: say only what Excel did
    unreadable = pl.concat([mangled, _parse_failures(kind, raw, parsed).join(mangled, on=[ROW, "column"], how="anti")])
    # a value that could not be read also fails the model's checks; say only why it could not be read
    checks = _model_failures(kind, parsed).join(unreadable, on=[ROW, "column"], how="anti")
    failures = pl.concat([unreadable, checks]).unique(maintain_order=True).sort(ROW, maintain_order=True)
    loaded = parsed.filter(~pl.col(ROW).is_in(failures[ROW].implode()))
    warnings = _yearless_warnings(kind, raw, parsed).filter(~pl.col(ROW).is_in(failures[ROW].implode()))
    return Validated(loaded=loaded, rejects=failures, warnings=warnings)
