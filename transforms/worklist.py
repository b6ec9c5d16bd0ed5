"""From the night's inputs to the worklist: every open task due on or before the as-of date (SPEC §6)."""

from __future__ import annotations

from datetime import date

import polars as pl

from policy.model import Policy
from transforms.assign import assign
from transforms.calendar import on_open_days
from transforms.decisions import in_effect, reassign
from transforms.frames import ENGINE, Inputs, format_text
from transforms.labels import NO_ADVISOR
from transforms.night import Night, prepare
from transforms.promises import customer_promises, keep_promises, promised_call
from transforms.routing import active
from transforms.tasks_aftersales import complaint, post_delivery, post_service_revisit
from transforms.tasks_owner import (
    anniversary,
    birthday,
    delivery_confirm,
    first_maintenance,
    owner_care,
    trade_in,
)
from transforms.tasks_pipeline import first_contact, followup

WORKLIST_COLUMNS = (
    "as_of", "advisor_id", "store", "customer_id", "customer_name", "phone", "task_type",
    "due_date", "days_overdue", "priority", "grade", "stage", "reason",
)
ALWAYS_ALLOWED = ("complaint",)  # the only task a do_not_contact customer still gets
# SPEC §6 Sort, then task_type and ref: one task per (task_type, ref), so the order is total and the same
# night after night and when the worklist is built per store (transforms/partition.py)
SORT_BY = ("priority", "days_overdue", "due_date", "customer_name", "task_type", "ref")
DESCENDING = (False, True, False, False, False, False)


def open_tasks(night: Night, policy: Policy, as_of: date) -> pl.LazyFrame:
    """All tasks of the night, due dates moved to open days, before the due filter."""
    ident, followups, sales, leads, customers = night.ident, night.followups, night.sales, night.leads, night.customers
    promises = customer_promises(followups, policy)
    return pl.concat(
        [
            complaint(ident.service, sales, followups, policy, as_of),
            first_contact(leads, policy, as_of),
            followup(leads, policy, as_of),
            post_delivery(sales, followups, policy, as_of),
            post_service_revisit(ident.service, sales, followups, policy, as_of),
            delivery_confirm(sales, policy, as_of),
            first_maintenance(ident.service, sales, policy, as_of),
            owner_care(customers, ident.service, sales, followups, policy, as_of),
            trade_in(sales, policy, as_of),
            birthday(customers, ident.leads, ident.service, sales, policy, as_of),
            anniversary(customers, ident.service, sales, policy, as_of),
            promised_call(customers, leads, promises, policy, as_of),
        ]
    ).pipe(keep_promises, promises, policy, as_of).pipe(on_open_days, policy.calendar)


def due_on(tasks: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Due on or before D and still inside its window (windows are inclusive, SPEC §6a)."""
    d = pl.lit(as_of)
    return tasks.filter((pl.col("due_date") <= d) & (pl.col("open_until").is_null() | (d <= pl.col("open_until"))))


def _former(advisor: str) -> pl.Expr:
    """How an advisor in column `advisor` is named to whoever takes their work, from the roster columns joined
    as `__name_<advisor>` and `__active_<advisor>`: `周娟敏已离职`, `周娟敏`, or the id when the roster lacks it."""
    name, is_active = pl.col(f"__name_{advisor}"), pl.col(f"__active_{advisor}")
    return (
        pl.when(pl.col(advisor).is_null()).then(pl.lit(NO_ADVISOR))
        .when(name.is_null()).then(format_text("{} 不在顾问名单", advisor))
        .when(~is_active).then(name + pl.lit("已离职"))
        .otherwise(name)
    )


def _with_names(tasks: pl.LazyFrame, advisors: pl.LazyFrame, columns: tuple[str, ...]) -> pl.LazyFrame:
    people = advisors.select("advisor_id", "name", active().alias("active")).unique("advisor_id", keep="last")
    for column in columns:
        tasks = tasks.join(
            people.rename({"advisor_id": column, "name": f"__name_{column}", "active": f"__active_{column}"}),
            on=column, how="left", maintain_order="left",
        )
    return tasks


def describe(tasks: pl.LazyFrame, customers: pl.LazyFrame, advisors: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Attach the customer, drop what a do_not_contact customer must not get, mark orphaned and reassigned work
    with who it came from, by name from the roster (`advisors`), sort."""
    named = ("original_advisor_id", "reassigned_from", "reassigned_by")
    orphan_note = format_text("【转交】原顾问 {} · ", _former("original_advisor_id"))
    manager = format_text("经理 {} ", "__name_reassigned_by").fill_null("经理")
    moved_note = format_text("【改派】{}转给您，原顾问 {} · ", manager, _former("reassigned_from"))
    return (
        tasks.join(
            customers.select(
                "customer_id", "customer_name", "phone", "do_not_contact",
                pl.col("grade").alias("customer_grade"), pl.col("stage").alias("customer_stage"),
            ),
            on="customer_id",
            how="left",
        )
        .filter(~pl.col("do_not_contact").fill_null(False) | pl.col("task_type").is_in(ALWAYS_ALLOWED))
        .pipe(_with_names, advisors, named)
        .with_columns(
            pl.lit(as_of).alias("as_of"),
            (pl.lit(as_of) - pl.col("due_date")).dt.total_days().alias("days_overdue"),
            pl.coalesce("grade", "customer_grade").alias("grade"),
            pl.coalesce("stage", "customer_stage").alias("stage"),
            pl.when(pl.col("orphaned")).then(orphan_note + pl.col("reason"))
            .when(pl.col("reassigned_on").is_not_null()).then(moved_note + pl.col("reason"))  # from no one too
            .otherwise("reason").alias("reason"),
        )
        .drop(*(f"__{what}_{c}" for what in ("name", "active") for c in named))
        .sort(list(SORT_BY), descending=list(DESCENDING))
    )


def build_worklist(inputs: Inputs, policy: Policy, as_of: date) -> pl.DataFrame:
    """One row per open task on D, sorted as SPEC §6: WORKLIST_COLUMNS first, then working columns."""
    return worklist_from(prepare(inputs, policy, as_of), policy, as_of)


def worklist_from(night: Night, policy: Policy, as_of: date) -> pl.DataFrame:
    """`build_worklist` from the night's state (`transforms.night.prepare`), which the KPIs share."""
    worklist = (
        open_tasks(night, policy, as_of)
        .pipe(due_on, as_of)
        .pipe(reassign, in_effect(night.decisions, as_of))
        .pipe(assign, night.inputs.advisors)
        .pipe(describe, night.customers, night.inputs.advisors, as_of)
    )
    extra = ["ref", "lead_id", "orphaned", "original_advisor_id", "open_until", "reassigned_from", "reassigned_on",
             "promised"]
    return worklist.select(*WORKLIST_COLUMNS, *extra).collect(engine=ENGINE)
