"""A day's decisions (transforms/review.py): the review workbook holds at most `[review] daily_rows` customers per
manager, the decisions that save the most today first — a handed-over customer with live work and a hot lead
before stale work such as a year-old win-back — and a customer decided before after those never decided."""

from __future__ import annotations

import polars as pl
import pytest

from policy.model import Policy
from tests.conftest import AS_OF, fu, lead, make_inputs, ro
from transforms.night import prepare
from transforms.plan import plan_night
from transforms.review import bulk_proposals, capacities, review_rows
from transforms.worklist import worklist_from

ROSTER = [
    {"advisor_id": "M1", "name": "王经理", "store": "浦东店", "role": "经理", "active": "是"},
    {"advisor_id": "S1", "name": "张三", "store": "浦东店", "role": "销售顾问", "active": "是", "manager_id": "M1",
     "daily_capacity": "1"},
    {"advisor_id": "S2", "name": "李四", "store": "浦东店", "role": "销售顾问", "active": "否", "manager_id": "M1"},
    {"advisor_id": "S3", "name": "周七", "store": "浦东店", "role": "销售顾问", "active": "是", "manager_id": "M1"},
    {"advisor_id": "V1", "name": "赵六", "store": "浦东店", "role": "服务顾问", "active": "是", "manager_id": "M1"},
]
LEADS = [
    # 李四 left: his new lead, due for its first call today, is handed over to the manager (live work)
    lead("L1", "2026-11-22 10:00", "13800138001", customer_name="韩先生", advisor_id="S2", grade="B"),
    # 张三 takes one customer a day: his new lead L3 (act now) is today's, his S lead L2 (due 11-21) overflows
    lead("L2", "2026-11-01 10:00", "13800138002", customer_name="林女士", grade="S"),
    lead("L3", "2026-11-22 10:00", "13800138003", customer_name="陈先生", grade="C"),
    # a C lead untouched since February: far past its stale limit
    lead("L4", "2026-01-01 10:00", "13800138004", customer_name="吴先生", grade="C"),
    # 周七's S lead untouched since February, whose customer came back yesterday with a new lead (in his plan):
    # the review asks about the stale lead, and ranks it with the stale work
    lead("L5", "2026-01-01 10:00", "13800138006", customer_name="郑女士", grade="S", advisor_id="S3"),
    lead("L6", "2026-11-22 10:00", "13800138006", customer_name="郑女士", grade="S", advisor_id="S3"),
]
FOLLOWUPS = [fu("2026-11-20 10:00", "L2"), fu("2026-02-01 10:00", "L4"),
             fu("2026-02-01 10:00", "L5", advisor_id="S3")]
# serviced 2025-03-01: a win-back due 2026-03-01, 267 days overdue — past win_back's 180
SERVICE = [ro("R1", "2025-03-01 09:00", "13800138005", customer_name="冯先生")]


def _rows(policy: Policy, decided: list[str] | None = None) -> pl.DataFrame:
    night = prepare(make_inputs(leads=LEADS, followups=FOLLOWUPS, service=SERVICE, advisors=ROSTER), policy, AS_OF)
    worklist = plan_night(worklist_from(night, policy, AS_OF), night, policy, AS_OF)
    roster = night.inputs.advisors.collect()
    ids = night.customers.filter(pl.col("customer_name").is_in(decided or [])).select("customer_id").collect()
    return review_rows(worklist, roster, policy, ids)


def test_the_decisions_that_save_the_most_come_first(policy: Policy) -> None:
    rows = _rows(policy)
    got = rows.select("review_rank", "customer_name", "section", "live", "lead_id", "proposal").rows()
    assert got == [
        (1, "韩先生", "handed_over", True, "L1", "reassign"),  # nobody calls him; his first call is due today
        (2, "林女士", "overflow", True, "L2", "reassign"),  # a hot (S) lead waiting in a full queue
        (3, "郑女士", "stale", False, "L5", "lost"),  # past saving: the stale ones after, an S lead first,
        (4, "吴先生", "stale", False, "L4", "lost"),  # then a C lead,
        (5, "冯先生", "stale", False, None, "keep"),  # then the year-old win-back (no grade)
    ]
    assert rows["today"].all()  # five rows, within the policy's 30 a day


def test_the_day_holds_daily_rows_and_the_decided_wait(policy: Policy) -> None:
    two_a_day = policy.model_copy(update={"review": policy.review.model_copy(update={"daily_rows": 2})})
    rows = _rows(two_a_day)
    assert rows.filter(pl.col("today"))["customer_name"].to_list() == ["韩先生", "林女士"]
    assert rows.filter(~pl.col("today"))["customer_name"].to_list() == ["郑女士", "吴先生", "冯先生"]  # later
    decided = _rows(two_a_day, decided=["林女士"])  # a decision (say 保持) holds for her already
    assert decided.filter(pl.col("today"))["customer_name"].to_list() == ["韩先生", "郑女士"]
    assert decided["customer_name"].to_list()[-1] == "林女士"


