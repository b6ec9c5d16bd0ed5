"""The managers' KPIs (SPEC §8), each against a value worked out by hand on a tiny fixture.

D = 2026-11-23: month-to-date is 11-01 … 11-23, the trailing 30 days 10-25 … 11-23 (both inclusive)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from policy.model import Policy
from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.kpis import KPIS, compute_kpis, kpi_values, nested, windows

KEYS = ("lead_to_intent", "intent_to_won", "lead_to_won", "first_response_sla", "first_response_hours",
        "followup_on_time",
        "deal_cycle_median_days", "referral_rate", "retention_1y", "churn_1y", "csat_mean", "csat_share_90",
        "overdue_backlog", "rfm")
EMPTY_WORKLIST = pl.DataFrame(schema={"store": pl.String, "advisor_id": pl.String, "customer_id": pl.String,
                                      "lead_id": pl.String, "days_overdue": pl.Int64})


def kpis(inputs, policy, worklist=EMPTY_WORKLIST, as_of=AS_OF):
    return compute_kpis(inputs, policy, as_of, worklist)


def value(result, key, period="mtd", dimension="group", member="all"):
    return kpi_values(result, period, dimension, member)[key]


# --- funnel, first response, deals ------------------------------------------------------------------------

FUNNEL = make_inputs(
    leads=[
        # in both windows
        lead("L1", "2026-11-20 10:00", "13800000001", grade="B", status="意向", source="汽车之家"),
        lead("L2", "2026-11-10 09:00", "13800000002", grade="S", source="汽车之家"),
        lead("L3", "2026-11-05 09:00", "13800000003", grade="C", status="战败", lost_reason="价格因素",
             source="抖音"),
        lead("L4", "2026-11-23 08:00", "13800000004", grade="C"),  # created on D, due D + 1
        # trailing 30 days only, another store and advisor
        lead("L5", "2026-10-28 09:00", "13800000005", grade="A", source="懂车帝", store="静安店",
             advisor_id="S2"),
        # outside both windows: only their orders count
        lead("L6", "2026-10-01 09:00", "13800000006", source="汽车之家", referrer_phone="13900000000"),
        lead("L7", "2026-10-20 09:00", "13800000007", source="抖音"),
    ],
    followups=[
        fu("2026-11-21 09:00", "L1"),  # due 11-21 (B: + 24 h) → on time
        fu("2026-11-11 09:00", "L2"),  # due 11-10 (S: + 1 h) → late
        fu("2026-10-28 15:00", "L5", advisor_id="S2"),  # due 10-28 (A: + 1 h) → on time
    ],
    sales=[
        sale("O2", "2026-11-15", "13800000002", lead_id="L2", referrer_phone="13900000001"),  # 5 d, referred
        sale("O5", "2026-11-02", "13800000005", lead_id="L5", store="静安店", advisor_id="S2"),  # 5 days
        sale("O6", "2026-11-20", "13800000006", lead_id="L6"),  # 50 days, referred on the lead
        sale("O7", "2026-10-26", "13800000007", lead_id="L7"),  # 6 days, t30 only
    ],
)


def test_funnel_rates(policy):
    r = kpis(FUNNEL, policy)
    # MTD cohort L1–L4: at intent or beyond L1 (intent), L2 (won) → 2/4; won L2 → 1/4; of the 2, 1 won
    assert value(r, "lead_to_intent") == pytest.approx(2 / 4)
    assert value(r, "lead_to_won") == pytest.approx(1 / 4)
    assert value(r, "intent_to_won") == pytest.approx(1 / 2)
    # t30 adds L5 (won): 3/5, 2/5, 2/3
    assert value(r, "lead_to_intent", "t30") == pytest.approx(3 / 5)
    assert value(r, "lead_to_won", "t30") == pytest.approx(2 / 5)
    assert value(r, "intent_to_won", "t30") == pytest.approx(2 / 3)


def test_funnel_by_store_source_and_advisor(policy):
    r = kpis(FUNNEL, policy)
    assert value(r, "lead_to_intent", "t30", "store", "静安店") == pytest.approx(1.0)
    assert value(r, "lead_to_intent", "mtd", "store", "静安店") is None  # no lead created there this month
    assert value(r, "lead_to_won", "mtd", "source", "汽车之家") == pytest.approx(1 / 2)  # L1, L2
    assert value(r, "lead_to_intent", "mtd", "source", "抖音") == pytest.approx(0.0)  # L3 lost
    assert value(r, "intent_to_won", "mtd", "source", "抖音") is None  # nobody reached intent
    assert value(r, "lead_to_intent", "mtd", "source", "未知") == pytest.approx(0.0)  # L4, no source typed
    assert value(r, "lead_to_intent", "mtd", "advisor", "S1") == pytest.approx(2 / 4)


def test_lead_to_won_is_the_product_of_the_two_steps(policy):
    r = kpis(FUNNEL, policy)
    for period in ("mtd", "t30"):
        assert value(r, "lead_to_won", period) == pytest.approx(
            value(r, "lead_to_intent", period) * value(r, "intent_to_won", period)
        )


def test_first_response_sla(policy):
    r = kpis(FUNNEL, policy)
    # MTD: L1 met, L2 late, L3 never called and due 11-06 → missed, L4 due tomorrow → not counted: 1/3
    assert value(r, "first_response_sla") == pytest.approx(1 / 3)
    assert value(r, "first_response_sla", "t30") == pytest.approx(2 / 4)  # + L5 met
    assert value(r, "first_response_sla", "mtd", "source", "汽车之家") == pytest.approx(1 / 2)
    assert value(r, "first_response_sla", "mtd", "source", "未知") is None


@pytest.mark.parametrize(
    ("grade", "called", "met"),
    [
        ("S", "2026-11-20 23:59", True),  # created 11-20 10:00 + 1 h → due 11-20
        ("S", "2026-11-21 08:00", False),
        ("B", "2026-11-21 18:00", True),  # + 24 h → due 11-21
        ("B", "2026-11-22 08:00", False),
        ("D", "2026-11-22 18:00", True),  # + 48 h → due 11-22
        ("D", "2026-11-23 08:00", False),
    ],
)
def test_sla_due_by_grade_as_a_date(policy, grade, called, met):
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", grade=grade)], followups=[fu(called)])
    assert value(kpis(inputs, policy), "first_response_sla") == (1.0 if met else 0.0)


def test_sla_uses_the_grade_the_lead_was_entered_with(policy):
    # entered as D (due 11-22); a later call re-grades it S — the SLA stays the D one, and was met
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", grade="D")],
                         followups=[fu("2026-11-22 10:00", grade="S")])
    assert value(kpis(inputs, policy), "first_response_sla") == 1.0


def test_first_response_hours_is_the_median_from_lead_to_first_call(policy):
    # L1 called after 30 min, L2 after 2 h (its second call later does not count), L3 after 26 h,
    # L4 never called (left out): the median of 0.5, 2, 26 is 2 hours
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-20 10:00", grade="S"), lead("L2", "2026-11-20 11:00", phone="13800138002"),
               lead("L3", "2026-11-20 12:00", phone="13800138003"), lead("L4", "2026-11-21 09:00",
                                                                        phone="13800138004")],
        followups=[fu("2026-11-20 10:30"), fu("2026-11-20 13:00", lead_id="L2"),
                   fu("2026-11-21 09:00", lead_id="L2"), fu("2026-11-21 14:00", lead_id="L3")])
    r = kpis(inputs, policy)
    assert value(r, "first_response_hours") == pytest.approx(2.0)
    # the SLA is judged by date: L1–L3 on time (L3: C, due 11-21), L4 never called and due 11-22 → missed
    assert value(r, "first_response_sla") == pytest.approx(3 / 4)


def test_do_not_contact_leads_are_left_out_of_the_sla(policy):
    inputs = make_inputs(leads=[lead("L1", "2026-11-10 10:00", do_not_contact="是")])
    r = kpis(inputs, policy)
    assert value(r, "first_response_sla") is None
    assert value(r, "followup_on_time") is None


def test_deal_cycle_and_referrals(policy):
    r = kpis(FUNNEL, policy)
    # MTD orders O2 (5 d, referred), O5 (5 d), O6 (50 d, referred on its lead)
    assert value(r, "deal_cycle_median_days") == pytest.approx(5.0)
    assert value(r, "referral_rate") == pytest.approx(2 / 3)
    # t30 adds O7 (6 d): median of 5, 5, 6, 50 = 5.5; 2 of 4 referred
    assert value(r, "deal_cycle_median_days", "t30") == pytest.approx(5.5)
    assert value(r, "referral_rate", "t30") == pytest.approx(2 / 4)
    assert value(r, "deal_cycle_median_days", "mtd", "source", "汽车之家") == pytest.approx(27.5)  # O2, O6
    assert value(r, "referral_rate", "mtd", "store", "静安店") == pytest.approx(0.0)
    assert value(r, "referral_rate", "mtd", "advisor", "S2") == pytest.approx(0.0)


def test_cancelled_orders_are_not_deals(policy):
    inputs = make_inputs(
        leads=[lead("L1", "2026-11-01 10:00")],
        sales=[sale("O1", "2026-11-05", lead_id="L1", status="已退订", referrer_phone="13900000001")],
    )
    r = kpis(inputs, policy)
    assert value(r, "referral_rate") is None
    assert value(r, "deal_cycle_median_days") is None
    assert value(r, "lead_to_won") == 0.0


# --- follow-ups on time ------------------------------------------------------------------------------------

ON_TIME = make_inputs(
    leads=[lead("L1", "2026-11-10 10:00", "13800000001", grade="B")],  # first contact due 11-11
    followups=[
        fu("2026-11-12 10:00", "L1", next_followup_at="2026-11-15"),  # first contact late; plans 11-15
        fu("2026-11-15 10:00", "L1", next_followup_at="2026-11-20"),  # plan kept; plans 11-20, never called
        fu("2026-11-11 10:00", None, phone="13800000009"),  # the buyer: day-1 call on its day
        fu("2026-11-18 10:00", None, phone="13800000009"),  # closes day 3 (due 11-13) and day 7 (11-17), late
    ],
    sales=[sale("O1", "2026-11-01", "13800000009", delivered_at="2026-11-10")],
    # complaint due 11-20, no call since → missed; revisit due 11-23 = D, not called yet → not counted
    service=[ro("R1", "2026-11-20 09:00", "13800000009", complaint="是")],
)


def test_followup_on_time(policy):
    r = kpis(ON_TIME, policy)
    # judged: first contact ✗, plan 11-15 ✓, plan 11-20 ✗, day 1 ✓, day 3 ✗, day 7 ✗, complaint ✗ → 2/7
    assert value(r, "followup_on_time") == pytest.approx(2 / 7)
    # S1 owns all but the complaint (2/6); the complaint is V1's, the service advisor on the order (0/1)
    assert value(r, "followup_on_time", "mtd", "advisor", "S1") == pytest.approx(2 / 6)
    assert value(r, "followup_on_time", "mtd", "advisor", "V1") == pytest.approx(0.0)


def test_only_tasks_due_in_the_windows_are_judged_and_their_calls_come_from_all_history(policy):
    """Issue #17 rebuilds only the tasks due in the windows (t30 starts 10-25): a plan due 09-20, called late on
    10-28, is not judged; a plan made on 09-01 for 10-30 and called on 10-30 is on time, its call found among all
    of the lead's follow-ups. The lead's first contact (due 08-02) is outside both windows too."""
    inputs = make_inputs(
        leads=[lead("L1", "2026-08-01 10:00", "13800000001", grade="B")],
        followups=[
            fu("2026-08-01 12:00", "L1", next_followup_at="2026-09-20"),  # plan due 09-20: before the windows
            fu("2026-09-01 10:00", "L1", next_followup_at="2026-10-30"),  # plan due 10-30, inside t30
            fu("2026-10-30 10:00", "L1"),  # closes 10-30 on its day (and the 09-20 plan, long after)
        ],
    )
    r = kpis(inputs, policy)
    assert value(r, "followup_on_time", "t30") == pytest.approx(1.0)
    assert value(r, "followup_on_time", "t30", "advisor", "S1") == pytest.approx(1.0)
    assert value(r, "followup_on_time") is None  # nothing due in November


def test_a_task_due_on_d_counts_once_done(policy):
    inputs = make_inputs(
        sales=[sale("O1", "2026-11-01", "13800000009", delivered_at="2026-11-22")],  # day 1 due on D
        followups=[fu("2026-11-23 09:00", None, phone="13800000009")],
    )
    assert value(kpis(inputs, policy), "followup_on_time") == 1.0


@pytest.mark.parametrize(("said", "on_time"), [("2026-11-10 18:00", None), ("2026-11-12", 0.0)])
def test_only_a_promise_is_judged_as_a_planned_follow_up(policy, said, on_time):
    """A next date on the follow-up's own day promised nothing (the worklist ignores it, SPEC §6b): not judged; one
    on 11-12, never called, is missed. The lead's first contact (08-01) is outside both windows."""
    inputs = make_inputs(leads=[lead("L1", "2026-08-01 10:00", "13800000001", grade="B")],
                         followups=[fu("2026-08-01 12:00", "L1"), fu("2026-11-10 10:00", "L1", next_followup_at=said)])
    assert value(kpis(inputs, policy), "followup_on_time") == on_time


