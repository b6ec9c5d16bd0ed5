"""What the worklist and the KPIs both start from, worked out once a night: the inputs as known on the as-of
date, each row's customer, which lead each follow-up and order counts for, and every lead's and customer's
stage and grade (SPEC §4–§6). At group scale this is most of a night's transform time (issue #8)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from policy.model import Policy
from transforms import bulk_decisions, decisions
from transforms.customers import Identity, identify
from transforms.frames import ENGINE, Inputs, known_on, latest_per_key, rule_columns
from transforms.links import followups_to_leads, orders_to_leads
from transforms.stages import customer_state, lead_state


@dataclass(frozen=True)
class Night:
    inputs: Inputs  # as known on D (`known_on`), a later row for a key replacing the earlier (`latest_per_key`),
    # with the columns the rules read (`rule_columns`); lazy: the history is not held twice
    ident: Identity  # every record with its customer_id; `ident.customers` one row per customer
    followups: pl.LazyFrame  # ident.followups + lead_ref
    sales: pl.LazyFrame  # ident.sales + lead_ref
    leads: pl.LazyFrame  # one row per lead: follow-up facts, grade, stage (`lead_state`)
    customers: pl.LazyFrame  # one row per customer: stage and grade (`customer_state`)
    decisions: pl.LazyFrame  # the managers' decisions, checked (`transforms.decisions.check`), 整批 rows expanded


STATE_SECTIONS = ("grades", "stages")  # the only parts of the policy `prepare` reads (lead_state, customer_state)


def state_key(policy: Policy) -> str:
    """Two policies with the same key give the same `prepare` for the same inputs and night (genjin simulate
    builds each night's state once when a proposed policy changes neither grades nor stages)."""
    return policy.model_dump_json(include=set(STATE_SECTIONS))


def prepare(inputs: Inputs, policy: Policy, as_of: date) -> Night:
    """`inputs` as loaded; every frame of the result is computed once (collected) and read many times."""
    known = latest_per_key(known_on(rule_columns(inputs), as_of))
    # each kind read from the history by itself, only the columns the rules read: reading the four at once (as
    # identify's collect_all would) holds all their scans' sorting and de-duplication at the same time
    rows = [kind.collect(engine=ENGINE).lazy() for kind in (known.leads, known.followups, known.sales, known.service)]
    ident = identify(*rows).collected()
    followups, sales = pl.collect_all([  # which lead a row counts for does not depend on the leads' status
        followups_to_leads(ident.followups, ident.leads), orders_to_leads(ident.sales, ident.leads)
    ], engine=ENGINE)
    checked = decisions.check(known.decisions, known.advisors, ident.customers, ident.leads).pipe(
        bulk_decisions.expand, ident, followups.lazy(), sales.lazy(), known.advisors, policy
    ).collect(engine=ENGINE)
    effective = decisions.in_effect(checked.lazy(), as_of)
    lost_status = policy.stages.lost_statuses[0]
    ident = replace(ident, leads=decisions.mark_lost(ident.leads, effective, lost_status).collect(engine=ENGINE).lazy())
    # not rechunked: the panic a two-chunk `grade` column caused here (issue #12) was Polars 2.1.0's `pl.format`,
    # which every task reason now avoids (`transforms.frames.format_text`; tests/transforms/test_polars_panic.py)
    leads = lead_state(ident.leads, followups.lazy(), sales.lazy(), policy, as_of).collect(engine=ENGINE)
    customers = (
        customer_state(ident.customers, leads.lazy(), sales.lazy(), policy, as_of)
        .pipe(decisions.mark_do_not_contact, effective)
        .collect(engine=ENGINE)
    )
    # nothing reads the follow-ups without their lead_ref from here on: the night keeps one copy of them, not two
    ident = replace(ident, followups=followups.lazy().drop("lead_ref"))
    return Night(known, ident, followups.lazy(), sales.lazy(), leads.lazy(), customers.lazy(), checked.lazy())
