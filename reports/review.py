"""The manager's review workbook (`reviews/<manager_id>.xlsx`, attached to the digest): today's rows of
transforms/review.py — handed-over customers, stale work, overflow, the decisions that save the most first —
each with its proposal, and the columns the manager fills in (决定 drop-down pre-filled with the proposal, 改派给
drop-down of the store's advisors, 战败原因, 生效日期, 经理备注); then the 整批决定 sheet, one row deciding for
many customers (transforms/review.py `bulk_proposals`), its 决定 left for the manager to choose.
Dropped back into the drop folder, it reads as `decisions` (schemas.columns.DECISIONS): the headers of the
columns genjin reads back are that kind's aliases. Rendering only: who gets which rows and what is proposed
is decided in transforms/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.workbook import (
    ESCALATED_FONT,
    GRID,
    HEADER_FILL,
    INPUT_FILL,
    INPUT_HEADER_FILL,
    LINE_HEIGHT,
    Style,
    _Formats,
    _header_row,
    _write,
    lines_in,
    style,
)
from schemas.phones import masked_phone
from schemas.vocab import DECISION_LABELS
from transforms.labels import STAGE_LABELS
from transforms.views import bare_reason

SECTION_LABELS = {"handed_over": "转交客户", "stale": "久未跟进", "overflow": "超出每日上限"}
SECTION_FILLS = {"handed_over": "#DDEBF7", "stale": "#FDE9E7", "overflow": "#FFF2CC"}
STAFF_SHEET = "顾问"  # hidden: the 改派给 drop-down's list
KEY_FILL = "#EDEDED"  # the columns genjin reads back and the manager leaves as they are


class Column(NamedTuple):
    header: str
    source: str
    width: float
    kind: str = "shown"  # shown | input | key
    number_format: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("类别", "section_label", 14),
    Column("客户姓名", "customer_name", 11),
    Column("电话", "phone_masked", 13),
    Column("顾问", "holder", 17),
    Column("跟进事项", "tasks", 16),
    Column("逾期天数", "days_overdue", 9, number_format="0"),
    Column("级别", "grade", 5),
    Column("阶段", "stage_label", 9),
    Column("原因", "reason_short", 40),
    Column("建议", "proposal_text", 32),
    Column("决定", "decision", 9, "input"),
    Column("改派给", "new_advisor", 15, "input"),
    Column("战败原因", "lost_reason", 22, "input"),
    Column("生效日期", "decided_at", 11, "input", "yyyy-mm-dd"),
    Column("经理备注", "note", 20, "input"),
    Column("客户编号", "customer_id", 17, "key"),
    Column("线索编号", "lead_id", 12, "key"),
    Column("原顾问工号", "from_advisor_id", 10, "key"),
    Column("经理工号", "manager_id", 9, "key"),
)
WRAPPED = ("原因", "建议", "跟进事项")
GUIDE_WIDTH = 110
BULK_SHEET = "整批决定"
BULK_COLUMNS: tuple[Column, ...] = (
    Column("类别", "kind_label", 17),
    Column("顾问", "holder", 17),
    Column("涉及", "scope", 36),
    Column("建议", "proposal_text", 30),
    Column("决定", "decision", 9, "input"),
    Column("改派给", "new_advisor", 15, "input"),
    Column("未跟进天数", "idle_days", 11, "input", "0"),
    Column("战败原因", "lost_reason", 22, "input"),
    Column("生效日期", "decided_at", 11, "input", "yyyy-mm-dd"),
    Column("经理备注", "note", 16, "input"),
    Column("整批", "bulk_mark", 6, "key"),
    Column("原顾问工号", "from_advisor_id", 10, "key"),
    Column("经理工号", "manager_id", 9, "key"),
)
BULK_WRAPPED = ("涉及", "建议", "战败原因")
BULK_LABELS = {"book": "离职顾问全部客户", "idle": "久未跟进的线索"}
BULK_FILL = "#E2EFDA"
GUIDE = (
    "怎么用这张表",
    "1. “待决定”页每一行是一位需要您决定的客户：转交客户（原顾问离职）、久未跟进、超出顾问每日上限。"
    "每天最多列出今天最值得决定的几十位（建议改派或战败的在前，其中能挽回的在前），其余的以后几天再列出，日报里有数目。",
    "2. “决定”已按“建议”预填：同意的不用改；不同意的从下拉中改选 改派 / 战败 / 勿扰 / 保持；"
    "暂时不想决定的，把“决定”清空——这一行不生效、不算错误，以后几天会再列出。",
    "3. 改派：在“改派给”中选接手的顾问（已按建议预填，可改）。战败：请填写战败原因（已按建议预填）。",
    "4. “生效日期”起生效（默认今天）。灰色列请勿修改。",
    "5. 填好后把本文件放回投放目录，当晚生效：改派的客户出现在新顾问的清单上，战败线索不再跟进，勿扰客户不再联系。",
    "6. “整批决定”页（有的话）一行管很多位客户：离职顾问名下的全部客户改派给一位同事，或某位顾问超过若干天没有跟进的"
    "线索全部标记战败。这一页的“决定”不预填：同意就在“决定”里选上，可改接手顾问或天数；当晚生效，日报会告诉您动了多少位。",
)


def _name(names: dict[str, str], advisor_id: str | None) -> str:
    if not advisor_id:
        return ""
    return f"{names[advisor_id]}（{advisor_id}）" if advisor_id in names else f"{advisor_id}（不在名单）"


def choice(names: dict[str, str], advisor_id: str) -> str:
    """An advisor as the 改派给 drop-down shows them, `S002 李四` (schemas.parsing reads the id back)."""
    return f"{advisor_id} {names.get(advisor_id, '')}".strip()


def _holder(names: dict[str, str], row: dict) -> str:
    """Who has the customer: for a handed-over one, the advisor who left (the manager holds it meanwhile)."""
    if row["section"] == "handed_over":
        gone = row["from_advisor_id"]
        return f"{names[gone]}（已离职）" if gone in names else f"{gone or '—'}（不在名单）"
    return _name(names, row["advisor_id"])


def _proposal_text(row: dict, names: dict[str, str]) -> str:
    if row["proposal"] == "reassign":
        return f"改派给 {_name(names, row['proposed_advisor_id'])}"
    if row["proposal"] == "lost":
        return f"战败：{row['proposed_reason']}"
    return "保持（同岗位没有空余名额的顾问）" if row["section"] != "stale" else "保持，请督促跟进"




def _short(reasons: str | None) -> str:
    """The most urgent reason, without the handover note the 类别 already says, and how many more."""
    lines = (reasons or "").splitlines()
    head = bare_reason(lines[0]) if lines else ""
    return head + (f"（另有 {len(lines) - 1} 项）" if len(lines) > 1 else "")


def _records(rows: pl.DataFrame, names: dict[str, str], as_of: date) -> list[dict]:
    out = []
    for row in rows.with_columns(masked_phone("phone").alias("phone_masked")).iter_rows(named=True):
        out.append(row | {
            "reason_short": _short(row["reasons"]),
            "section_label": SECTION_LABELS[row["section"]],
            "holder": _holder(names, row),
            "stage_label": STAGE_LABELS.get(row["stage"], row["stage"]),
            "proposal_text": _proposal_text(row, names),
            "decision": DECISION_LABELS[row["proposal"]],  # pre-filled: the manager changes what they disagree with
            "new_advisor": choice(names, row["proposed_advisor_id"]) if row["proposed_advisor_id"] else None,
            "lost_reason": row["proposed_reason"],
            "decided_at": as_of,
            "note": None,
        })
    return out


@cache
def _styles(section: str, overdue: bool) -> tuple[Style, ...]:
    """The style of each column of a review row: the 类别 cell in its section's colour, the input and key
    columns shaded, 逾期天数 in red once overdue."""
    styles = []
    for j, column in enumerate(COLUMNS):
        props: dict[str, Any] = {**GRID, "valign": "top", "text_wrap": column.header in WRAPPED}
        if column.number_format:
            props["num_format"] = column.number_format
        fill = SECTION_FILLS[section] if j == 0 else {"input": INPUT_FILL, "key": KEY_FILL}.get(column.kind)
        if column.source == "days_overdue" and overdue:
            props |= ESCALATED_FONT
        styles.append(style(fill, **props))
    return tuple(styles)


WRAPPED_COLUMNS = tuple((c.source, c.width) for c in COLUMNS if c.header in WRAPPED)


def _sheet(ws: Worksheet, formats: _Formats, records: list[dict], choices: list[str]) -> None:
    fills = {"shown": HEADER_FILL, "input": INPUT_HEADER_FILL, "key": "#7F7F7F"}
    _header_row(ws, formats, [(c.header, c.width, fills[c.kind]) for c in COLUMNS])
    sources = [c.source for c in COLUMNS]
    for i, record in enumerate(records, start=1):
        lines = max(lines_in(record[source], width) for source, width in WRAPPED_COLUMNS)
        ws.set_row(i, LINE_HEIGHT * max(lines, 1))  # xlsxwriter does not fit rows to wrapped text
        styles = _styles(record["section"], (record["days_overdue"] or 0) > 0)
        for j, source in enumerate(sources):
            _write(ws, i, j, record[source], formats[styles[j]])
    last = max(len(records), 1)
    col = {c.header: j for j, c in enumerate(COLUMNS)}
    ws.data_validation(1, col["决定"], last, col["决定"], {
        "validate": "list", "source": list(DECISION_LABELS.values()), "ignore_blank": True,
        "show_error": True, "error_title": "决定", "error_message": "请从下拉列表中选择：改派 / 战败 / 勿扰 / 保持",
        "show_input": True, "input_title": "决定", "input_message": "改派 / 战败 / 勿扰 / 保持",
    })
    if choices:  # the list lives on a hidden sheet: an inline list is limited to 255 characters in all
        ws.data_validation(1, col["改派给"], last, col["改派给"], {
            "validate": "list", "source": f"='{STAFF_SHEET}'!$A$1:$A${len(choices)}", "ignore_blank": True,
            "show_error": True, "error_title": "改派给", "error_message": "请从下拉列表中选择本店在职顾问",
        })
    ws.data_validation(1, col["生效日期"], last, col["生效日期"], {
        "validate": "date", "criteria": "between", "minimum": 36526, "maximum": 73050, "ignore_blank": True,
        "show_error": True, "error_type": "warning", "error_title": "生效日期",
        "error_message": "请填写日期，如 2026-11-24",
    })
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, last, len(COLUMNS) - 1)
    ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, last, col["经理备注"])  # the grey key columns stay on screen, not on paper


def _bulk_records(bulk: pl.DataFrame, names: dict[str, str], as_of: date) -> list[dict]:
    out = []
    for row in bulk.iter_rows(named=True):
        who = row["from_advisor_id"]
        gone = f"{names[who]}（已离职）" if who in names else f"{who}（不在名单）"
        holder = gone if row["departed"] else _name(names, who)
        if row["kind"] == "book":
            scope = f"名下全部客户 {row['size']} 位（其中 {row['customers']} 位今天有待办，在“待决定”里）"
            proposal = (f"全部改派给 {_name(names, row['proposed_advisor_id'])}" if row["proposed_advisor_id"]
                        else "同岗位没有空余名额的顾问，请选接手顾问")
        else:
            scope = f"超过 {row['idle_days']} 天没有跟进的线索 {row['size']} 条（按今天算）"
            proposal = f"全部战败：{row['proposed_reason']}"
        out.append(row | {
            "kind_label": BULK_LABELS[row["kind"]], "holder": holder, "scope": scope, "proposal_text": proposal,
            "decision": None,  # not pre-filled: one row decides for many customers
            "new_advisor": choice(names, row["proposed_advisor_id"]) if row["proposed_advisor_id"] else None,
            "lost_reason": row["proposed_reason"], "decided_at": as_of, "note": None, "bulk_mark": "是",
        })
    return out


def _bulk_sheet(ws: Worksheet, formats: _Formats, records: list[dict], choices: list[str]) -> None:
    fills = {"shown": HEADER_FILL, "input": INPUT_HEADER_FILL, "key": "#7F7F7F"}
    _header_row(ws, formats, [(c.header, c.width, fills[c.kind]) for c in BULK_COLUMNS])
    col = {c.header: j for j, c in enumerate(BULK_COLUMNS)}
    wrapped = [(c.source, c.width) for c in BULK_COLUMNS if c.header in BULK_WRAPPED]
    for i, record in enumerate(records, start=1):
        ws.set_row(i, LINE_HEIGHT * max(max(lines_in(record[s], w) for s, w in wrapped), 1))
        for j, column in enumerate(BULK_COLUMNS):
            props: dict[str, Any] = {**GRID, "valign": "top", "text_wrap": column.header in BULK_WRAPPED}
            if column.number_format:
                props["num_format"] = column.number_format
            fill = BULK_FILL if j == 0 else {"input": INPUT_FILL, "key": KEY_FILL}.get(column.kind)
            _write(ws, i, j, record[column.source], formats[style(fill, **props)])
        label = DECISION_LABELS["reassign" if record["kind"] == "book" else "lost"]  # the only decision it takes
        ws.data_validation(i, col["决定"], i, col["决定"], {
            "validate": "list", "source": [label], "ignore_blank": True, "show_error": True, "error_title": "决定",
            "error_message": f"这一行只能选“{label}”，或留空（不决定）",
        })
        if record["kind"] == "book" and choices:
            ws.data_validation(i, col["改派给"], i, col["改派给"], {
                "validate": "list", "source": f"='{STAFF_SHEET}'!$A$1:$A${len(choices)}", "ignore_blank": True,
                "show_error": True, "error_title": "改派给", "error_message": "请从下拉列表中选择本店在职顾问",
            })
    ws.freeze_panes(1, 2)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, max(len(records), 1), col["经理备注"])


def write_review_workbook(rows: pl.DataFrame, names: dict[str, str], staff: list[str], as_of: date,
                          path: Path, bulk: pl.DataFrame | None = None) -> Path:
    """`rows`: one manager's rows of today (`transforms.review.todays_review`); `names`: advisor_id → name;
    `staff`: the advisors the manager may reassign to (`transforms.review.teammates`); `bulk`: the manager's
    整批 rows (`transforms.review.bulk_proposals`), on a sheet of their own when there are any."""
    wb = Workbook(str(path), {"in_memory": True})
    wb.set_properties({"author": "genjin", "created": datetime.now(UTC)})
    formats = _Formats(wb)
    choices = [choice(names, a) for a in staff]
    _sheet(wb.add_worksheet(f"待决定 {as_of:%m-%d}"), formats, _records(rows, names, as_of), choices)
    if bulk is not None and bulk.height:
        _bulk_sheet(wb.add_worksheet(BULK_SHEET), formats, _bulk_records(bulk, names, as_of), choices)
    staff_sheet = wb.add_worksheet(STAFF_SHEET)
    for i, name in enumerate(choices):
        staff_sheet.write_string(i, 0, name)
    staff_sheet.hide()
    guide = wb.add_worksheet("说明")
    guide.set_column(0, 0, GUIDE_WIDTH)
    guide.set_landscape()
    guide.set_paper(9)  # A4, as the sheets it explains
    guide.fit_to_pages(1, 0)
    for i, line in enumerate(GUIDE):
        guide.set_row(i, LINE_HEIGHT * lines_in(line, GUIDE_WIDTH))  # a wrapped line's height is not fitted
        guide.write_string(i, 0, line, formats[style(bold=i == 0, text_wrap=True)])
    wb.close()
    return path