@pytest.mark.parametrize(("outcome", "on_time"), [("已接通", 1.0), ("未接通", 0.0)])
def test_an_unanswered_call_does_not_do_the_task(policy, outcome, on_time):
    """Delivered 11-21: the day-1 call is due 11-22, called that day; an 未接通 is an attempt, not the call."""
    inputs = make_inputs(
        sales=[sale("O1", "2026-11-01", "13800000009", delivered_at="2026-11-21")],
        followups=[fu("2026-11-22 09:00", None, phone="13800000009", outcome=outcome)],
    )
    assert value(kpis(inputs, policy), "followup_on_time") == on_time


# --- owners: retention, churn, RFM -------------------------------------------------------------------------

OWNERS = make_inputs(
    sales=[
        sale("O1", "2025-05-20", "13800000011", delivered_at="2025-06-01"),
        sale("O4", "2023-12-20", "13800000014", delivered_at="2024-01-01"),
        sale("O5", "2024-12-20", "13800000015", delivered_at="2025-01-01"),  # never serviced
    ],
    service=[
        ro("R11", "2026-10-01 09:00", "13800000011", amount="3000"),
        ro("R12", "2026-11-10 09:00", "13800000011", amount="3000"),
        ro("R2", "2026-07-01 09:00", "13800000012", amount="2000"),
        ro("R3", "2026-01-01 09:00", "13800000013", amount="200"),  # 326 days before D
        ro("R4", "2025-11-20 09:00", "13800000014", amount="900"),  # 368 days before D
        ro("R6", "2026-03-01 09:00", "13800000016", amount="200"),  # 267 days before D
        ro("R71", "2026-11-01 09:00", "13800000017", amount="600", store="静安店"),
        ro("R72", "2026-11-15 09:00", "13800000017", amount="600", store="静安店"),
        ro("R81", "2026-10-01 09:00", "13800000018", amount="100", store="静安店"),
        ro("R82", "2026-10-20 09:00", "13800000018", amount="100", store="静安店"),
    ],
)


