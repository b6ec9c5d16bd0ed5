"""The nightly flow end to end on generated sample data, under the flow tests' Prefect test server; and the
`genjin demo` command as a new user runs it."""

from __future__ import annotations

import csv
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from demo.sample_data import generate

AS_OF = date(2026, 11, 23)
IN_SCOPE = {
    "complaint",
    "first_contact",
    "followup",
    "post_delivery_d1",
    "post_delivery_d3",
    "post_delivery_d7",
    "post_delivery_d30",
    "post_service_revisit",
    "delivery_confirm",
    "first_maintenance",
    "win_back",
    "care_call",
    "birthday",
    "anniversary",  # no trade_in: the sample data has no delivery close to three years old
}
HEADER = [
    "as_of",
    "advisor_id",
    "store",
    "customer_id",
    "customer_name",
    "phone",
    "task_type",
    "due_date",
    "days_overdue",
    "priority",
    "grade",
    "stage",
    "reason",
    # the plan's columns (issue #15), after SPEC §9's
    "in_plan",
    "plan_rank",
    "carried_nights",
    "escalated",
    "stale",
    "urgency",
]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    from adapters.folders import Folders
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("night")
    generate(root / "drop", as_of=AS_OF, seed=11, size=1)
    shutil.copytree(root / "drop", root / "dropped")  # what ops dropped, to compare with
    result = nightly(folders=Folders.beside(root / "drop"), as_of=AS_OF, settle_seconds=0)
    assert result.run_dir == root / "out" / "2026-11-23"
    return root


def _data_rows_in(path: Path) -> int:
    """Non-blank rows below the header, counted independently of genjin's reader."""
    if path.suffix == ".csv":
        rows = list(csv.reader(path.read_text(encoding="gbk").splitlines()))
        return sum(1 for r in rows[1:] if any(c.strip() for c in r))
    wb = openpyxl.load_workbook(path, read_only=True)
    total = 0
    for ws in wb.worksheets:
        rows = [r for r in ws.iter_rows(values_only=True)]
        header = next(i for i, r in enumerate(rows) if sum(v is not None for v in r) >= 4)
        total += sum(1 for r in rows[header + 1 :] if any(v not in (None, "") for v in r))
    return total


def _worklist(root: Path) -> list[dict[str, str]]:
    text = (root / "out" / "2026-11-23" / "worklist.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf"), "worklist.csv must carry a BOM so that Excel reads UTF-8"
    return list(csv.DictReader(text.decode("utf-8-sig").splitlines()))


def test_every_input_row_is_accounted_for(night: Path) -> None:
    run = json.loads((night / "out" / "2026-11-23" / "run.json").read_text(encoding="utf-8"))
    assert run["as_of"] == "2026-11-23"
    by_name = {f["name"]: f for f in run["files"]}
    assert set(by_name) == {p.name for p in (night / "dropped").iterdir()}
    for path in (night / "dropped").iterdir():
        entry = by_name[path.name]
        assert entry["status"] == "loaded"
        assert entry["rows_in"] == _data_rows_in(path) > 0
        assert entry["rows_in"] == entry["rows_loaded"] + entry["rows_rejected"]
    kinds = {f["kind"] for f in run["files"]}
    assert kinds == {"leads", "followups", "sales", "service", "advisors"}


def test_originals_are_archived_byte_identical(night: Path) -> None:
    assert list((night / "drop").iterdir()) == []
    archived = night / "archive" / "2026-11-23"
    for original in (night / "dropped").iterdir():
        assert (archived / original.name).read_bytes() == original.read_bytes()


def test_worklist_lists_due_tasks_of_every_type_in_scope(night: Path) -> None:
    rows = _worklist(night)
    assert list(rows[0].keys()) == HEADER
    assert {r["task_type"] for r in rows} == IN_SCOPE
    for r in rows:
        due = date.fromisoformat(r["due_date"])
        assert due <= AS_OF
        assert int(r["days_overdue"]) == (AS_OF - due).days
        assert r["as_of"] == "2026-11-23"
    run = json.loads((night / "out" / "2026-11-23" / "run.json").read_text(encoding="utf-8"))
    assert run["tasks"]["total"] == len(rows)


