"""What the manager is asked to decide (issue #16): the review rows and the proposal for each — the rule that
the review workbook (reports/review.py) only renders.

One row per (holder, customer) of the planned worklist (transforms/plan.py) that is
- `handed_over` 转交: on a manager's list because its advisor left or is not in the roster;
- `stale` 久未跟进: a task overdue longer than its `[plan.stale_after_days]` (it left the advisor's plan);
- `overflow` 超出上限: not in today's plan for want of capacity (waiting for another day).
The proposal: a stale lead → lost (战败, with `review.lost_reason`); other stale work → keep (the manager chases
its advisor) unless the advisor is over capacity; handed-over, overflow and an overloaded advisor's stale work →
reassign to a teammate of the same store and role with spare capacity today (`free_teammates`: their spare places
dealt round-robin, the most urgent rows first), else keep.
Each row goes to the manager its holder reports to (transforms/routing.py); a handed-over row stays with the
manager who holds it.

A day's decisions: the proposals are made first, then each manager's rows are ranked by what a decision saves
today (`review_rank`), and at most `[review] daily_rows` of them are today's (`today`: the review workbook's
rows); the rest wait for a later day (counted in the digest). The ranking, first key first:
1. a customer no decision was made for yet before one a decision holds for already (say 保持);
2. a proposal that changes something (改派, 战败) before 保持 — a full day of 保持 would leave the rows a
   decision moves for later;
3. live work before stale: a handed-over or waiting customer with a task not past its stale limit (`live`) before
   the stale work (a customer in the review for a stale task is asked about that task, whatever else is live);
4. the plan's urgency class of its most urgent live task (`[[plan.urgency]]`: 立即处理 → 即将错过 → 可安排);
5. the customer's value (`[plan.value]` of its grade: hot leads first);
6. a handed-over customer (nobody calls them) before one waiting in an advisor's queue;
7. the most recent first (fewest days overdue), then priority and customer.

`bulk_proposals` adds the 整批 rows a manager can decide in one go (transforms/bulk_decisions.py): a departed
advisor's whole book to one teammate, and an advisor's leads left without a follow-up longer than
`[review] lost_idle_days` marked lost — each with how many customers or leads it would decide today."""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy
from transforms import bulk_decisions
from transforms.frames import ENGINE
from transforms.night import Night
from transforms.plan import capacities as plan_capacities
from transforms.plan import value_rank, waiting_counts
from transforms.routing import MANAGER, active, route
from transforms.views import per_customer

SECTIONS = ("handed_over", "stale", "overflow")
PIPELINE_TASKS = ("first_contact", "followup")