def test_retention_churn_and_rfm(policy):
    r = kpis(OWNERS, policy)
    # 8 owners; served within 365 days: all but the 368-day one and the never-serviced one → 6/8
    assert value(r, "retention_1y") == pytest.approx(6 / 8)
    assert value(r, "churn_1y") == pytest.approx(2 / 8)
    assert value(r, "retention_1y", "t30") == value(r, "retention_1y")  # as on D
    assert value(r, "retention_1y", "mtd", "store", "浦东店") == pytest.approx(4 / 6)
    assert value(r, "retention_1y", "mtd", "store", "静安店") == pytest.approx(1.0)
    # segments worked in tests/transforms/test_rfm.py
    assert value(r, "rfm") == {"high_value": 2, "potential": 1, "regular": 3, "lost": 2}
    assert value(r, "rfm", "mtd", "store", "静安店") == {
        "high_value": 1, "potential": 0, "regular": 1, "lost": 0,
    }


def test_churn_threshold_comes_from_the_policy(policy):
    data = policy.model_dump()
    data["rfm"]["churn_days"] = 180  # some regional standards
    r = kpis(OWNERS, Policy.model_validate(data))
    # served within 180 days: R 13, 145, 8, 34 → 4/8
    assert value(r, "retention_1y") == pytest.approx(4 / 8)
    assert value(r, "churn_1y") == pytest.approx(4 / 8)


