"""One row per customer for the advisor's email and workbook (transforms.views.per_customer)."""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.views import per_customer

NOTE = "【改派】经理 于霞 转给您，原顾问 李志伟已离职"


def task(customer_id: str, task_type: str, reason: str, priority: int) -> dict[str, object]:
    return {"advisor_id": "S3", "customer_id": customer_id, "store": "浦东店", "customer_name": customer_id,
            "phone": "135 0494 9609", "priority": priority, "due_date": date(2026, 11, 23), "days_overdue": 1,
            "grade": "A", "stage": "owner", "task_type": task_type, "reason": reason, "lead_id": None,
            "orphaned": False}


def reasons(rows: list[dict[str, object]]) -> dict[str, str]:
    got = per_customer(pl.DataFrame(rows, schema_overrides={"lead_id": pl.String}))
    return dict(zip(got["customer_id"], got["reasons"], strict=True))


def test_a_reassignment_note_all_tasks_share_is_said_once_above_them() -> None:
    got = reasons([
        task("钟海涛", "first_maintenance", f"{NOTE} · 帕萨特 2025-09-28 交车，还没做首保", 6),
        task("钟海涛", "win_back", f"{NOTE} · 交车 2025-09-28 后没进过厂，已 422 天未回店", 6),
    ])
    assert got == {"钟海涛": f"{NOTE}\n【首保提醒】帕萨特 2025-09-28 交车，还没做首保\n"
                             "【流失召回】交车 2025-09-28 后没进过厂，已 422 天未回店"}


def test_a_single_task_or_notes_not_shared_keep_each_reason_whole() -> None:
    got = reasons([
        task("冯鹏", "delivery_confirm", f"{NOTE} · 途观L 计划 11-24 交车，确认时间和证件", 3),
        task("潘丹丹", "first_maintenance", f"{NOTE} · 威然 06-24 交车，还没做首保", 6),
        task("潘丹丹", "care_call", "06-24 交车，还没进过厂", 8),  # her own care call: no note
    ])
    assert got == {
        "冯鹏": f"{NOTE} · 途观L 计划 11-24 交车，确认时间和证件",
        "潘丹丹": f"【首保提醒】{NOTE} · 威然 06-24 交车，还没做首保\n【关怀回访】06-24 交车，还没进过厂",
    }
