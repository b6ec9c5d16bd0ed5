"""An advisor fills in the morning workbook and ops drop it back: the next night reads it as follow-ups."""

from __future__ import annotations

import os
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from adapters.history import History
from adapters.ingest import load_file
from adapters.readers import file_time
from policy.model import load_policy
from reports.workbook import write_advisor_workbook
from transforms.night import prepare
from transforms.plan import advisor_plans, plan_night
from transforms.worklist import build_worklist, worklist_from

NIGHT1, NIGHT2 = date(2026, 11, 23), date(2026, 11, 24)
ROSTER = [["顾问编号", "姓名", "门店", "岗位", "在职"], ["S1", "张三", "浦东店", "销售顾问", "是"]]
LEADS = [
    ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户级别"],
    ["L1", "2026-11-22 10:00", "陈先生", "13800138001", "浦东店", "S1", "B"],
    ["L2", "2026-11-22 11:00", "林女士", "13800138002", "浦东店", "S1", "B"],
    ["L3", "2026-11-22 12:00", "吴先生", "13800138003", "浦东店", "S1", "B"],
]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def _load_night(history: History, night: date, *paths: Path) -> None:
    for order, path in enumerate(paths):
        history.record(load_file(path), night, order)


def _fill_in(path: Path) -> None:
    """As the advisor would in Excel: L1 reached with a time typed in, L2 only an outcome picked, L3 untouched."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in ("线索编号", "跟进时间", "跟进结果", "下次跟进时间", "沟通内容")}
    for row in range(2, ws.max_row + 1):
        lead = ws.cell(row, col["线索编号"]).value
        if lead == "L1":
            ws.cell(row, col["跟进时间"]).value = datetime(2026, 11, 23, 10, 30)
            ws.cell(row, col["跟进结果"]).value = "预约到店"
            ws.cell(row, col["下次跟进时间"]).value = datetime(2026, 11, 28, 10, 0)
            ws.cell(row, col["沟通内容"]).value = "周六带家人来看车"
        if lead == "L2":
            ws.cell(row, col["跟进结果"]).value = "未接通"
    wb.save(path)
    _saved_at(path, "2026-11-23T10:00:00Z")  # 18:00 in Shanghai, as Excel records a save


def _saved_at(path: Path, utc: str) -> None:
    """Set the workbook's own `modified` property (openpyxl always stamps the real clock on save)."""
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    parts["docProps/core.xml"] = re.sub(
        rb"(<dcterms:modified[^>]*>)[^<]+(</dcterms:modified>)", rb"\g<1>" + utc.encode() + rb"\g<2>",
        parts["docProps/core.xml"],
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_a_filled_in_workbook_becomes_tomorrows_follow_ups(tmp_path: Path, policy) -> None:
    history = History(tmp_path / "history")
    _load_night(history, NIGHT1, _xlsx(tmp_path / "roster.xlsx", ROSTER), _xlsx(tmp_path / "leads.xlsx", LEADS))
    state = prepare(history.inputs(NIGHT1), policy, NIGHT1)
    night1 = plan_night(worklist_from(state, policy, NIGHT1), state, policy, NIGHT1)
    assert sorted(night1["ref"].to_list()) == ["L1", "L2", "L3"]  # three B leads from yesterday: first_contact due D
    assert night1["in_plan"].all()

    plan = advisor_plans(night1, policy)  # what the flow writes
    returned = write_advisor_workbook(plan, NIGHT1, tmp_path / "S1.xlsx", load_policy().talk_tracks)
    phones = [row[3] for row in openpyxl.load_workbook(returned).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(phones) == ["138 0013 8001", "138 0013 8002", "138 0013 8003"]  # as advisors write them
    _fill_in(returned)
    load = load_file(returned)
    assert load.kind == "followups"
    # L3 left empty: not worked (counted per advisor), not an error (issue #13)
    assert (load.rows_in, load.rows_loaded, load.rows_rejected, load.rows_not_worked) == (3, 2, 0, 1)
    assert load.not_worked == {"S1": 1}
    got = load.sheets[0].loaded.sort("lead_id").select("lead_id", "phone", "advisor_id", "outcome", "summary").rows()
    assert got == [("L1", "+8613800138001", "S1", "预约到店", "周六带家人来看车"),
                   ("L2", "+8613800138002", "S1", "未接通", None)]  # the phone read back as E.164

    _load_night(history, NIGHT2, returned)
    night2 = build_worklist(history.inputs(NIGHT2), policy, NIGHT2)
    # L1: reached on 11-23, planned 11-28 → nothing on 11-24. L2: reached (unanswered) on the file's date
    # 11-23 → a B lead's next call after 3 days, 11-26. L3: still not contacted, 1 day overdue.
    assert night2.select("task_type", "ref", "days_overdue").rows() == [("first_contact", "L3", 1)]


def test_file_time_is_the_workbooks_save_time_in_local_time(tmp_path: Path) -> None:
    book = _xlsx(tmp_path / "b.xlsx", [["x"]])
    _saved_at(book, "2026-11-23T16:30:00Z")
    assert file_time(book) == datetime(2026, 11, 24, 0, 30)  # past midnight in Shanghai


def test_file_time_of_a_csv_is_its_modification_time(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("x\n", encoding="utf-8")
    stamp = datetime(2026, 11, 23, 2, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    os.utime(csv, (stamp, stamp))
    assert file_time(csv) == datetime(2026, 11, 23, 10, 0)