@pytest.mark.parametrize(("visited", "retained"), [("2025-11-23", 1.0), ("2025-11-22", 0.0)])
def test_retention_boundary_is_inclusive(policy, visited, retained):
    inputs = make_inputs(service=[ro("R1", f"{visited} 09:00", "13800000021")])  # service-only → owner
    assert value(kpis(inputs, policy), "retention_1y") == retained


# --- CSAT ---------------------------------------------------------------------------------------------------

CSAT = make_inputs(service=[
    ro("R1", "2026-11-02 09:00", csat="95"),
    ro("R2", "2026-11-05 09:00", csat="4"),  # 1–5 scale → 80
    ro("R3", "2026-11-10 09:00", csat="5"),  # → 100
    ro("R4", "2026-11-20 09:00", csat="58", service_advisor_id="V2"),
    ro("R5", "2026-10-30 09:00", csat="3"),  # t30 only → 60
    ro("R6", "2026-11-21 09:00"),  # no score: not counted
])


def test_csat(policy):
    r = kpis(CSAT, policy)
    assert value(r, "csat_mean") == pytest.approx((95 + 80 + 100 + 58) / 4)  # 83.25
    assert value(r, "csat_share_90") == pytest.approx(2 / 4)
    assert value(r, "csat_mean", "t30") == pytest.approx((95 + 80 + 100 + 58 + 60) / 5)  # 78.6
    assert value(r, "csat_share_90", "t30") == pytest.approx(2 / 5)
    assert value(r, "csat_mean", "mtd", "advisor", "V2") == pytest.approx(58.0)
    assert value(r, "csat_share_90", "mtd", "advisor", "V1") == pytest.approx(2 / 3)


