"""The managers' decisions (the review workbook dropped back, schemas.columns.DECISIONS), checked and applied.

A decision is checked against the night's roster and customers; one that cannot hold is refused with the
column at fault and a reason in Chinese and English (`refused`) and changes nothing. A decision holds from its
生效日期 on (nights with as-of ≥ that date):

- reassign 改派: the customer's tasks held by 原顾问 (the advisor of record in the data; every task of the
  customer when 原顾问 is blank) go to 接手顾问; the latest reassignment wins. The input rows keep their
  advisor, and the worklist keeps who had the tasks (`reassigned_from`).
- lost 战败: the lead (线索编号; every lead of the customer when blank) is lost with its reason.
- do not contact 勿扰: holds for the customer (SPEC §6a: no task but `complaint`).
- keep 保持: nothing changes (the decision is recorded).

A row marked 整批 (`bulk`) decides for many customers at once: 改派 moves 原顾问's whole book, 战败 closes 原顾问's
leads left without a follow-up longer than 未跟进天数. It is checked here as one row, then replaced by one
decision per customer or lead (transforms/bulk_decisions.py) before anything applies it."""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.frames import format_text
from transforms.routing import active

REFUSAL = ("refused_column", "refusal_zh", "refusal_en")
EMPTY = pl.Schema({
    "customer_id": pl.String, "decision": pl.String, "decided_at": pl.Date, "from_advisor_id": pl.String,
    "new_advisor_id": pl.String, "lead_id": pl.String, "lost_reason": pl.String, "decided_by": pl.String,
    "note": pl.String, "bulk": pl.Boolean, "idle_days": pl.Float64,
})


def _refusal(rules: list[tuple[pl.Expr, str, pl.Expr | str, pl.Expr | str]]) -> list[pl.Expr]:
    """(when, column, zh, en) rules, first match wins → the three REFUSAL columns."""
    out = []
    for i, name in enumerate(REFUSAL):
        expr: pl.Expr = pl.lit(None, pl.String)
        for when, column, zh, en in reversed(rules):
            value = (column, zh, en)[i]
            expr = pl.when(when).then(value if isinstance(value, pl.Expr) else pl.lit(value)).otherwise(expr)
        out.append(expr.alias(name))
    return out


def check(decisions: pl.LazyFrame | None, advisors: pl.LazyFrame, customers: pl.LazyFrame,
          leads: pl.LazyFrame) -> pl.LazyFrame:
    """Every decision with REFUSAL columns (null when it holds). `customers`: customer_id, store;
    `leads`: lead_id, customer_id."""
    decisions = pl.LazyFrame(schema=EMPTY) if decisions is None else with_columns_of(decisions, EMPTY)
    roster = advisors.select(
        pl.col("advisor_id").alias("new_advisor_id"), active().alias("__new_active"),
        pl.col("store").alias("__new_store"),
    )
    from_store = advisors.select(pl.col("advisor_id").alias("from_advisor_id"), pl.col("store").alias("__from_store"))
    known = customers.select("customer_id", pl.col("store").alias("__store"), pl.lit(True).alias("__known"))
    lead_of = leads.select("lead_id", pl.col("customer_id").alias("__lead_customer")).unique("lead_id")
    new = pl.col("new_advisor_id")
    reassign = pl.col("decision") == "reassign"
    bulk = pl.col("bulk").fill_null(False)
    single = ~bulk
    rules: list[tuple[pl.Expr, str, pl.Expr | str, pl.Expr | str]] = [
        (bulk & ~pl.col("decision").is_in(["reassign", "lost"]), "decision",
         "整批只能改派或标记战败（勿扰、保持请逐位客户决定）", "a bulk row can only reassign or mark lost"),
        (bulk & pl.col("from_advisor_id").is_null(), "from_advisor_id", "整批决定需填写原顾问工号",
         "a bulk row needs the advisor whose customers it decides"),
        (bulk & (pl.col("decision") == "lost") & pl.col("idle_days").is_null(), "idle_days",
         "整批战败需填写未跟进天数（超过这么多天没有跟进的线索标记战败）",
         "a bulk lost needs the days without a follow-up"),
        (bulk & reassign & pl.col("idle_days").is_not_null(), "idle_days",
         "整批改派是原顾问名下的全部客户，请清空未跟进天数", "a bulk reassign moves the whole book: no idle days"),
        (single & ~pl.col("__known").fill_null(False), "customer_id", "客户编号不存在（不是本系统的客户）",
         "unknown customer"),
        (single & pl.col("lead_id").is_not_null()
         & (pl.col("__lead_customer") != pl.col("customer_id")).fill_null(True),
         "lead_id", "线索编号不属于该客户", "the lead is not this customer's"),
        (reassign & new.is_null(), "new_advisor_id", "改派需填写接手顾问", "reassign needs the new advisor"),
        (reassign & pl.col("__new_active").is_null(), "new_advisor_id",
         format_text("接手顾问 {} 不在顾问名单", new), format_text("advisor {} is not in the roster", new)),
        (reassign & ~pl.col("__new_active").fill_null(True), "new_advisor_id",
         format_text("接手顾问 {} 已离职", new), format_text("advisor {} is not active", new)),
        (reassign & (pl.col("__new_store") != pl.coalesce("__store", "__from_store")).fill_null(False),
         "new_advisor_id", format_text("接手顾问 {} 不是客户所在门店的顾问", new),
         format_text("advisor {} is of another store", new)),
        ((pl.col("decision") == "lost") & pl.col("lost_reason").is_null(), "lost_reason",
         "标记战败需填写战败原因", "lost needs a reason"),
    ]
    return (
        decisions.join(known, on="customer_id", how="left", maintain_order="left")
        .join(lead_of, on="lead_id", how="left", maintain_order="left")
        .join(roster, on="new_advisor_id", how="left", maintain_order="left")
        .join(from_store.unique("from_advisor_id", keep="last"), on="from_advisor_id", how="left",
              maintain_order="left")
        .with_columns(_refusal(rules))
        .drop("__store", "__known", "__lead_customer", "__new_active", "__new_store", "__from_store")
    )


