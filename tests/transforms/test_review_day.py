"""A day's decisions (transforms/review.py): the review workbook holds at most `[review] daily_rows` customers per
manager, the decisions that save the most today first — a handed-over customer with live work and a hot lead
before stale work such as a year-old win-back — and a customer decided before after those never decided."""

from __future__ import annotations

import polars as pl

from policy.model import Policy
from tests.conftest import AS_OF, fu, lead, make_inputs, ro
from transforms.night import prepare
from transforms.plan import plan_night
from transforms.review import review_rows
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
