"""What the worklist and the KPIs both start from, worked out once a night: the inputs as known on the as-of
date, each row's customer, which lead each follow-up and order counts for, and every lead's and customer's
stage and grade (SPEC §4–§6). At group scale this is most of a night's transform time (issue #8)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from genjin.policy import Policy
from transforms import decisions
from transforms.customers import Identity, identify
from transforms.frames import ENGINE, Inputs, known_on, latest_per_key
from transforms.links import followups_to_leads, orders_to_leads
from transforms.stages import customer_state, lead_state


@dataclass(frozen=True)
class Night:
    inputs: Inputs  # as known on D (`known_on`), a later row for a key replacing the earlier (`latest_per_key`)
    ident: Identity  # every record with its customer_id; `ident.customers` one row per customer
    followups: pl.LazyFrame  # ident.followups + lead_ref
    sales: pl.LazyFrame  # ident.sales + lead_ref
    leads: pl.LazyFrame  # one row per lead: follow-up facts, grade, stage (`lead_state`)
    customers: pl.LazyFrame  # one row per customer: stage and grade (`customer_state`)
    decisions: pl.LazyFrame  # the managers' decisions, checked (`transforms.decisions.check`)


def prepare(inputs: Inputs, policy: Policy, as_of: date) -> Night:
    """`inputs` as loaded; every frame of the result is computed once (collected) and read many times."""
    known = latest_per_key(known_on(inputs, as_of))
    ident = identify(known.leads, known.followups, known.sales, known.service).collected()
    checked = decisions.check(known.decisions, known.advisors, ident.customers, ident.leads).collect(engine=ENGINE)
    effective = decisions.in_effect(checked.lazy(), as_of)
    lost_status = policy.stages.lost_statuses[0]
    ident = replace(ident, leads=decisions.mark_lost(ident.leads, effective, lost_status).collect(engine=ENGINE).lazy())
    followups, sales = pl.collect_all([
        followups_to_leads(ident.followups, ident.leads), orders_to_leads(ident.sales, ident.leads)
    ], engine=ENGINE)
    leads = lead_state(ident.leads, followups.lazy(), sales.lazy(), policy, as_of).collect(engine=ENGINE)
    customers = (
        customer_state(ident.customers, leads.lazy(), sales.lazy(), policy, as_of)
        .pipe(decisions.mark_do_not_contact, effective)
        .collect(engine=ENGINE)
    )
    return Night(known, ident, followups.lazy(), sales.lazy(), leads.lazy(), customers.lazy(), checked.lazy())