# --- overdue backlog ----------------------------------------------------------------------------------------


def test_overdue_backlog_counts_tasks_past_due_per_advisor(policy):
    worklist = pl.DataFrame({
        "store": ["浦东店", "浦东店", "浦东店", "静安店"],
        "advisor_id": ["S1", "S1", "M1", "S9"],
        "customer_id": ["C1", "C2", "C3", "C4"],
        "lead_id": [None, None, None, None],
        "days_overdue": [2, 0, 5, 1],  # due today is not overdue
    }, schema_overrides={"lead_id": pl.String})
    r = kpis(make_inputs(), policy, worklist)
    assert value(r, "overdue_backlog") == 3
    assert value(r, "overdue_backlog", "mtd", "advisor", "S1") == 1
    assert value(r, "overdue_backlog", "mtd", "advisor", "M1") == 1
    assert value(r, "overdue_backlog", "t30", "store", "浦东店") == 2


def test_overdue_backlog_from_the_nights_worklist(policy):
    # no worklist given: built here. Created 11-20, grade C → first contact due 11-21, 2 days overdue on D
    inputs = make_inputs(leads=[lead("L1", "2026-11-20 10:00", grade="C")])
    r = compute_kpis(inputs, policy, AS_OF)
    assert value(r, "overdue_backlog") == 1
    assert value(r, "overdue_backlog", "mtd", "source", "未知") == 1


# --- shape and registry -------------------------------------------------------------------------------------


def test_windows_are_inclusive_and_end_on_d():
    mtd, t30 = windows(AS_OF)
    assert (mtd.start, mtd.end) == (date(2026, 11, 1), AS_OF)
    assert (t30.start, t30.end) == (date(2026, 10, 25), AS_OF)
    assert (AS_OF - t30.start).days + 1 == 30