def with_columns_of(frame: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """`frame` with every column of `schema` (a missing one null): decisions stored before a column existed."""
    present = frame.collect_schema().names()
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in present)


def in_effect(checked: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The decisions that hold on D, one per customer (a 整批 row stands for those it was expanded into), in
    the order they were made (date, then as loaded)."""
    holds = pl.col("refused_column").is_null() & pl.col("customer_id").is_not_null()
    return checked.filter(holds & (pl.col("decided_at") <= as_of)).sort("decided_at", maintain_order=True)


def refused(checked: pl.LazyFrame) -> pl.LazyFrame:
    return checked.filter(pl.col("refused_column").is_not_null())


def mark_lost(leads: pl.LazyFrame, effective: pl.LazyFrame, lost_status: str) -> pl.LazyFrame:
    """Leads a decision marks lost get `lost_status` and the decision's reason (as the CRM's 战败 would)."""
    lost = effective.filter(pl.col("decision") == "lost")
    by_lead = lost.filter(pl.col("lead_id").is_not_null()).group_by("lead_id").agg(
        pl.col("lost_reason").last().alias("__by_lead"))
    by_customer = lost.filter(pl.col("lead_id").is_null()).group_by("customer_id").agg(
        pl.col("lost_reason").last().alias("__by_customer"))
    reason = pl.coalesce("__by_lead", "__by_customer")
    return (
        leads.join(by_lead, on="lead_id", how="left", maintain_order="left")
        .join(by_customer, on="customer_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(reason.is_not_null()).then(pl.lit(lost_status)).otherwise(pl.col("status")).alias("status"),
            pl.coalesce(reason, "lost_reason").alias("lost_reason"),
        )
        .drop("__by_lead", "__by_customer")
    )


def mark_do_not_contact(customers: pl.LazyFrame, effective: pl.LazyFrame) -> pl.LazyFrame:
    dnc = (
        effective.filter(pl.col("decision") == "do_not_contact")
        .select("customer_id", pl.lit(True).alias("__dnc"))
        .unique("customer_id")
    )
    return (
        customers.join(dnc, on="customer_id", how="left", maintain_order="left")
        .with_columns((pl.col("do_not_contact").fill_null(False) | pl.col("__dnc").fill_null(False))
                      .alias("do_not_contact"))
        .drop("__dnc")
    )


def reassign(tasks: pl.LazyFrame, effective: pl.LazyFrame) -> pl.LazyFrame:
    """`advisor_id` becomes the new advisor of each reassigned task; `reassigned_from` the advisor of record
    (null for a task not reassigned). Before `transforms.assign`: a new advisor who left since is routed on."""
    moves = effective.filter(pl.col("decision") == "reassign")
    specific = (
        moves.filter(pl.col("from_advisor_id").is_not_null())
        .group_by("customer_id", "from_advisor_id")
        .agg(pl.col("new_advisor_id").last().alias("__to_specific"))
        .rename({"from_advisor_id": "advisor_id"})
    )
    general = (
        moves.filter(pl.col("from_advisor_id").is_null())
        .group_by("customer_id")
        .agg(pl.col("new_advisor_id").last().alias("__to_any"))
    )
    to = pl.coalesce("__to_specific", "__to_any")
    return (
        tasks.join(specific, on=["customer_id", "advisor_id"], how="left", maintain_order="left")
        .join(general, on="customer_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(to.is_not_null()).then(pl.col("advisor_id")).alias("reassigned_from"),
            pl.coalesce(to, "advisor_id").alias("advisor_id"),
        )
        .drop("__to_specific", "__to_any")
    )
