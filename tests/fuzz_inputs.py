"""A seeded generator of drop folders as careless exports would make them (issue #12): small valid exports of
every kind, then mutated — control characters, emoji, 40,000-character cells, formulas, impossible dates,
re-encoded and ragged CSVs, truncated bytes, flipped bytes, deleted zip members, odd and over-long names, empty
and hidden sheets. The same seed gives the same folder, byte for byte (file times aside).

Used by tests/flows/test_night_isolation.py; by hand: `python -m tests.fuzz_inputs DIR --seed N --files K`."""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import xlsxwriter

Row = list[str | None]

HEADERS = {
    "leads": ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号", "客户级别", "客户来源"],
    "followups": ["线索编号", "销售顾问工号", "跟进时间", "跟进方式", "跟进结果", "沟通内容", "下次跟进时间"],
    "sales": ["订单号", "联系电话", "客户姓名", "销售顾问工号", "订车日期", "门店", "交车日期", "成交价"],
    "service": ["工单号", "进厂日期", "门店", "联系电话", "客户姓名", "维修类型", "服务顾问工号", "满意度"],
    "advisors": ["顾问编号", "姓名", "门店", "岗位", "邮箱", "上级工号"],
}
STORES = ("城东店", "城西店")
ADVISORS = (("A01", "张伟", "城东店", "销售顾问", "M01"), ("A02", "李娜", "城东店", "服务顾问", "M01"),
            ("A03", "王强", "城西店", "销售顾问", "M02"), ("M01", "赵敏", "城东店", "销售经理", ""),
            ("M02", "钱进", "城西店", "销售经理", ""))

