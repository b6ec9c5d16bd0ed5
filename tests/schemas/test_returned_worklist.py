"""A returned worklist keeps what is right (issue #13): dates typed as advisors type them, a valid contact whose
next date cannot be read still loads (the date reported as a warning row), rows left empty are "not worked"."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl

from adapters.history import History
from adapters.ingest import load_file
from genjin.check import check
from policy.model import load_policy
from reports.workbook import write_advisor_workbook
from tests.flows.test_loop_back import ROSTER, _saved_at, _xlsx
from transforms.views import per_customer
from transforms.worklist import build_worklist

NIGHT = date(2026, 12, 28)
LEADS = [
    ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户级别"],
    *[[f"L{i}", "2026-12-27 10:00", f"客户{i}", f"1380013800{i}", "浦东店", "S1", "B"] for i in range(1, 7)],
]
# lead → (跟进时间, 跟进结果, 下次跟进时间) as the advisor typed them; L6 left empty
FILLED = {
    "L1": (datetime(2026, 12, 28, 10, 0), "已接通", "1月3日"),  # after the contact only in the next year
    "L2": (datetime(2026, 12, 28, 10, 5), "预约到店", "12/30"),
    "L3": (datetime(2026, 12, 28, 10, 10), "已接通", "12.29 15:00"),
    "L4": (datetime(2026, 12, 28, 10, 15), "已接通", "下周再说"),  # unreadable: the contact still loads
    "L5": (datetime(2026, 12, 28, 10, 20), "打不通", "12月30日"),  # outcome not allowed: rejected
}


def _returned(tmp_path: Path, policy) -> Path:
    history = History(tmp_path / "history")
    for order, path in enumerate([_xlsx(tmp_path / "roster.xlsx", ROSTER), _xlsx(tmp_path / "leads.xlsx", LEADS)]):
        history.record(load_file(path), NIGHT, order)
    worklist = build_worklist(history.inputs(NIGHT), policy, NIGHT)
    path = write_advisor_workbook(per_customer(worklist), NIGHT, tmp_path / "S1.xlsx", load_policy().talk_tracks)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in ("线索编号", "跟进时间", "跟进结果", "下次跟进时间")}
    for row in range(2, ws.max_row + 1):
        filled = FILLED.get(ws.cell(row, col["线索编号"]).value)
        if filled:
            for name, value in zip(("跟进时间", "跟进结果", "下次跟进时间"), filled, strict=True):
                ws.cell(row, col[name]).value = value
    wb.save(path)
    _saved_at(path, "2026-12-28T10:00:00Z")
    return path


def test_dates_as_advisors_type_them_and_a_bad_date_keeps_the_contact(tmp_path: Path, policy) -> None:
    load = load_file(_returned(tmp_path, policy))
    assert load.status == "loaded", load.why
    # 6 rows: L1-L4 load, L5 rejected (outcome), L6 not worked
    assert (load.rows_in, load.rows_loaded, load.rows_rejected, load.rows_not_worked) == (6, 4, 1, 1)
    assert load.rows_warned == 1
    (sheet,) = load.sheets
    got = dict(sheet.loaded.select("lead_id", "next_followup_at").rows())
    assert got == {
        "L1": datetime(2027, 1, 3),
        "L2": datetime(2026, 12, 30),
        "L3": datetime(2026, 12, 29, 15, 0),
        "L4": None,
    }
    (warning,) = sheet.warnings.iter_rows(named=True)
    assert warning["column"] == "next_followup_at" and "下周再说" in warning["reason_zh"]
    assert "已载入" in warning["reason_zh"]
    assert sheet.rejects["column"].to_list() == ["outcome"]


def test_rows_left_empty_are_not_worked_per_advisor(tmp_path: Path, policy) -> None:
    load = load_file(_returned(tmp_path, policy))
    assert load.not_worked == {"S1": 1}
    assert "not filled in" not in " ".join(load.sheets[0].rejects["reason_en"].to_list())


def test_genjin_check_says_the_same_of_a_returned_worklist(tmp_path: Path, policy) -> None:
    out = io.StringIO()
    check([_returned(tmp_path, policy)], out)
    text = out.getvalue()
    assert "未跟进 1 行（顾问未填写，不算错误）" in text
    assert "! 第 5 行「下次跟进时间」：下次跟进时间无法识别「下周再说」" in text
    assert "✗ 第 6 行「跟进结果」：不是允许的取值「打不通」" in text
