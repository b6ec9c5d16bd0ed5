"""整批 decisions: one row of the review workbook decides for many customers — a departed advisor's whole book to
one teammate, or every lead of one advisor left without a follow-up past N days marked lost — applied to each of
them, and the digest says how many it moved. The expected sets are worked out by hand from the rows below."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from policy.model import Policy
from reports.digest import Morning, digest_context, managers
from reports.rejects import refused_decision_sheet
from tests.conftest import ADVISORS, AS_OF, fu, lead, make_inputs, sale
from tests.conftest import frame as input_frame
from transforms.bulk_decisions import applied
from transforms.decisions import in_effect, refused
from transforms.night import Night, prepare
from transforms.worklist import open_tasks, worklist_from

ROSTER = [
    *ADVISORS,
    {"advisor_id": "S3", "name": "周七", "store": "浦东店", "role": "销售顾问", "active": "是", "manager_id": "M1"},
    {"advisor_id": "X1", "name": "孙九", "store": "徐汇店", "role": "销售顾问", "active": "是"},
]
E = "2026-11-20"  # the decisions' 生效日期; the night is AS_OF, 2026-11-23

# 李四 (S2) left: his book on 11-20 is L21's, L22's and O21's customers; L24 came in after the decision, and
# L25 is a 徐汇店 lead typed with his id (another store's customer stays there)
BOOK = [
    lead("L21", "2026-11-01 10:00", "13800138021", advisor_id="S2"),
    lead("L22", "2026-10-01 10:00", "13800138022", advisor_id="S2"),
    lead("L24", "2026-11-22 10:00", "13800138024", advisor_id="S2"),
    lead("L25", "2026-11-01 10:00", "13800138025", advisor_id="S2", store="徐汇店"),
]
BOOK_SALES = [sale("O21", "2026-06-01", "13800138023", advisor_id="S2", delivered_at="2026-06-10")]
# 张三 (S1)'s leads, idle on 11-20 for: L11 142 days (called 07-01), L12 50 (called 10-01), L13 172 (never
# called), L14 142 and promised for 12-01 — 153 days after the call, so held at 07-01 + 90 = 09-29, long past
# (SPEC §6b) —, L15 already lost, L16 142 (its call of 11-22 came after the decision), L17 ordered 08-01 (won)
IDLE = [lead(f"L1{i}", "2026-06-01 10:00", f"1390013901{i}") for i in range(1, 8)]
IDLE[4] = IDLE[4] | {"status": "战败", "lost_reason": "价格"}
IDLE_FOLLOWUPS = [
    fu("2026-07-01 10:00", "L11"), fu("2026-10-01 10:00", "L12"),
    fu("2026-07-01 10:00", "L14", next_followup_at="2026-12-01"),
    fu("2026-07-01 10:00", "L16"), fu("2026-11-22 10:00", "L16"), fu("2026-07-01 10:00", "L17"),
]
IDLE_SALES = [sale("O17", "2026-08-01", "13900139017", lead_id="L17")]


def _decision(**kw: str) -> dict:
    return {"decision": "改派", "decided_at": E, "decided_by": "M1", "bulk": "是"} | kw


DECISIONS = [
    _decision(from_advisor_id="S2", new_advisor_id="S3 周七"),
    _decision(decision="战败", from_advisor_id="S1", idle_days="90", lost_reason="超过90天没有跟进"),
    _decision(decision="保持", from_advisor_id="S1"),  # refused: a bulk row only reassigns or marks lost
    _decision(decision="战败", from_advisor_id="S1", lost_reason="久未跟进"),  # refused: no 未跟进天数
    _decision(new_advisor_id="S3"),  # refused: whose book?
    _decision(from_advisor_id="S2", new_advisor_id="X1"),  # refused: 孙九 is of 徐汇店
]


def _night(policy: Policy) -> Night:
    inputs = make_inputs(leads=[*BOOK, *IDLE], followups=IDLE_FOLLOWUPS, sales=[*BOOK_SALES, *IDLE_SALES],
                         advisors=ROSTER)
    inputs = replace(inputs, decisions=input_frame("decisions", DECISIONS))
    return prepare(inputs, policy, AS_OF)


def _customer(night: Night, phone: str) -> str:
    return night.customers.filter(pl.col("phone") == f"+86{phone}").collect()["customer_id"].item()


def test_a_departed_advisors_book_goes_to_one_teammate(policy: Policy) -> None:
    night = _night(policy)
    moved = in_effect(night.decisions, AS_OF).filter(pl.col("decision") == "reassign").collect()
    book = {_customer(night, p) for p in ("13800138021", "13800138022", "13800138023")}
    assert set(moved["customer_id"]) == book
    assert set(moved["from_advisor_id"]) == {"S2"} and set(moved["new_advisor_id"]) == {"S3"}
    worklist = worklist_from(night, policy, AS_OF)
    of = {r["ref"]: r for r in worklist.filter(pl.col("task_type").is_in(["first_contact", "followup"])).to_dicts()}
    for ref in ("L21", "L22"):  # on 周七's list, said whom they came from
        assert (of[ref]["advisor_id"], of[ref]["reassigned_from"], of[ref]["orphaned"]) == ("S3", "S2", False)
    assert (of["L24"]["advisor_id"], of["L24"]["orphaned"]) == ("M1", True)  # came after: handed to the manager
    assert of["L25"]["advisor_id"] != "S3"


def test_leads_idle_past_the_days_are_marked_lost(policy: Policy) -> None:
    night = _night(policy)
    leads = night.leads.collect()
    lost = set(leads.filter(pl.col("lost_reason") == "超过90天没有跟进")["lead_id"])
    assert lost == {"L11", "L13", "L14", "L16"}
    stage = dict(leads.select("lead_id", "stage").rows())
    assert [stage[f"L1{i}"] for i in range(1, 8)] == ["lost", "lead", "lost", "lost", "lost", "lost", "won"]
    assert leads.filter(pl.col("lead_id") == "L15")["lost_reason"].item() == "价格"  # its own reason kept
    worklist = worklist_from(night, policy, AS_OF)
    assert not set(worklist["ref"]) & {"L11", "L13", "L14", "L16"}


@pytest.mark.parametrize(("max_promise_days", "due", "swept"), [
    (90, date(2026, 9, 29), True),  # 12-01 is 153 days after the call of 07-01: held at 09-29, past on 11-20
    (180, date(2026, 12, 1), False),  # a store that keeps promises up to 180 days: 12-01 stands, L14 is kept
])
def test_a_promise_keeps_a_lead_out_of_the_bulk_lost_as_long_as_the_worklist_keeps_it(
        policy: Policy, max_promise_days: int, due: date, swept: bool) -> None:
    """The 整批 战败 reads L14's promise as its worklist does: the day its follow-up task is due."""
    policy = policy.model_copy(update={"promises": policy.promises.model_copy(
        update={"max_promise_days": max_promise_days})})
    undecided = prepare(make_inputs(leads=IDLE, followups=IDLE_FOLLOWUPS, sales=IDLE_SALES, advisors=ROSTER),
                        policy, AS_OF)
    l14 = open_tasks(undecided, policy, AS_OF).filter((pl.col("ref") == "L14") & (pl.col("task_type") == "followup"))
    assert l14.collect()["due_date"].to_list() == [due]
    lost = _night(policy).leads.filter(pl.col("lost_reason") == "超过90天没有跟进").collect()
    assert ("L14" in set(lost["lead_id"])) is swept