# what careless hands put into cells
CONTROL = [chr(c) for c in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
ODD_TEXT = ("😀🚗", "👨‍👩‍👧", "\u200b", "\ufeff", "=1+1", "+86 138", "-", "@SUM(A1)", "=HYPERLINK(\"x\")", "\t=2",
            "𠀀𪚥", "﷽", "\u202e反转", "a\r\nb", "  ", "NULL", "#N/A")
BAD_DATES = ("2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31 25:61", "-1", "1e308", "99999999", "2026年2月30日",
             "昨天", "3/4/5/6", "2026-11-20T10:00:00+99:00", "１９９０-０１-０１")


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def base_rows(kind: str, rng: random.Random, n: int) -> list[Row]:
    """`n` valid rows of `kind` (the roster: all of it), night 2026-11-23."""
    rows: list[Row] = []
    for i in range(n):
        adv = ADVISORS[i % 3]
        day = f"2026-11-{rng.randint(1, 22):02d} {rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}"
        lead_id = f"L{rng.randint(1, 40):03d}"
        if kind == "leads":
            rows.append([lead_id, day, f"客户{i}", _phone(rng), adv[2], adv[0], rng.choice("SABCD"), "汽车之家"])
        elif kind == "followups":
            rows.append([lead_id, adv[0], day, "电话", rng.choice(["已接通", "未接通", "已到店"]), "客户想看车", ""])
        elif kind == "sales":
            rows.append([f"O{rng.randint(1, 99):03d}", _phone(rng), f"客户{i}", adv[0], day, adv[2],
                         rng.choice(["", "2026-11-20"]), "158000"])
        elif kind == "service":
            rows.append([f"R{rng.randint(1, 99):03d}", day, adv[2], _phone(rng), f"车主{i}", "保养", "A02",
                         str(rng.randint(1, 100))])
    if kind == "advisors":
        rows = [[a, name, store, role, f"{a.lower()}@dealer.cn", mgr] for a, name, store, role, mgr in ADVISORS]
    return rows


# --- cell mutations -----------------------------------------------------------------------------------------

def _poke(rows: list[Row], rng: random.Random, value: Callable[[str | None], str]) -> None:
    for _ in range(rng.randint(1, 4)):
        if rows:
            row = rng.choice(rows)
            j = rng.randrange(len(row))
            row[j] = value(row[j])


def mutate_cells(rows: list[Row], rng: random.Random, family: str) -> None:
    if family == "control":
        _poke(rows, rng, lambda v: (v or "") + rng.choice(CONTROL) + (v or ""))
    elif family == "emoji":
        _poke(rows, rng, lambda v: rng.choice(ODD_TEXT) + (v or ""))
    elif family == "long":
        _poke(rows, rng, lambda v: rng.choice("长文本x") * rng.choice([32_767, 32_768, 40_000]))
    elif family == "formula":
        _poke(rows, rng, lambda v: rng.choice(["=", "+", "-", "@", "=cmd|' /C calc'!A0", "=1/0"]) + (v or ""))
    elif family == "dates":
        _poke(rows, rng, lambda v: rng.choice(BAD_DATES))
    elif family == "ragged":
        for row in rows:
            if rng.random() < 0.5:
                del row[rng.randrange(len(row)):]
            elif rng.random() < 0.5:
                row.extend(["多余"] * rng.randint(1, 3))


CELL_FAMILIES = ("control", "emoji", "long", "formula", "dates", "ragged", "none")


def mutate_columns(table: list[Row], rng: random.Random) -> list[Row]:
    """The header and its columns as exports differ: a column left out, columns in another order, an unknown
    or a repeated column, a title row above, a header alone."""
    family = rng.choice(["drop", "shuffle", "extra", "repeat", "title", "header_only", "none", "none"])
    width = len(table[0])
    if family == "drop":
        j = rng.randrange(width)
        return [row[:j] + row[j + 1:] for row in table]
    if family == "shuffle":
        order = rng.sample(range(width), width)
        return [[row[j] if j < len(row) else None for j in order] for row in table]
    if family == "extra":
        return [row + (["备注2"] if i == 0 else [rng.choice(ODD_TEXT)]) for i, row in enumerate(table)]
    if family == "repeat":
        j = rng.randrange(width)
        return [[*row, row[j] if j < len(row) else None] for row in table]
    if family == "title":
        return [["某某4S店 导出报表"], [], *table]
    if family == "header_only":
        return table[:1]
    return table


# --- writers ------------------------------------------------------------------------------------------------

def xlsx_bytes(sheets: dict[str, list[Row]], rng: random.Random, hidden: bool = False) -> bytes:
    """xlsxwriter (it escapes control characters as _xHHHH_, as Excel does); sometimes an empty sheet."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    if rng.random() < 0.3:
        wb.add_worksheet("空表")
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if cell is not None:
                    ws.write_string(i, j, cell)
        if hidden and len(sheets) > 1:
            ws.hide()
    wb.close()
    return buf.getvalue()


def openpyxl_bytes(sheets: dict[str, list[Row]]) -> bytes:
    """openpyxl cannot hold control characters: they are left out of this writer's cells."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name[:31])
        for row in rows:
            ws.append([None if c is None else "".join(ch for ch in c if ch not in CONTROL and ch != "\x00")
                       for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[Row], rng: random.Random) -> bytes:
    sep = rng.choice([",", ",", ";", "\t"])
    def cell(c: str | None) -> str:
        c = c or ""
        return '"' + c.replace('"', '""') + '"' if any(x in c for x in (sep, '"', "\n", "\r")) else c
    text = "\r\n".join(sep.join(cell(c) for c in row) for row in rows) + rng.choice(["\r\n", "\n", ""])
    encoding = rng.choice(["utf-8", "utf-8-sig", "gb18030", "utf-16"])
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


# --- byte mutations -----------------------------------------------------------------------------------------

def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(0, max(len(data) - 1, 0))]


def flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def drop_member(data: bytes, rng: random.Random) -> bytes:
    """The zip rewritten without one member (sharedStrings, styles, a sheet, the workbook, the content types)."""
    try:
        gone = rng.choice(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except Exception:  # no zip, or a damaged one: left as it is
        return data
    return _rezip(data, lambda name, body: None if name == gone else body) or data


def _rezip(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes | None:
    """The zip rewritten with `change(name, body)` for each member (None: left out); None if it is no zip."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        members = [(name, src.read(name)) for name in src.namelist()]
    except Exception:  # a damaged zip (bad CRC, truncated): left as it is
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in members:
            changed = change(name, body)
            if changed is not None:
                dst.writestr(name, changed)
    return buf.getvalue()


def rewrite_xml(data: bytes, rng: random.Random) -> bytes:
    """A sheet's XML as a careless exporter writes it: a wrong <dimension>, cell references out of order or
    repeated, a shared-string index past the end, a sheet hidden or very hidden."""
    def change(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/worksheets/") and name != "xl/workbook.xml":
            return body
        text = body.decode("utf-8", "replace")
        family = rng.choice(["dimension", "refs", "shared", "state", "rows"])
        if family == "dimension":
            ref = rng.choice(["A1", "A1:B2", "A1:XFD1048576", "C3:A1", ""])
            text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', text)
        elif family == "refs":
            text = re.sub(r' r="([A-Z]+)(\d+)"',
                          lambda m: f' r="{rng.choice(["A", "B", "Z", "AA", m.group(1)])}{m.group(2)}"', text)
        elif family == "shared":
            text = re.sub(r'(t="s"[^>]*><v>)(\d+)',
                          lambda m: m.group(1) + str(int(m.group(2)) + rng.choice([0, 1, 1000])), text)
        elif family == "state":
            text = text.replace("<sheet ", f'<sheet state="{rng.choice(["hidden", "veryHidden"])}" ', 1)
        else:
            text = re.sub(r'<row r="(\d+)"', lambda m: f'<row r="{rng.choice([1, 2, int(m.group(1)) * 3])}"', text)
        return text.encode()
    return _rezip(data, change) or data


BYTE_FAMILIES = ("truncate", "flip", "drop_member", "rewrite_xml", "rewrite_xml", "none", "none", "none")


# --- names --------------------------------------------------------------------------------------------------

def odd_name(kind: str, n: int, rng: random.Random, suffix: str) -> str:
    base = {"leads": "线索导出", "followups": "跟进记录", "sales": "销售订单", "service": "售后工单",
            "advisors": "顾问名单"}[kind]
    choice = rng.random()
    if choice < 0.15:  # as long as the file system allows: 255 bytes of UTF-8
        stem = f"{n:02d}{base}" + "超长文件名" * 60
        limit = 255 - len(suffix.encode())
        while len(stem.encode()) > limit:
            stem = stem[:-1]
        return stem + suffix
    if choice < 0.3:
        return rng.choice([os.fsdecode(f"{n}{base}".encode("gb18030")),  # a name made on a GBK system
                           f"-{n} {base}", f"={n}{base}", f"{base} 😀 {n}", f" {base}{n} ", f"{base}..{n}",
                           f"{base}$(echo {n})", f"{base}\u202e{n}"]) + suffix
    return f"{n:02d}_{base}{suffix}"


# --- a folder -----------------------------------------------------------------------------------------------

def fuzz_file(kind: str, n: int, rng: random.Random) -> tuple[str, bytes]:
    rows = base_rows(kind, rng, rng.randint(0, 12))
    mutate_cells(rows, rng, rng.choice(CELL_FAMILIES))
    table = mutate_columns([list(HEADERS[kind]), *rows], rng)
    form = rng.choice(["xlsx", "xlsx", "openpyxl", "csv", "csv"])
    if form == "csv":
        data, suffix = csv_bytes(table, rng), ".csv"
    else:
        sheets = {kind: table}
        if rng.random() < 0.25:
            sheets["附表"] = [list(HEADERS[kind]), *base_rows(kind, rng, 2)]
        data = xlsx_bytes(sheets, rng, hidden=rng.random() < 0.3) if form == "xlsx" else openpyxl_bytes(sheets)
        suffix = rng.choice([".xlsx", ".xlsx", ".xlsx", ".xlsm", ".csv", ".xls"])
    family = rng.choice(BYTE_FAMILIES)
    if family == "truncate":
        data = truncate(data, rng)
    elif family == "flip":
        data = flip(data, rng)
    elif family == "drop_member":
        data = drop_member(data, rng)
    elif family == "rewrite_xml":
        data = rewrite_xml(data, rng)
    return odd_name(kind, n, rng, suffix), data


def fuzz_folder(folder: Path, seed: int, files: int = 8) -> list[Path]:
    """`files` mutated exports (the roster always among them) in `folder`; returns their paths."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = ["advisors", *(rng.choice(list(HEADERS)) for _ in range(files - 1))]
    written = []
    for n, kind in enumerate(kinds):
        name, data = fuzz_file(kind, n, rng)
        path = folder / name
        if path.exists():  # the same odd name twice: a plain one
            path = folder / f"{n:02d}_{kind}{Path(name).suffix}"
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    args = argparse.ArgumentParser()
    args.add_argument("folder", type=Path)
    args.add_argument("--seed", type=int, default=0)
    args.add_argument("--files", type=int, default=8)
    ns = args.parse_args()
    for p in fuzz_folder(ns.folder, ns.seed, ns.files):
        print(p.name)
