"""The manager's morning (issue #16), on a hand-built store: every digest section with a known content, the
review workbook filled in through openpyxl as a manager would, dropped back, and the next night's worklist
reflecting each decision; a manager sees only their own store."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from prefect.logging import disable_run_logger

from adapters.history import History
from adapters.ingest import load_file
from flows import steps
from reports.digest import Morning, digest_context, managers
from reports.html_report import write_kpi_outputs
from reports.kpi_json import store_nights
from reports.review import write_review_workbook
from transforms.decisions import refused
from transforms.frames import latest_per_key
from transforms.kpis import compute_kpis
from transforms.morning import chase_list, returned_workbooks
from transforms.night import prepare
from transforms.plan import plan_night
from transforms.review import capacities, review_rows, teammates
from transforms.worklist import worklist_from

NIGHT1, NIGHT2 = date(2026, 11, 23), date(2026, 11, 24)
ROSTER = [
    ["顾问编号", "姓名", "门店", "岗位", "在职", "上级工号", "每日上限", "邮箱"],
    ["M1", "王经理", "浦东店", "经理", "是", None, None, "m1@dealer.cn"],
    ["S1", "张三", "浦东店", "销售顾问", "是", "M1", "2", "s1@dealer.cn"],
    ["S2", "李四", "浦东店", "销售顾问", "否", "M1", "40", "s2@dealer.cn"],
    ["S3", "周七", "浦东店", "销售顾问", "是", "M1", "10", "s3@dealer.cn"],
    ["V1", "赵六", "浦东店", "服务顾问", "是", "M1", None, "v1@dealer.cn"],
    ["M9", "钱经理", "徐汇店", "经理", "是", None, None, "m9@dealer.cn"],
    ["X1", "孙九", "徐汇店", "销售顾问", "是", "M9", None, "x1@dealer.cn"],
]
LEADS = [
    ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户级别"],
    ["L1", "2026-11-21 10:00", "陈先生", "13800138001", "浦东店", "S1", "B"],  # first contact due 11-22
    ["L2", "2026-11-10 10:00", "林女士", "13800138002", "浦东店", "S1", "S"],  # S, called 11-15: due 11-16
    ["L3", "2026-11-01 10:00", "吴先生", "13800138003", "浦东店", "S1", "C"],  # C, called 11-10: due 11-17
    ["L4", "2026-11-01 10:00", "郑女士", "13800138004", "浦东店", "S2", "C"],  # S2 left; called 11-05: due 11-12
    ["L5", "2026-09-01 10:00", "冯先生", "13800138005", "浦东店", "S3", "C"],  # called 09-10: due 09-17
    ["L6", "2026-09-20 10:00", "何女士", "13800138006", "浦东店", "S3", "C"],  # called 10-08: due 10-15
    ["L9", "2026-11-22 10:00", "韩先生", "13900139009", "徐汇店", "X1", "C"],  # the other store
]
FOLLOWUPS = [
    ["线索编号", "销售顾问工号", "跟进时间", "跟进结果"],
    ["L2", "S1", "2026-11-15 10:00", "已接通"],
    ["L3", "S1", "2026-11-10 10:00", "已接通"],
    ["L4", "S2", "2026-11-05 10:00", "已接通"],
    ["L5", "S3", "2026-09-10 10:00", "已接通"],
    ["L6", "S3", "2026-10-08 10:00", "已接通"],
]
SERVICE = [
    ["工单号", "进厂日期", "门店", "手机号", "客户姓名", "服务顾问工号", "投诉内容"],
    ["R1", "2026-11-20 09:00", "浦东店", "13800138010", "蒋先生", "V1", "刹车异响，修了两次没好"],
]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> History:
    history = History(tmp_path / "history")
    files = [("roster", ROSTER), ("leads", LEADS), ("followups", FOLLOWUPS), ("service", SERVICE)]
    for order, (name, rows) in enumerate(files):
        history.record(load_file(_xlsx(tmp_path / f"{name}.xlsx", rows)), NIGHT1, order)
    return history


def _night(history: History, as_of: date, policy):
    """The night's state and its planned worklist (transforms/plan.py), as the flow builds them."""
    night = prepare(history.inputs(as_of), policy, as_of)
    return night, plan_night(worklist_from(night, policy, as_of), night, policy, as_of)


def _roster(history: History, as_of: date) -> pl.DataFrame:
    return history.inputs(as_of).advisors.collect()