def test_each_bulk_row_says_how_many_it_decided_and_bad_ones_are_refused(policy: Policy) -> None:
    night = _night(policy)
    rows = applied(night.decisions).collect()
    assert rows.select("decision", "from_advisor_id", "bulk_size").rows() == [("reassign", "S2", 3), ("lost", "S1", 4)]
    refusals = refused(night.decisions).collect()
    assert refusals.select("decision", "refused_column", "refusal_zh").rows() == [
        ("keep", "decision", "整批只能改派或标记战败（勿扰、保持请逐位客户决定）"),
        ("lost", "idle_days", "整批战败需填写未跟进天数（超过这么多天没有跟进的线索标记战败）"),
        ("reassign", "from_advisor_id", "整批决定需填写原顾问工号"),
        ("reassign", "new_advisor_id", "接手顾问 X1 不是客户所在门店的顾问"),
    ]
    roster = night.inputs.advisors.collect()
    m1 = next(m for m in managers(roster) if m.advisor_id == "M1")
    context = digest_context(m1, worklist_from(night, policy, AS_OF), roster, set(), AS_OF, False,
                             Morning(applied=rows))
    told = [(b["who"], b["what"], b["bulk_size"], b["unit"], b["to"], b["since"]) for b in context["review"]["applied"]]
    assert told == [("李四（已离职）", "名下全部客户", 3, "位", "周七", "11-20"),
                    ("张三", "超过 90 天没有跟进的线索", 4, "条", None, "11-20")]


def test_a_refused_bulk_row_reads_in_the_rejects_as_the_manager_wrote_it(policy: Policy) -> None:
    sheet = refused_decision_sheet(refused(_night(policy).decisions).collect())
    cells = sheet.original.select("决定", "整批", "原顾问工号", "未跟进天数").rows()
    assert cells == [("保持", "是", "S1", None), ("战败", "是", "S1", None), ("改派", "是", None, None),
                     ("改派", "是", "S2", None)]
    assert sheet.rejects["reason_zh"][0] == "整批只能改派或标记战败（勿扰、保持请逐位客户决定）"


def test_the_managers_own_row_about_a_customer_wins_over_the_whole_book(policy: Policy) -> None:
    """李四's book goes to 周七 in bulk, but on the same day the manager gave L21's customer to 王五 (S1) by name:
    that customer is 王五's, the two other customers of the book are 周七's, and the bulk row counts two."""
    own = {"customer_id": None, "decision": "改派", "decided_at": E, "decided_by": "M1", "from_advisor_id": "S2",
           "new_advisor_id": "S1"}
    inputs = make_inputs(leads=BOOK, sales=BOOK_SALES, advisors=ROSTER)
    first = prepare(inputs, policy, AS_OF)
    own["customer_id"] = _customer(first, "13800138021")
    inputs = replace(inputs, decisions=input_frame("decisions", [DECISIONS[0], own]))
    night = prepare(inputs, policy, AS_OF)
    moved = in_effect(night.decisions, AS_OF).filter(pl.col("decision") == "reassign").collect()
    to = dict(zip(moved["customer_id"], moved["new_advisor_id"], strict=True))
    assert to == {own["customer_id"]: "S1", _customer(night, "13800138022"): "S3",
                  _customer(night, "13800138023"): "S3"}
    assert applied(night.decisions).collect()["bulk_size"].to_list() == [2]