def test_worklist_is_sorted_by_priority_then_overdue(night: Path) -> None:
    rows = _worklist(night)
    keys = [(int(r["priority"]), -int(r["days_overdue"]), r["due_date"]) for r in rows]
    assert keys == sorted(keys)


def test_each_workbook_holds_only_its_advisors_customers(night: Path) -> None:
    rows = _worklist(night)
    folder = night / "out" / "2026-11-23" / "worklists"
    advisors = {r["advisor_id"] for r in rows if r["in_plan"] == "true"}
    assert {p.stem for p in folder.glob("*.xlsx")} == advisors
    for advisor in advisors:
        ws = openpyxl.load_workbook(folder / f"{advisor}.xlsx").active
        header = [c.value for c in ws[1]]
        got = {row[header.index("客户编号")] for row in ws.iter_rows(min_row=2, values_only=True)}
        assert {row[header.index("顾问编号")] for row in ws.iter_rows(min_row=2, values_only=True)} == {advisor}
        assert got == {r["customer_id"] for r in rows if r["advisor_id"] == advisor and r["in_plan"] == "true"}
        assert ws.max_row - 1 == len(got)  # one row per customer of today's plan


def test_emails_reach_the_roster_address_with_the_workbook(night: Path) -> None:
    roster = openpyxl.load_workbook(night / "dropped" / "顾问名单.xlsx").active
    header = [c.value for c in roster[1]]
    people = list(roster.iter_rows(min_row=2, values_only=True))
    emails = {r[header.index("顾问编号")]: r[header.index("邮箱")] for r in people}
    names = {r[header.index("顾问编号")]: r[header.index("姓名")] for r in people}
    rows = _worklist(night)
    outbox = night / "out" / "2026-11-23" / "outbox"
    sent = sorted(outbox.glob("*.eml"))
    assert sent
    for path in sent:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        advisor = path.stem
        assert emails[advisor] in msg["To"]
        planned = {r["customer_id"] for r in rows if r["advisor_id"] == advisor and r["in_plan"] == "true"}
        assert msg["Subject"].startswith("【跟进清单】2026-11-23 ")
        assert f" · 今日 {len(planned)} 位客户" in msg["Subject"]  # the workbook's rows
        kinds = [part.get_content_type() for part in msg.walk()]
        assert "text/plain" in kinds and "text/html" in kinds
        attachments = [p.get_filename() for p in msg.iter_attachments()]
        assert attachments == [f"跟进计划 11-23 {names[advisor]}.xlsx"]  # what and whose


def test_price_never_leaves_the_sales_file(night: Path) -> None:
    sales = openpyxl.load_workbook(night / "dropped" / "销售订单.xlsx").active
    header = [c.value for c in sales[1]]
    prices = {str(int(r[header.index("成交价")])) for r in sales.iter_rows(min_row=2, values_only=True)}
    out = night / "out" / "2026-11-23"
    texts = [(out / "worklist.csv").read_text(encoding="utf-8-sig"), (out / "report.html").read_text()]
    for path in (out / "worklists").glob("*.xlsx"):
        ws = openpyxl.load_workbook(path).active
        texts.append(" ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None))
    for text in texts:
        assert not any(p in text for p in prices if len(p) >= 5)


@pytest.mark.slow
def test_demo_runs_quietly_as_a_new_user_would(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "demo", "--dir", str(tmp_path / "demo"), "--as-of", "2026-11-23"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for noise in ("Traceback", "ERROR", "Error", "Warning", "CancelledError"):
        assert noise not in output
    assert "worklist.csv" in proc.stdout
    assert (tmp_path / "demo" / "out" / "2026-11-23" / "run.json").exists()