# 张三 (S1, one customer a day, the store's only sales advisor in work) has five new S leads from yesterday: one is
# in his plan, four overflow with nobody to take them (保持); his C lead untouched since February is stale (战败);
# 钱八 (V2) left, so yesterday's complaint of his customer is handed to the manager, and 赵六 (V1) has room (改派)
TIGHT_ROSTER = [*(r for r in ROSTER if r["advisor_id"] != "S3"),
                {"advisor_id": "V2", "name": "钱八", "store": "浦东店", "role": "服务顾问", "active": "否",
                 "manager_id": "M1"}]
HOT = [lead(f"L3{i}", "2026-11-22 10:00", f"1380013803{i}", customer_name=f"客户{i}", grade="S") for i in range(1, 6)]
STALE_LEAD = lead("L39", "2026-01-01 10:00", "13800138039", customer_name="吴先生", grade="C")
COMPLAINT = ro("R3", "2026-11-22 09:00", "13800138040", customer_name="冯先生", service_advisor_id="V2",
               complaint="是")


def test_rows_a_decision_moves_come_before_a_day_of_keep(policy: Policy) -> None:
    """Three rows a day: the handed-over complaint (改派 to 赵六) and the stale lead (战败) are today's, and one of
    the four overflowing S leads (保持); ranked before the proposals were made, the day was three 保持."""
    three_a_day = policy.model_copy(update={"review": policy.review.model_copy(update={"daily_rows": 3})})
    inputs = make_inputs(leads=[*HOT, STALE_LEAD], followups=[fu("2026-02-01 10:00", "L39")], service=[COMPLAINT],
                         advisors=TIGHT_ROSTER)
    night = prepare(inputs, three_a_day, AS_OF)
    worklist = plan_night(worklist_from(night, three_a_day, AS_OF), night, three_a_day, AS_OF)
    rows = review_rows(worklist, night.inputs.advisors.collect(), three_a_day)
    got = rows.select("review_rank", "customer_name", "section", "proposal", "proposed_advisor_id", "today").rows()
    assert got[:2] == [(1, "冯先生", "handed_over", "reassign", "V1", True),  # live work first,
                       (2, "吴先生", "stale", "lost", None, True)]  # then the stale lead
    assert [(r[2], r[3], r[5]) for r in got[2:]] == [("overflow", "keep", True)] + [("overflow", "keep", False)] * 3
    assert {r[1] for r in got[2:]} == {f"客户{i}" for i in range(1, 6)} - set(
        worklist.filter(pl.col("in_plan"))["customer_name"])  # the four S leads not in his plan


# 李四 (S2) left two leads; 张三 (S1) and 周七 (S3) take one customer a day each and have one lead due today
BOOK_ROSTER = [r | {"daily_capacity": "1"} if r["advisor_id"] == "S3" else r for r in ROSTER]
BOOK_LEADS = [
    lead("L41", "2026-11-22 10:00", "13800138041", customer_name="韩先生", advisor_id="S2", grade="B"),
    lead("L42", "2026-11-22 11:00", "13800138042", customer_name="林女士", advisor_id="S2", grade="B"),
    lead("L43", "2026-11-22 10:00", "13800138043", customer_name="陈先生", advisor_id="S1", grade="B"),
    lead("L44", "2026-11-22 10:00", "13800138044", customer_name="吴先生", advisor_id="S3", grade="B"),
]


@pytest.mark.parametrize(("s3_capacity", "book_to", "rows_to"), [
    ("1", None, [None, None]),  # both plans full: nobody is named, for the book or a customer (the manager chooses)
    ("2", "S3", ["S3", None]),  # 周七 has one free place: the book goes to him, and the first handed-over customer
])
def test_the_whole_book_goes_to_a_teammate_with_a_free_place_as_its_customers_do(
        policy: Policy, s3_capacity: str, book_to: str | None, rows_to: list[str | None]) -> None:
    roster = [r | {"daily_capacity": s3_capacity} if r["advisor_id"] == "S3" else r for r in BOOK_ROSTER]
    night = prepare(make_inputs(leads=BOOK_LEADS, advisors=roster), policy, AS_OF)
    worklist = plan_night(worklist_from(night, policy, AS_OF), night, policy, AS_OF)
    advisors = night.inputs.advisors.collect()
    rows = review_rows(worklist, advisors, policy)
    handed = rows.filter(pl.col("section") == "handed_over").sort("review_rank")
    assert handed["proposed_advisor_id"].to_list() == rows_to
    bulk = bulk_proposals(rows, capacities(worklist, advisors, policy), night, policy, AS_OF)
    assert bulk.select("kind", "from_advisor_id", "customers", "proposed_advisor_id").rows() == [
        ("book", "S2", 2, book_to)]