def capacities(worklist: pl.DataFrame, advisors: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Every active advisor of the roster: advisor_id, store, role, capacity (transforms.plan.capacities),
    in_plan, waiting (open, not stale, not in today's plan), stale, escalated (customers, from the plan),
    spare (capacity − in_plan)."""
    counts = waiting_counts(worklist)
    return (
        advisors.filter(active())
        .select("advisor_id", "store", "role")
        .join(plan_capacities(advisors, policy), on="advisor_id", how="left")
        .join(counts, on="advisor_id", how="left")
        .with_columns(pl.col("in_plan", "waiting", "stale", "escalated").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("capacity") - pl.col("in_plan")).clip(lower_bound=0).alias("spare"))
        .sort("advisor_id")
    )


def free_teammates(capacity: pl.DataFrame) -> pl.DataFrame:
    """store, role, advisor_id, spare of the advisors who can take reassigned work today (`capacities` rows of a
    sales or service advisor with spare > 0), the most spare first, then by advisor_id — whom every proposal to
    reassign names: a row's (`free_slots`) and a 整批 row's (`bulk_proposals`)."""
    return (
        capacity.filter((pl.col("role") != MANAGER) & (pl.col("spare") > 0))
        .sort(["spare", "advisor_id"], descending=[True, False])
        .select("store", "role", "advisor_id", "spare")
    )


def free_slots(capacity: pl.DataFrame) -> pl.DataFrame:
    """store, role, __slot (1, 2, …), __to: the free teammates' spare places dealt round-robin — one place of
    each in `free_teammates` order, then a second of each who has two, and so on."""
    return (
        free_teammates(capacity)
        .with_row_index("__order")
        .with_columns(pl.int_ranges(0, pl.col("spare")).alias("__n"))
        .explode("__n")
        .sort("__n", "__order")
        .with_columns(pl.int_range(1, pl.len() + 1).over("store", "role").alias("__slot"))
        .select("store", "role", "__slot", pl.col("advisor_id").alias("__to"))
    )


def _customers(worklist: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """per_customer, with the advisor of record (before handover or reassignment), whether it is a lead's,
    whether some task is live (not stale: `live`, narrowed to the handed-over and waiting rows in `review_rows`),
    the urgency class of its most urgent live task (`__urgency`, its position) and the fewest days overdue of its
    live tasks."""
    classes = {c.name: i for i, c in enumerate(policy.plan.urgency)}
    live = ~pl.col("stale")
    record = worklist.group_by("advisor_id", "customer_id", maintain_order=True).agg(
        pl.coalesce("reassigned_from", "original_advisor_id").first().alias("from_advisor_id"),
        pl.col("task_type").is_in(PIPELINE_TASKS).any().alias("pipeline"),
        pl.col("in_plan").any(), pl.col("stale").any(), pl.col("carried_nights").max(),
        live.any().alias("live"),
        pl.col("urgency").replace_strict(classes, default=len(classes), return_dtype=pl.Int64).filter(live).min()
        .alias("__urgency"),
        pl.col("days_overdue").filter(live).min().alias("__live_overdue"),
        pl.col("lead_id").filter(pl.col("stale") & pl.col("task_type").is_in(PIPELINE_TASKS)).first()
        .alias("__stale_lead"),
    )
    return per_customer(worklist).join(record, on=["advisor_id", "customer_id"], how="left", maintain_order="left")


def _rank_keys(policy: Policy, proposed: bool) -> list[pl.Expr]:
    """The review's order (module docstring), as ascending sort keys; before the proposals are made
    (`proposed` false: the order spare places are dealt in) without the proposal's own key."""
    return [
        pl.col("__decided"),
        *([pl.col("proposal") == "keep"] if proposed else []),
        ~pl.col("live"),
        pl.when(pl.col("live")).then("__urgency"),
        value_rank(policy),
        pl.col("section") != "handed_over",
        pl.when(pl.col("live")).then("__live_overdue").otherwise("days_overdue"),
        pl.col("priority"),
        pl.col("customer_id"),
    ]


def review_rows(worklist: pl.DataFrame, advisors: pl.DataFrame, policy: Policy,
                decided: pl.DataFrame | None = None) -> pl.DataFrame:
    """The review rows of every manager, each with its proposal (`proposal`: reassign | lost | keep,
    `proposed_advisor_id`, `proposed_reason`), `review_rank` (1 = the decision that saves the most today) and
    `today` (within `[review] daily_rows`), by manager and rank. `decided`: customer_id of each customer a
    decision holds for already (`transforms.decisions.in_effect`)."""
    rule = policy.review
    cap = capacities(worklist, advisors, policy)
    decided_ids = (decided if decided is not None else pl.DataFrame(schema={"customer_id": pl.String}))["customer_id"]
    rows = (
        _customers(worklist, policy)
        .join(cap.select("advisor_id", pl.col("waiting").alias("over")), on="advisor_id", how="left")
        .with_columns(
            pl.when(pl.col("orphaned")).then(pl.lit("handed_over"))
            .when(pl.col("stale")).then(pl.lit("stale"))
            .when(~pl.col("in_plan")).then(pl.lit("overflow"))
            .alias("section")
        )
        .filter(pl.col("section").is_not_null())
    )
    roles = advisors.select(pl.col("advisor_id").alias("from_advisor_id"), pl.col("role").alias("from_role"))
    rows = (
        route(rows.lazy(), advisors.lazy(), "advisor_id", "store", "__routed")
        .collect()
        .join(roles, on="from_advisor_id", how="left")
        .with_columns(
            pl.when(pl.col("orphaned")).then(pl.col("advisor_id")).otherwise(pl.col("__routed")).alias("manager_id"),
            pl.coalesce(
                pl.when(pl.col("from_role") != MANAGER).then(pl.col("from_role")),
                pl.when(pl.col("pipeline")).then(pl.lit("sales")).otherwise(pl.lit("service")),
            ).alias("role"),
            # a stale lead is proposed lost (not a customer whose stale work is another task)
            ((pl.col("section") == "stale") & pl.col("__stale_lead").is_not_null()).alias("__lost"),
            pl.col("customer_id").is_in(decided_ids.implode()).alias("__decided"),
            (pl.col("live") & (pl.col("section") != "stale")).alias("live"),
            # a stale row is about its stale lead, not a newer lead of the same customer
            pl.when(pl.col("section") == "stale").then(pl.coalesce("__stale_lead", "lead_id"))
            .otherwise("lead_id").alias("lead_id"),
            pl.lit(None, pl.String).alias("segment"),  # value_rank: a customer's grade (segments are the plan's)
        )
        .sort(pl.col("manager_id"), *_rank_keys(policy, proposed=False), nulls_last=True)  # who gets a place first
    )
    chased = (pl.col("section") == "stale") & ~(pl.col("over").fill_null(0) > 0)  # keep: the manager chases
    wanting = rows.filter(~pl.col("__lost") & ~chased).with_columns(
        pl.int_range(1, pl.len() + 1).over("store", "role").alias("__slot")
    )
    targets = wanting.join(free_slots(cap), on=["store", "role", "__slot"], how="left").select(
        "advisor_id", "customer_id", "__to"
    )
    to = pl.col("__to")
    reason = _lost_reason(rule.lost_reason, pl.col("days_overdue"))  # the policy's text
    return (
        rows.join(targets, on=["advisor_id", "customer_id"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__lost")).then(pl.lit("lost"))
            .when(to.is_not_null() & (to != pl.col("advisor_id"))).then(pl.lit("reassign"))
            .otherwise(pl.lit("keep")).alias("proposal"),
        )
        .with_columns(
            pl.when(pl.col("proposal") == "reassign").then(to).alias("proposed_advisor_id"),
            pl.when(pl.col("proposal") == "lost").then(reason).alias("proposed_reason"),
        )
        .sort(pl.col("manager_id"), *_rank_keys(policy, proposed=True), nulls_last=True)  # proposed, then ranked
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("manager_id").alias("review_rank"))
        .with_columns((pl.col("review_rank") <= rule.daily_rows).alias("today"))
        .select(
            "manager_id", "section", "store", "role", "advisor_id", "from_advisor_id", "customer_id", "customer_name",
            "phone", "lead_id", "tasks", "reasons", "due_date", "days_overdue", "priority", "grade", "stage",
            "carried_nights", "live", "proposal", "proposed_advisor_id", "proposed_reason", "review_rank", "today",
        )
    )


def todays_review(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows of today's review workbooks (`review_rows` within `[review] daily_rows` per manager)."""
    return rows.filter(pl.col("today"))


BULK_LOST_REASON = "超过{days}天没有跟进，经理整批确认战败"  # proposed with a 整批 战败 (`{days}`: 未跟进天数)


def _lost_reason(text: str, days: pl.Expr) -> pl.Expr:
    """A proposed lost reason, `{days}` in `text` standing for `days`."""
    parts = text.split("{days}")
    return pl.concat_str([pl.lit(parts[0]), *(e for p in parts[1:] for e in (days, pl.lit(p)))])


BULK_SCHEMA = pl.Schema({
    "manager_id": pl.String, "store": pl.String, "kind": pl.String, "from_advisor_id": pl.String,
    "customers": pl.Int64, "size": pl.Int64, "proposal": pl.String, "proposed_advisor_id": pl.String,
    "idle_days": pl.Int64, "proposed_reason": pl.String, "departed": pl.Boolean,
})


def bulk_proposals(rows: pl.DataFrame, capacity: pl.DataFrame, night: Night, policy: Policy,
                   as_of: date) -> pl.DataFrame:
    """The 整批 rows offered to each manager (BULK_SCHEMA), by manager, kind, advisor:
    - `book`: an advisor who left (their customers are handed over) — their whole book to the first of
      `free_teammates` of the same store and role, the one with the most spare capacity today
      (`proposed_advisor_id`; none when no such advisor has a free place: the manager chooses);
    - `idle`: an advisor with leads in the review — those without a follow-up for more than
      `[review] lost_idle_days` marked lost.
    `departed`: the advisor left or is not in the roster.
    `customers`: the advisor's customers in the review; `size`: how many customers (book) or leads (idle) the
    row would decide if it held today (transforms/bulk_decisions.py); a book row that would decide none, and an
    idle row that would decide fewer than two leads (the lead is a review row of its own), are left out.
    `rows`: `review_rows`; `capacity`: `capacities`."""
    days = policy.review.lost_idle_days
    by_advisor = ["manager_id", "store", "from_advisor_id"]
    teammates = (
        free_teammates(capacity)
        .group_by("store", "role", maintain_order=True)
        .agg(pl.col("advisor_id").first().alias("proposed_advisor_id"))
    )
    book = (
        rows.filter((pl.col("section") == "handed_over") & pl.col("from_advisor_id").is_not_null())
        .group_by(by_advisor, maintain_order=True)
        .agg(pl.col("role").first(), pl.len().cast(pl.Int64).alias("customers"))
        .join(teammates, on=["store", "role"], how="left")
        .with_columns(pl.lit("book").alias("kind"), pl.lit("reassign").alias("proposal"),
                      pl.lit(None, pl.Int64).alias("idle_days"), pl.lit(None, pl.String).alias("proposed_reason"))
    )
    idle = (
        rows.filter(pl.col("lead_id").is_not_null() & pl.col("from_advisor_id").is_not_null())
        .group_by(by_advisor, maintain_order=True)
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .with_columns(pl.lit("idle").alias("kind"), pl.lit("lost").alias("proposal"),
                      pl.lit(None, pl.String).alias("proposed_advisor_id"), pl.lit(days, pl.Int64).alias("idle_days"),
                      _lost_reason(BULK_LOST_REASON, pl.lit(str(days))).alias("proposed_reason"))
    )
    active_ids = capacity["advisor_id"].implode()  # every active advisor of the roster
    offered = (
        pl.concat([book.drop("role"), idle], how="diagonal_relaxed")
        .with_columns(~pl.col("from_advisor_id").is_in(active_ids).alias("departed"))
        .with_row_index("bulk_row")
    )
    heads = offered.select(
        pl.col("bulk_row").cast(pl.Int64), pl.col("proposal").alias("decision"), "from_advisor_id",
        pl.coalesce("proposed_advisor_id", "manager_id").alias("new_advisor_id"),  # the store the book is of
        pl.lit(as_of).alias("decided_at"), "idle_days",
    )
    sizes = (
        bulk_decisions.members(heads.lazy(), night.ident, night.followups, night.sales, night.inputs.advisors, policy)
        .group_by("bulk_row").agg(pl.len().cast(pl.Int64).alias("size"))
        .collect(engine=ENGINE)
    )
    return (
        offered.with_columns(pl.col("bulk_row").cast(pl.Int64))
        .join(sizes, on="bulk_row", how="inner")
        .filter((pl.col("kind") == "book") | (pl.col("size") > 1))  # one idle lead is a row of its own
        .sort(pl.col("manager_id"), pl.col("kind") != "book", pl.col("from_advisor_id"), nulls_last=True)
        .select(BULK_SCHEMA.names())
        .cast(BULK_SCHEMA)
    )


def teammates(advisors: pl.DataFrame, manager_id: str) -> list[str]:
    """Whom a manager may reassign to: the active sales and service advisors of the manager's store."""
    store = advisors.filter(pl.col("advisor_id") == manager_id)["store"]
    staff = advisors.filter(pl.col("store").is_in(store.implode()) & active() & (pl.col("role") != MANAGER))
    return staff.sort("advisor_id")["advisor_id"].to_list()
