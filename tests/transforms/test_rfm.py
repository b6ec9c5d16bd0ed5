"""Service segments (SPEC §7): R = days since the latest visit, F = visits and M = mean amount per visit in
the 365 days to D (inclusive), against the average ticket of all owners of the same store; first match wins.
Expected segments are worked out by hand in the comments."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from policy.model import Policy
from tests.conftest import AS_OF, make_inputs, ro, sale
from transforms.customers import customer_id
from transforms.frames import Inputs
from transforms.rfm import rfm_segments

# D = 2026-11-23.
# 浦东店 owners' visits in the window: P1 3000 + 3000, P2 2000, P3 200, P6 200 → avg ticket 8400 / 5 = 1680
# 静安店: P7 600 + 600, P8 100 + 100 → avg ticket 1400 / 4 = 350
OWNERS = make_inputs(
    sales=[
        sale("O1", "2025-05-20", "13800000011", delivered_at="2025-06-01"),  # P1
        sale("O4", "2023-12-20", "13800000014", delivered_at="2024-01-01"),  # P4
        sale("O5", "2024-12-20", "13800000015", delivered_at="2025-01-01"),  # P5: never serviced
    ],
    service=[
        ro("R11", "2026-10-01 09:00", "13800000011", amount="3000"),
        ro("R12", "2026-11-10 09:00", "13800000011", amount="3000"),
        ro("R2", "2026-07-01 09:00", "13800000012", amount="2000"),  # P2, service-only
        ro("R3", "2026-01-01 09:00", "13800000013", amount="200"),  # P3
        ro("R4", "2025-11-20 09:00", "13800000014", amount="900"),  # P4: 368 days ago, outside the window
        ro("R6", "2026-03-01 09:00", "13800000016", amount="200"),  # P6
        ro("R71", "2026-11-01 09:00", "13800000017", amount="600", store="静安店"),  # P7
        ro("R72", "2026-11-15 09:00", "13800000017", amount="600", store="静安店"),
        ro("R81", "2026-10-01 09:00", "13800000018", amount="100", store="静安店"),  # P8
        ro("R82", "2026-10-20 09:00", "13800000018", amount="100", store="静安店"),
    ],
)


def by_phone(inputs, policy) -> pl.DataFrame:
    """Segments keyed by the customer's phone (customer_id is a hash of it)."""
    segs = rfm_segments(inputs, policy, AS_OF)
    phones = pl.concat([inputs.sales.select("phone"), inputs.service.select("phone")]).unique().collect()
    keyed = phones.with_columns(customer_id(pl.col("phone")).alias("customer_id"))
    return segs.join(keyed, on="customer_id").sort("phone")


def test_segments_worked_by_hand(policy):
    got = by_phone(OWNERS, policy).select("phone", "store", "recency_days", "visits", "mean_ticket",
                                          "store_avg_ticket", "segment")
    expected = pl.DataFrame(
        {
            "phone": [f"+861380000001{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8)],
            "store": ["浦东店"] * 6 + ["静安店"] * 2,
            # R: 11-10 → 13; 07-01 → 145; 01-01 → 326; 2025-11-20 → 368; none; 03-01 → 267; 11-15 → 8;
            # 10-20 → 34
            "recency_days": [13, 145, 326, 368, None, 267, 8, 34],
            "visits": [2, 1, 1, 0, 0, 1, 2, 2],
            "mean_ticket": [3000.0, 2000.0, 200.0, None, None, 200.0, 600.0, 100.0],
            "store_avg_ticket": [1680.0] * 6 + [350.0] * 2,
            # P1: R 13 ≤ 90, F 2, 3000 ≥ 1.5 × 1680 = 2520 → high_value
            # P2: R 145 ≤ 180, F 1, 2000 ≥ 1680 → potential
            # P3, P6: within 365 days, but low ticket / old → regular; P4, P5: no visit in 365 days → lost
            # P7: R 8, F 2, 600 ≥ 1.5 × 350 = 525 → high_value (against the group's average it would not be)
            # P8: F 2 but 100 < 525, and potential needs F = 1 → regular
            "segment": ["high_value", "potential", "regular", "lost", "lost", "regular", "high_value",
                        "regular"],
        },
        schema_overrides={"recency_days": pl.Int64, "visits": pl.Int64},
    )
    assert_frame_equal(got, expected)


def lone_visit(days_ago_date: str) -> Inputs:
    return make_inputs(service=[ro("R1", f"{days_ago_date} 09:00", "13800000021", amount="500")])


@pytest.mark.parametrize(
    ("visited", "segment"),
    [
        ("2026-05-27", "potential"),  # D − 180: F 1, M = the store's average (it is the only owner)
        ("2026-05-26", "regular"),  # D − 181
        ("2025-11-23", "regular"),  # D − 365: still in the window
        ("2025-11-22", "lost"),  # D − 366
    ],
)
def test_recency_boundaries(policy, visited, segment):
    assert rfm_segments(lone_visit(visited), policy, AS_OF)["segment"].to_list() == [segment]


@pytest.mark.parametrize(("latest", "segment"), [("2026-08-25", "high_value"), ("2026-08-24", "regular")])
def test_high_value_recency_and_ticket_boundary(policy, latest, segment):
    # A: 3000 + 3000, B: 0 → avg 2000, A's mean 3000 = exactly 1.5 × 2000 (inclusive); R 90 vs 91
    inputs = make_inputs(service=[
        ro("RA1", f"{latest} 09:00", "13800000031", amount="3000"),
        ro("RA2", "2026-08-15 09:00", "13800000031", amount="3000"),
        ro("RB", "2026-05-07 09:00", "13800000032", amount="0"),
    ])
    got = by_phone(inputs, policy)
    assert got.filter(pl.col("phone") == "+8613800000031")["segment"].to_list() == [segment]


def test_first_match_wins_and_rules_come_from_the_policy(policy):
    # P1 (R 13, F 2, high ticket) matches every rule; the first listed wins. With the order reversed it is
    # `regular`, and with a 180-day window for regular P3 (R 326) and P6 (R 267) fall to the fallback.
    data = policy.model_dump()
    data["rfm"]["segments"] = [
        {"name": "regular", "max_recency_days": 180, "min_visits": 1},
        {"name": "high_value", "max_recency_days": 90, "min_visits": 2, "min_ticket_ratio": 1.5},
    ]
    data["rfm"]["fallback"] = "sleeping"
    changed = Policy.model_validate(data)
    got = dict(by_phone(OWNERS, changed).select("phone", "segment").iter_rows())
    assert got["+8613800000011"] == "regular"
    assert got["+8613800000013"] == "sleeping"
    assert got["+8613800000016"] == "sleeping"
    assert got["+8613800000014"] == "sleeping"


def test_only_owners_are_segmented(policy):
    # delivered 30 days ago: `won`, not an owner yet (owner from 90 days after delivery)
    inputs = make_inputs(
        sales=[sale("O1", "2026-10-10", "13800000041", delivered_at="2026-10-24")],
        service=[ro("R1", "2026-11-20 09:00", "13800000041", amount="300")],
    )
    assert rfm_segments(inputs, policy, AS_OF).is_empty()


def test_policy_rejects_a_rule_longer_than_the_window(policy):
    data = policy.model_dump()
    data["rfm"]["window_days"] = 180
    with pytest.raises(ValueError, match="max_recency_days"):
        Policy.model_validate(data)