def test_every_digest_section_has_its_known_content(store: History, policy) -> None:
    _, worklist = _night(store, NIGHT1, policy)
    roster = _roster(store, NIGHT1)
    rows = review_rows(worklist, roster, policy)
    planned = pl.DataFrame({"advisor_id": ["S1", "S3"], "planned": [3, 2]})
    # 张三's workbook came back with two rows filled; 周七's call was logged in the CRM, not in the workbook
    followups = pl.LazyFrame(
        {"advisor_id": ["S1", "S1", "S3"], "entry": ["returned_workbook", "returned_workbook", None],
         "contacted_at": [datetime(2026, 11, 22, 18), datetime(2026, 11, 22, 18, 5), datetime(2026, 11, 22, 9)]}
    )
    morning = Morning(chase=chase_list(worklist, policy), capacity=capacities(worklist, roster, policy),
                      review=rows, returned=returned_workbooks(followups, planned, NIGHT1),
                      reviews={"M1": Path("M1.xlsx")})
    m1 = next(m for m in managers(roster) if m.advisor_id == "M1")
    context = digest_context(m1, worklist, roster, set(), NIGHT1, True, morning)
    chase = context["chase"]
    # ① the complaint of 11-20, three days old, on 赵六, with its text
    assert [(r["customer_name"], r["phone"], r["advisor"], r["days_overdue"]) for r in chase["complaint"]["rows"]] \
        == [("蒋先生", "138****8010", "赵六", 3)]
    assert "刹车异响，修了两次没好" in chase["complaint"]["rows"][0]["text"]
    # ② L1 only: 徐汇店's L9 is not this manager's
    assert [(r["customer_name"], r["days_overdue"]) for r in chase["first_contact"]["rows"]] == [("陈先生", 1)]
    # ③ the S lead overdue since 11-16
    assert [(r["customer_name"], r["grade"], r["days_overdue"]) for r in chase["hot_overdue"]["rows"]] == [
        ("林女士", "S", 7)]
    # ④ 张三: 3 customers against 每日上限 2 — L1 (first contact) and L2 (S) in today's plan, L3 (C) waits;
    # 周七: both his leads overdue past the plan's 30 days for a follow-up, stale, none in the plan;
    # 赵六: the complaint's customer, against the service default of 40
    load = {a["advisor_id"]: (a["in_plan"], a["capacity"], a["waiting"], a["stale"]) for a in context["load"]}
    assert load == {"S1": (2, 2, 1, 0), "S3": (0, 10, 0, 2), "V1": (1, 40, 0, 0)}
    # ⑤ handed over L4 (李四 left), stale L5 (67 days) and L6 (39), overflow L3 (not in 张三's plan): all four
    # in today's workbook (the policy's 30 a day), none left for later
    review = context["review"]
    assert {k: review[k] for k in ("handed_over", "stale", "overflow", "total", "file")} == {
        "handed_over": 1, "stale": 2, "overflow": 1, "total": 4, "file": "M1.xlsx"}
    assert review["today"] == {"handed_over": 1, "stale": 2, "overflow": 1, "total": 4}
    assert review["later"]["total"] == 0
    # ⑥ 张三 filled 2 of 3 rows; 周七 returned nothing of 2
    assert [(a["name"], a["planned"], a["filled"]) for a in context["returned"]] == [("张三", 3, 2)]
    assert [(a["name"], a["planned"]) for a in context["returned_nothing"]] == [("周七", 2)]


def test_proposals_name_a_teammate_with_room_or_lost(store: History, policy) -> None:
    _, worklist = _night(store, NIGHT1, policy)
    rows = review_rows(worklist, _roster(store, NIGHT1), policy)
    got = rows.select("manager_id", "review_rank", "section", "customer_name", "from_advisor_id", "proposal",
                      "proposed_advisor_id", "proposed_reason").rows()
    # what a decision saves first: live work (the handed-over lead before the one waiting in 张三's queue, both
    # C-grade follow-ups), then the stale leads, the most recent first
    assert got == [
        ("M1", 1, "handed_over", "郑女士", "S2", "reassign", "S3", None),
        ("M1", 2, "overflow", "吴先生", "S1", "reassign", "S3", None),
        ("M1", 3, "stale", "何女士", "S3", "lost", None, "逾期39天未跟进，经理确认战败"),
        ("M1", 4, "stale", "冯先生", "S3", "lost", None, "逾期67天未跟进，经理确认战败"),
    ]
    assert teammates(_roster(store, NIGHT1), "M1") == ["S1", "S3", "V1"]  # 李四 left; 徐汇店's 孙九 is not here


