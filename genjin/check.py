"""`genjin check FILE...`: what tonight's run would do with each file, for ops staff, without loading,
moving or writing anything (SPEC §9).

For each file: the kind of each sheet, how many rows would load, every row that would be rejected (sheet,
Excel row number, column, reason), the rows that would load with a warning (dated after the night, a next date
without its year that reads before its row), or why the whole file would be quarantined. All of it in Chinese and
English.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TextIO

from adapters.failures import is_contained, one_line
from adapters.ingest import FileLoad, SheetLoad, file_warnings, load_file
from schemas.columns import KIND_BY_NAME
from schemas.validate import ROW


def _kind_label(kind: str) -> str:
    spec = KIND_BY_NAME.get(kind)
    return f"{spec.label} / {kind}" if spec else kind


def _sheet_lines(sheet: SheetLoad) -> list[str]:
    rows_loaded = sheet.loaded.height
    lines = [
        f"  工作表「{sheet.sheet}」：{_kind_label(sheet.kind)}；共 {sheet.rows_in} 行，"
        f"可载入 {rows_loaded} 行，拒绝 {sheet.rows_rejected} 行 / "
        f"sheet '{sheet.sheet}': {sheet.kind}; {sheet.rows_in} rows in, {rows_loaded} would load, "
        f"{sheet.rows_rejected} rejected"
    ]
    if sheet.rows_in == 0:
        lines.append("    没有数据行（只有表头）/ no data rows (only the header)")
    if sheet.rows_not_worked:
        lines.append(f"    未跟进 {sheet.rows_not_worked} 行（顾问未填写，不算错误）/ "
                     f"{sheet.rows_not_worked} rows not worked (left empty by the advisor; not errors)")
    if sheet.rows_undecided:
        lines.append(f"    未决定 {sheet.rows_undecided} 行（经理未填“决定”，不算错误，以后几天会再列出）/ "
                     f"{sheet.rows_undecided} rows undecided (决定 left empty by the manager; not errors)")
    marked = [("✗", sheet.rejects), ("!", sheet.warnings)]
    for mark, failures in marked:
        for failure in failures.sort(ROW, maintain_order=True).iter_rows(named=True):
            column = sheet.header_of(failure["column"])
            hint = f"。{failure['hint']}" if failure["hint"] else ""
            lines.append(
                f"    {mark} 第 {failure[ROW]} 行「{column}」：{failure['reason_zh']}{hint} / "
                f"row {failure[ROW]}, column '{column}': {failure['reason_en']}"
            )
    return lines


def _file_lines(load: FileLoad, as_of: date | None) -> list[str]:
    lines = [f"文件 / file: {load.path}"]
    if load.status == "quarantined":
        lines.append(f"  将被隔离 / would be quarantined: {load.why}")
        return lines
    for sheet in load.sheets:
        lines.extend(_sheet_lines(sheet))
    for name in load.skipped_sheets:
        lines.append(f"  工作表「{name}」：未识别表头，跳过 / sheet '{name}': no known header, skipped")
    lines.append(
        f"  合计：共 {load.rows_in} 行，可载入 {load.rows_loaded} 行，拒绝 {load.rows_rejected} 行 / "
        f"total: {load.rows_in} rows in, {load.rows_loaded} would load, {load.rows_rejected} rejected"
    )
    for warning in file_warnings(load, as_of) if as_of is not None else []:
        lines.append(f"  ! {warning['zh']}\n    {warning['en']}")
    return lines


def _fails(load: FileLoad) -> bool:
    return load.status == "quarantined" or load.rows_rejected > 0


def _check_one(path: Path, as_of: date | None) -> tuple[list[str], bool]:
    if not path.is_file():
        return [f"文件 / file: {path}", "  文件不存在或不是文件 / no such file"], True
    try:
        load = load_file(path, as_of=as_of)
    except BaseException as err:  # a Rust panic too (adapters/failures.py): the other files are still checked
        if not is_contained(err):
            raise
        return [f"文件 / file: {path}", f"  检查时出错 / the check failed: {one_line(err)}"], True
    return _file_lines(load, as_of), _fails(load)


def check(paths: list[Path], out: TextIO, as_of: date | None = None) -> int:
    """Print what the night of `as_of` would do with `paths` (without it, no row is judged by its date); 1 if
    any row would be rejected or any file quarantined (rows that would load with a warning do not fail it)."""
    failed = False
    if as_of is not None:
        out.write(f"按 {as_of.isoformat()} 这一晚的运行检查 / checked as the night of {as_of.isoformat()}\n")
    for path in paths:
        lines, fails = _check_one(Path(path), as_of)
        out.write("\n".join(lines) + "\n")
        failed = failed or fails
    verdict = "有问题，见上 / problems found, see above" if failed else "全部可载入 / everything would load"
    out.write(f"结论 / result: {verdict}\n")
    return 1 if failed else 0
