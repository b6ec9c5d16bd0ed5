"""Who works a task (SPEC §6, §6a): a task whose advisor is inactive or missing from the
roster is orphaned: it goes to the advisor's manager_id when that manager is active,
else to the store's first active manager by advisor_id, marked `orphaned`.
`do_not_contact` (勿扰) on any row of a customer: no tasks but `complaint`."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.worklist import build_worklist


def advisor(
    advisor_id: str, role: str, active: str = "是", manager_id: str | None = None, store: str = "浦东店"
):
    return {
        "advisor_id": advisor_id,
        "name": advisor_id,
        "store": store,
        "role": role,
        "active": active,
        "manager_id": manager_id,
    }


ROSTER = [
    advisor("A1", "经理", store="浦西店"),  # first by id, but another store's
    advisor("M3", "销售经理"),
    advisor("M2", "店总"),
    advisor("M0", "经理", active="否"),
    advisor("S3", "销售顾问", active="否", manager_id="M0"),
    advisor("S4", "销售顾问", active="离职", manager_id="M3"),
    advisor("S5", "销售顾问", manager_id="M3"),
]


def assignment(worklist: pl.DataFrame) -> list[tuple]:
    return worklist.select("task_type", "advisor_id", "orphaned", "original_advisor_id").rows()


def test_an_active_advisor_keeps_the_task(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00")])
    assert assignment(build_worklist(inputs, policy, AS_OF)) == [("first_contact", "S1", False, "S1")]


@pytest.mark.parametrize(
    "inputs",
    [
        make_inputs(leads=[lead("L1", "2026-11-20 10:00", advisor_id="S2")]),
        make_inputs(
            leads=[lead("L1", "2026-11-01 10:00", advisor_id="S2")], followups=[fu("2026-11-10 10:00")]
        ),
        make_inputs(sales=[sale("O1", "2026-11-01", advisor_id="S2", delivered_at="2026-11-22")]),
    ],
    ids=["first_contact", "followup", "post_delivery_d1"],
)
def test_an_inactive_advisors_task_goes_to_the_manager_orphaned(policy, inputs):
    worklist = build_worklist(inputs, policy, AS_OF)
    assert worklist.select("advisor_id", "orphaned", "original_advisor_id").rows() == [("M1", True, "S2")]
    assert worklist["reason"].str.starts_with("【转交】原顾问 李四已离职 · ").to_list() == [True]  # 在职=否, by name


def test_an_advisor_missing_from_the_roster_counts_as_inactive(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", advisor_id="S9")])
    worklist = build_worklist(inputs, policy, AS_OF)
    assert assignment(worklist) == [("first_contact", "M1", True, "S9")]
    assert worklist["reason"].str.starts_with("【转交】原顾问 S9 不在顾问名单 · ").to_list() == [True]  # no name


@pytest.mark.parametrize("service_advisor_id", ["V9", None])
def test_service_work_of_a_missing_advisor_goes_to_the_manager(policy, service_advisor_id):
    inputs = make_inputs(
        service=[ro("R1", "2026-11-20 09:00", csat="1", service_advisor_id=service_advisor_id)]
    )
    got = build_worklist(inputs, policy, AS_OF).select("task_type", "advisor_id", "orphaned")
    assert_frame_equal(
        got,
        pl.DataFrame(
            {
                "task_type": ["complaint", "post_service_revisit"],
                "advisor_id": ["M1", "M1"],
                "orphaned": [True, True],
            }
        ),
    )


def test_orphaned_work_with_no_advisor_at_all_keeps_its_reason(policy):
    inputs = make_inputs(service=[ro("R1", "2026-11-20 09:00", csat="1", service_advisor_id=None)])
    reasons = build_worklist(inputs, policy, AS_OF).filter(pl.col("task_type") == "complaint")["reason"]
    assert reasons.str.starts_with("【转交】原顾问 未指定 · ").to_list() == [True]
    assert reasons.str.contains("工单 R1").to_list() == [True]


@pytest.mark.parametrize(
    ("owner", "routed_to", "orphaned"),
    [
        ("S5", "S5", False),
        ("S4", "M3", True),  # own manager, active
        ("S3", "M2", True),  # own manager inactive → the store's first active manager by id
        ("S9", "M2", True),  # not on the roster, no manager known
    ],
)
def test_orphaned_work_goes_to_an_active_manager_of_the_same_store(policy, owner, routed_to, orphaned):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", advisor_id=owner)], advisors=ROSTER)
    assert assignment(build_worklist(inputs, policy, AS_OF)) == [
        ("first_contact", routed_to, orphaned, owner)
    ]


def dnc_customer(*leads: dict):
    return make_inputs(
        leads=list(leads),
        followups=[fu("2026-11-01 10:00", "L1")],
        sales=[sale("O1", "2026-07-01", delivered_at="2026-11-22")],  # before both leads: links to none
        service=[ro("R1", "2026-11-20 09:00", csat="2")],
    )


def test_a_do_not_contact_customer_gets_only_the_complaint(policy):
    inputs = dnc_customer(lead("L1", "2026-08-01 10:00", do_not_contact="是"), lead("L2", "2026-11-20 10:00"))
    worklist = build_worklist(inputs, policy, AS_OF)
    assert worklist.select("task_type", "due_date").rows() == [("complaint", date(2026, 11, 20))]


def test_the_same_customer_without_do_not_contact_gets_every_task(policy):
    inputs = dnc_customer(lead("L1", "2026-08-01 10:00", do_not_contact="否"), lead("L2", "2026-11-20 10:00"))
    assert sorted(build_worklist(inputs, policy, AS_OF)["task_type"].to_list()) == [
        "complaint",
        "first_contact",
        "followup",
        "post_delivery_d1",
        "post_service_revisit",
    ]


def test_do_not_contact_holds_only_for_that_customer(policy):
    inputs = make_inputs(
        leads=[
            lead("L1", "2026-11-20 10:00", do_not_contact="是"),
            lead("L2", "2026-11-20 10:00", phone="13700137003"),
        ]
    )
    assert build_worklist(inputs, policy, AS_OF).select("task_type", "ref").rows() == [
        ("first_contact", "L2")
    ]