def test_a_manager_sees_only_their_store(store: History, policy) -> None:
    _, worklist = _night(store, NIGHT1, policy)
    roster = _roster(store, NIGHT1)
    rows = review_rows(worklist, roster, policy)
    morning = Morning(chase=chase_list(worklist, policy), capacity=capacities(worklist, roster, policy), review=rows)
    m9 = next(m for m in managers(roster) if m.advisor_id == "M9")
    context = digest_context(m9, worklist, roster, set(), NIGHT1, False, morning)
    text = repr(context)
    assert [r["customer_name"] for r in context["chase"]["first_contact"]["rows"]] == ["韩先生"]
    for name in ("陈先生", "林女士", "蒋先生", "郑女士", "张三", "赵六", "13800138"):
        assert name not in text
    assert "139****9009" in text and "13900139009" not in text  # masked, as today
    assert rows.filter(pl.col("manager_id") == "M9").height == 0


def _decide(path: Path) -> None:
    """As the manager would in Excel, 决定 pre-filled with the proposals: L4 reassigned and L5 lost as proposed
    (left as they are), L3 to an advisor who is not in the roster (a typo), L6 left undecided (决定 cleared)."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in ("线索编号", "决定", "改派给")}
    for row in range(2, ws.max_row + 1):
        lead = ws.cell(row, col["线索编号"]).value
        if lead == "L3":
            ws.cell(row, col["改派给"]).value = "S9"
        if lead == "L6":
            ws.cell(row, col["决定"]).value = None
    wb.save(path)


def test_decisions_dropped_back_hold_the_next_night(store: History, policy, tmp_path: Path) -> None:
    _, worklist = _night(store, NIGHT1, policy)
    roster = _roster(store, NIGHT1)
    rows = review_rows(worklist, roster, policy).filter(pl.col("manager_id") == "M1")
    names = dict(roster.select("advisor_id", "name").iter_rows())
    book = write_review_workbook(rows, names, teammates(roster, "M1"), NIGHT1, tmp_path / "M1.xlsx")
    _decide(book)

    load = load_file(book)
    assert load.kind == "decisions"
    # the undecided row is no reject: counted for the manager, neither loaded nor rejected
    assert (load.rows_in, load.rows_loaded, load.rows_rejected, load.rows_undecided) == (4, 3, 0, 1)
    assert load.undecided == {"M1": 1}
    store.record(load, NIGHT2, 0)

    night, worklist2 = _night(store, NIGHT2, policy)
    by_ref = {r["ref"]: r for r in worklist2.filter(pl.col("task_type") == "followup").to_dicts()}
    assert by_ref["L4"]["advisor_id"] == "S3" and by_ref["L4"]["reassigned_from"] == "S2"
    assert not by_ref["L4"]["orphaned"] and by_ref["L4"]["reason"].startswith("【改派】经理决定，原顾问 S2")
    assert "L5" not in by_ref  # lost: its tasks are gone
    lead5 = night.leads.filter(pl.col("lead_id") == "L5").collect()
    assert (lead5["stage"].item(), lead5["lost_reason"].item()) == ("lost", "逾期67天未跟进，经理确认战败")
    assert by_ref["L3"]["advisor_id"] == "S1"  # the refused reassignment changes nothing
    assert by_ref["L6"]["advisor_id"] == "S3"  # undecided
    worklists = {a: set(g["ref"]) for (a,), g in worklist2.group_by("advisor_id")}
    assert "L4" in worklists["S3"] and "L4" not in worklists.get("M1", set())

    refusals = refused(night.decisions).collect()
    assert refusals.select("customer_id", "refusal_zh").rows() == [
        (rows.filter(pl.col("lead_id") == "L3")["customer_id"].item(), "接手顾问 S9 不在顾问名单")]
    run_dir = tmp_path / "out" / NIGHT2.isoformat()
    run_dir.mkdir(parents=True)
    with disable_run_logger():
        told = steps.refused_decisions.fn(night, NIGHT2, run_dir)
    assert told.select("customer_name", "decision").rows() == [("吴先生", "reassign")]
    rejects = openpyxl.load_workbook(run_dir / "rejects" / "M1.xlsx.rejects.xlsx").worksheets[0]
    assert rejects.title == f"待决定 {NIGHT1:%m-%d}"  # named after the sheet the manager filled in
    cells = [[c.value for c in row] for row in rejects.iter_rows()]
    # under the title and header rows; L3 was the workbook's third row (after L4); the column at fault
    # by the review workbook's header; its cells follow the reasons, the English reason last
    assert cells[2][:4] == [3, "拒绝，未载入", "改派给", "接手顾问 S9 不在顾问名单"]
    assert cells[2][-1] == "advisor S9 is not in the roster"
    assert "S9" in cells[2] and "改派" in cells[2]  # the decision as the manager filled it in


@pytest.mark.slow  # the KPI report draws its charts (matplotlib): ~20 s on a busy machine
def test_each_store_gets_its_own_report_with_small_samples_grey(store: History, policy, tmp_path: Path) -> None:
    night, worklist = _night(store, NIGHT1, policy)
    run_dir = tmp_path / "out" / NIGHT1.isoformat()
    run_dir.mkdir(parents=True)
    inputs = store.inputs(NIGHT1)
    kpis = compute_kpis(inputs, policy, NIGHT1, worklist, night)
    write_kpi_outputs(kpis, latest_per_key(inputs).advisors.collect(), worklist, policy, NIGHT1, run_dir, [], [])
    pudong = (run_dir / "reports" / "浦东店.html").read_text(encoding="utf-8")
    xuhui = (run_dir / "reports" / "徐汇店.html").read_text(encoding="utf-8")
    assert "浦东店 概览" in pudong and "全集团概览" not in pudong
    for other in ("徐汇店", "孙九", "X1"):
        assert other not in pudong
    assert "张三" not in xuhui and "浦东店" not in xuhui
    # 浦东店's owners: only 蒋先生 (serviced 11-20), so one-year retention is 1 of 1 = 100% and churn 0% —
    # from 1 case, below the policy's 10: grey and not judged (not green against ≥ 75% / ≤ 25%), n shown.
    # Its leads created in the last 30 days: L1–L4, so the funnel rates show n=4.
    table = pudong[pudong.index('id="kpi-group"'):]
    row = re.search(r"一年保有率.*?</tr>", table, re.S).group(0)
    assert '<td class="few" data-v="1.0000">100.0%<small class="n">n=1</small>' in row
    row = re.search(r"流失率.*?</tr>", table, re.S).group(0)
    assert '<td class="few" data-v="0.0000">0.0%<small class="n">n=1</small>' in row
    row = re.search(r"线索→意向转化率.*?</tr>", table, re.S).group(0)
    assert "n=4</small>" in row
    assert 'class="met"' not in pudong and 'class="missed"' not in pudong  # nothing here has 10 cases


def test_store_nights_put_the_stores_figures_in_place_of_the_groups() -> None:
    earlier = [
        {"as_of": "2026-11-22", "t30": {"group": {"referral_rate": 0.5},
                                        "store": {"浦东店": {"referral_rate": 0.2}, "徐汇店": {"referral_rate": 0.8}}}},
        {"as_of": "2026-11-21", "t30": {"group": {"referral_rate": 0.5}, "store": {"徐汇店": {"referral_rate": 0.8}}}},
    ]
    assert store_nights(earlier, "浦东店") == [{"as_of": "2026-11-22", "t30": {"group": {"referral_rate": 0.2}}}]


@pytest.mark.slow  # two nights of reports with their charts (matplotlib)
def test_a_stores_report_shows_its_trend_from_the_second_night(store: History, policy, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for as_of in (NIGHT1, NIGHT2):
        night, worklist = _night(store, as_of, policy)
        run_dir = out / as_of.isoformat()
        run_dir.mkdir(parents=True)
        inputs = store.inputs(as_of)
        kpis = compute_kpis(inputs, policy, as_of, worklist, night)
        write_kpi_outputs(kpis, latest_per_key(inputs).advisors.collect(), worklist, policy, as_of, run_dir, [])
    single = "仅有今晚数据，走势从下一晚起显示"
    first = (out / NIGHT1.isoformat() / "reports" / "浦东店.html").read_text(encoding="utf-8")
    second = (out / NIGHT2.isoformat() / "reports" / "浦东店.html").read_text(encoding="utf-8")
    assert single in first and single not in second
    assert f"{NIGHT1.isoformat()} – {NIGHT2.isoformat()}" in second  # the trend chart spans both nights
    assert "徐汇店" not in second
