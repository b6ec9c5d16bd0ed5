"""Views of the worklist that the outputs share: one row per customer, counts per advisor."""

from __future__ import annotations

import re

import polars as pl

from transforms.frames import format_text
from transforms.labels import TASK_LABELS


def task_label(col: str = "task_type") -> pl.Expr:
    return pl.col(col).replace_strict(TASK_LABELS, default=pl.col(col))


# the notes transforms/worklist.py puts before a reason, and where a reason's English gloss begins
NOTE = r"【(?:转交|改派)】[^·]*?"  # followed by " · " and the reason
NOTES = re.compile(f"{NOTE} · ")
ENGLISH = re.compile(r"\s*/\s*[A-Za-z].*$")


def bare_reason(reason: str | None) -> str:
    """A task's reason as a manager reads it: no handover or reassignment note, no English gloss, no label
    (`客户投诉/不满意：…` → `…`)."""
    text = ENGLISH.sub("", NOTES.sub("", reason or ""))
    return text.split("：", 1)[1] if "：" in text.split("（")[0] else text


def per_customer(worklist: pl.DataFrame) -> pl.DataFrame:
    """One row per (advisor, customer): its most urgent task first, all its reasons listed by priority
    (SPEC §6), each as 【task】reason when there are several — a handover or reassignment note they all share
    (【改派】经理 于霞 转给您，原顾问 李志伟已离职) said once, on its own line above them. Keeps the worklist's
    order."""
    note = pl.col("reason").str.extract(f"^({NOTE}) · ", 1)
    bare = pl.col("reason").str.replace(f"^{NOTE} · ", "")
    return (
        worklist.with_columns(
            format_text("【{}】{}", task_label(), "reason").alias("line"),
            format_text("【{}】{}", task_label(), bare).alias("bare_line"),
            note.alias("note"), task_label().alias("label"),
        )
        .group_by("advisor_id", "customer_id", maintain_order=True)
        .agg(
            pl.col("store", "customer_name", "phone", "priority", "due_date", "days_overdue",
                   "grade", "stage").first(),
            pl.col("label").unique(maintain_order=True).str.join("、").alias("tasks"),
            pl.col("line").str.join("\n").alias("lines"),
            (pl.col("note").first() + pl.lit("\n") + pl.col("bare_line").str.join("\n")).alias("noted_lines"),
            ((pl.col("note").n_unique() == 1) & pl.col("note").is_not_null().all()).alias("one_note"),
            pl.col("reason").first().alias("first_reason"),
            pl.col("lead_id").drop_nulls().first(),
            pl.col("orphaned").any(),
            pl.len().alias("n_tasks"),
            *plan_view(worklist.columns),
        )
        .with_columns(  # one task: its reason alone (the task is in `tasks`); several: each with its task
            pl.when(pl.col("n_tasks") == 1).then("first_reason")
            .when("one_note").then("noted_lines")
            .otherwise("lines").alias("reasons")
        )
        .drop("lines", "noted_lines", "one_note", "first_reason")
    )


def plan_view(columns: list[str]) -> list[pl.Expr]:
    """Per customer, when the worklist carries the plan (transforms/plan.py): its rank and most urgent class
    (the first task's: `todays_plan` puts it first), the longest a task has waited, whether one is escalated."""
    if "plan_rank" not in columns:
        return []
    return [pl.col("plan_rank", "urgency").first(), pl.col("carried_nights").max(), pl.col("escalated").any()]


def advisor_counts(worklist: pl.DataFrame) -> pl.DataFrame:
    """Per advisor: tasks, customers, overdue tasks (days_overdue > 0)."""
    return (
        worklist.group_by("store", "advisor_id")
        .agg(
            pl.len().alias("tasks"),
            pl.col("customer_id").n_unique().alias("customers"),
            (pl.col("days_overdue") > 0).sum().alias("overdue"),
            pl.col("orphaned").sum().alias("orphaned"),
        )
        .sort("store", "advisor_id")
    )


def recipients(worklist: pl.DataFrame, advisors: pl.DataFrame) -> pl.DataFrame:
    """Each advisor with tasks tonight: advisor_id, name, email (null when the roster has none)."""
    return (
        worklist.select("advisor_id").unique(maintain_order=True)
        .join(advisors.select("advisor_id", "name", "email"), on="advisor_id", how="left")
        .with_columns(pl.col("name").fill_null(pl.col("advisor_id")))
        .sort("advisor_id")
    )