def test_nested_shape_with_nothing_to_count(policy):
    data = nested(kpis(make_inputs(), policy))
    assert set(data) == {"as_of", "mtd", "t30"}
    assert data["as_of"] == "2026-11-23"
    for period in ("mtd", "t30"):
        assert set(data[period]) == {"group", "store", "advisor", "source"}
        group = data[period]["group"]
        assert tuple(group) == KEYS
        assert group["overdue_backlog"] == 0
        assert group["rfm"] == {"high_value": 0, "potential": 0, "regular": 0, "lost": 0}
        assert all(group[k] is None for k in KEYS if k not in ("overdue_backlog", "rfm"))


def test_every_member_has_every_key(policy):
    data = nested(kpis(FUNNEL, policy))
    assert set(data["mtd"]["store"]) == {"浦东店", "静安店"}
    assert set(data["t30"]["source"]) == {"汽车之家", "抖音", "懂车帝", "未知"}
    for dimension in ("store", "advisor", "source"):
        for values in data["mtd"][dimension].values():
            assert tuple(values) == KEYS


def test_each_kpi_is_defined_once_in_both_languages(policy):
    assert tuple(KPIS) == KEYS
    for entry in KPIS.values():
        for language in ("zh", "en"):
            assert entry.label(language).strip()
            text = entry.definition(language, policy)
            assert len(text) > 20 and "{" not in text
    assert "365" in KPIS["retention_1y"].definition("zh", policy)


# --- per advisor and store, aggregated in one pass ----------------------------------------------------------

TEAMS = make_inputs(
    leads=[
        lead("L1", "2026-11-20 10:00", "13800000031", grade="B", status="意向"),  # S1 浦东店
        lead("L2", "2026-11-05 09:00", "13800000032", grade="C", status="战败"),  # S1 浦东店, never called
        lead("L3", "2026-11-12 09:00", "13800000033", grade="A", status="意向", store="静安店", advisor_id="S2"),
        lead("L4", "2026-11-15 09:00", "13800000034", grade="B", store="静安店", advisor_id="S3"),  # never called
        lead("L5", "2026-11-16 09:00", "13800000035", grade="B", status="意向", store="静安店", advisor_id="S3"),
    ],
    followups=[
        fu("2026-11-21 09:00", "L1"),  # due 11-21 (B: + 24 h) → met
        fu("2026-11-12 09:30", "L3", advisor_id="S2"),  # due 11-12 (A: + 1 h) → met
        fu("2026-11-18 09:00", "L5", advisor_id="S3"),  # due 11-17 → late
    ],
)


def test_kpis_per_advisor_and_store_by_hand(policy):
    r = kpis(TEAMS, policy)
    # reached intent: S1 L1 of L1, L2 → 1/2; S2 L3 → 1/1; S3 L5 of L4, L5 → 1/2; group 3/5
    # SLA met: S1 L1 of 2; S2 L3 of 1; S3 none of 2 (L4 never called, L5 late); group 2/5
    expected = {
        ("advisor", "S1"): (1 / 2, 1 / 2), ("advisor", "S2"): (1.0, 1.0), ("advisor", "S3"): (1 / 2, 0.0),
        ("store", "浦东店"): (1 / 2, 1 / 2), ("store", "静安店"): (2 / 3, 1 / 3), ("group", "all"): (3 / 5, 2 / 5),
    }
    for (dimension, member), (intent, sla) in expected.items():
        assert value(r, "lead_to_intent", "mtd", dimension, member) == pytest.approx(intent)
        assert value(r, "first_response_sla", "mtd", dimension, member) == pytest.approx(sla)
    assert r.cell("mtd", "advisor", "S3", "first_response_sla") == (0.0, 0.0, 2)  # value, num, n
    assert r.cell("mtd", "store", "静安店", "lead_to_intent") == (pytest.approx(2 / 3), 2.0, 3)
    assert r.cell("mtd", "advisor", "S9", "lead_to_intent") is None
    assert r.members["advisor"] == ["S1", "S2", "S3"]
    assert nested(r)["mtd"]["advisor"]["S2"]["intent_to_won"] == 0.0  # L3 at intent, not won
