"""Nothing silent for ops (issue #13), through `genjin run` in a fresh folder as a new user would: a file still
being written while the run looks is held and named, lock and partial files too; warnings for a store with no
manager and an unknown advisor; the ops email arrives over SMTP (aiosmtpd on loopback) with the rejects workbook;
the same night run again takes the finished file, and a re-drop — same name or another — is a duplicate,
archived beside the first as ` (2)`, loading nothing. And what ops drop in practice: a workbook left open in Excel
(read, warned, archived), a file with its `- 副本` copy (the original loads), a follow-up dated after the night
(loaded, warned with its row), a roster typo (the warning names the advisor it looks like)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from adapters.history import History
from tests.robot_servers import Inbox

AS_OF = "2026-11-23"
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
ROSTER = [
    ["顾问编号", "姓名", "门店", "岗位", "邮箱", "在职"],
    ["S1", "张三", "浦东店", "销售顾问", "s1@dealer.cn", "是"],
    ["M1", "王经理", "浦东店", "经理", "m1@dealer.cn", "是"],
    ["S2", "李四", "静安店", "销售顾问", "s2@dealer.cn", "是"],  # 静安店 has no manager
]
LEAD_HEADER = "线索编号,留资时间,客户姓名,联系电话,门店,销售顾问工号,客户级别\n"
LEADS = LEAD_HEADER + (
    "L1,2026-11-22 10:00,陈先生,13800138001,浦东店,S1,B\n"
    "L2,2026-11-22 11:00,林女士,13800138002,静安店,S2,B\n"
    "L3,2026-11-22 12:00,吴先生,13800138003,浦东店,S9,B\n"  # S9: not in the roster
    "L4,2026-11-22 12:00,周女士,1380013800,浦东店,S1,B\n"  # ten digits: rejected
)


class Appender(threading.Thread):
    """Keeps appending lead rows to `path`, as a slow copy over the network would, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.done, self.rows = path, threading.Event(), 0
        path.write_text(LEAD_HEADER, encoding="utf-8")

    def run(self) -> None:
        while not self.done.is_set():
            self.rows += 1
            with self.path.open("a", encoding="utf-8") as f:
                f.write(f"G{self.rows},2026-11-22 09:00,客户{self.rows},139{self.rows:08d},浦东店,S1,C\n")
            time.sleep(0.2)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.rows


def genjin_run(site: Path, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "genjin.cli", "run", "--drop", "drop", "--out", "out", "--as-of", AS_OF,
         "--settle-seconds", "2", "--send"],
        cwd=site, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((site / "out" / AS_OF / "run.json").read_text(encoding="utf-8")), proc.stdout


def test_held_files_warnings_ops_email_and_same_night_duplicates(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    site = tmp_path / "site"
    drop = site / "drop"
    drop.mkdir(parents=True)
    wb = openpyxl.Workbook()
    for row in ROSTER:
        wb.active.append(row)
    wb.save(drop / "顾问名单.xlsx")
    (drop / "线索.csv").write_text(LEADS, encoding="utf-8")
    (drop / "~$草稿.xlsx").write_bytes(b"\x00" * 165)  # Excel's lock file of an open workbook
    (drop / "报表.xlsx.part").write_bytes(b"PK\x03\x04")  # a copy in progress
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env |= {"HOME": str(tmp_path), "GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(port),
            "GENJIN_SMTP_SECURITY": "none", "GENJIN_MAIL_FROM": "genjin <crm@dealer.cn>",
            "GENJIN_OPS_EMAIL": "ops@dealer.cn"}
    growing = Appender(drop / "增长中.csv")
    growing.start()
    try:
        run, out = genjin_run(site, env)
    finally:
        rows = growing.stop()

    # 1. held files are named, with why and how to take them now; they stay in the drop folder
    held = {h["name"]: h for h in run["held"]}
    assert set(held) == {"增长中.csv", "~$草稿.xlsx", "报表.xlsx.part"}
    assert "仍在变化" in held["增长中.csv"]["why"] and "still being copied" in held["增长中.csv"]["why"]
    assert "genjin run" in held["增长中.csv"]["how"]
    assert held["增长中.csv"]["modified_at"].startswith("20")
    assert "暂缓到下一晚 / held for the next night: 3" in out and "增长中.csv" in out
    assert {f["name"] for f in run["files"]} == {"顾问名单.xlsx", "线索.csv"}
    assert sorted(p.name for p in drop.iterdir()) == sorted(held)

    # 2. warnings: a store without a manager, a task of an advisor the roster does not know
    codes = {(w["code"], w["store"]) for w in run["warnings"]}
    assert codes == {("no_manager", "静安店"), ("unknown_advisor", "浦东店")}
    unknown = next(w for w in run["warnings"] if w["code"] == "unknown_advisor")
    assert "S9" in unknown["zh"] and unknown["count"] == 1
    assert "提醒 / warnings: 2" in out and "静安店" in out

    # 3. one ops email: held files, the warnings, the rejects workbook attached
    (ops,) = inbox.to("ops@dealer.cn")
    assert ops["Subject"] == ("【genjin 运行情况】2026-11-23 · 2 个文件 · 3 个暂缓 · 0 个重复 · 0 个隔离 · "
                              "1 行被拒 · 2 条提醒")
    text = ops.get_body(("plain",)).get_content()
    assert "增长中.csv" in text and "静安店" in text and "S9" in text
    (attachment,) = ops.iter_attachments()
    assert attachment.get_filename() == "线索.csv.rejects.xlsx"
    rejects = site / "out" / AS_OF / "rejects" / "线索.csv.rejects.xlsx"
    assert attachment.get_payload(decode=True) == rejects.read_bytes()
    assert run["emails"]["ops"]["sent"] == 1

    # the same night again: the copy has finished, ops re-dropped the leads (same name) and the roster (renamed)
    (drop / "~$草稿.xlsx").unlink()
    (drop / "报表.xlsx.part").unlink()
    archive = site / "archive" / AS_OF
    shutil.copy2(archive / "线索.csv", drop / "线索.csv")
    shutil.copy2(archive / "顾问名单.xlsx", drop / "顾问名单 - 副本.xlsx")
    run, out = genjin_run(site, env)
    files = {(f["name"], f["status"]): f for f in run["files"]}
    assert run["held"] == []
    assert files[("增长中.csv", "loaded")]["rows_loaded"] == rows
    assert files[("线索.csv", "loaded")]["rows_loaded"] == 3
    dup = files[("线索.csv", "duplicate")]
    assert dup["duplicate_of"] == {"name": "线索.csv", "night": AS_OF}
    assert (dup["rows_in"], dup["rows_loaded"], dup["rows_rejected"]) == (0, 0, 0)
    assert files[("顾问名单 - 副本.xlsx", "duplicate")]["duplicate_of"] == {"name": "顾问名单.xlsx", "night": AS_OF}
    assert "duplicate 重复，未载入" in out and "同样内容" not in out  # the why names the first file and night
    assert list(drop.iterdir()) == []
    assert (archive / "线索 (2).csv").read_bytes() == (archive / "线索.csv").read_bytes()  # never deleted
    history = History(site / "history")
    assert sorted(history.ledger()["name"]) == ["增长中.csv", "线索.csv", "顾问名单.xlsx"]
    assert pl.read_delta(str(history.table("leads"))).height == 3 + rows
    ops_mails = inbox.to("ops@dealer.cn")
    assert len(ops_mails) == 2 and "2 个重复" in ops_mails[1]["Subject"]


TYPO_ROSTER = [
    ["顾问编号", "姓名", "门店", "岗位", "邮箱", "在职"],
    ["S001X01", "张秀霞", "浦东店", "销售顾问", "s001x01@dealer.cn", "是"],
    ["M001", "王经理", "浦东店", "经理", "m001@dealer.cn", "是"],
]
OPEN_LEADS = [
    ["线索编号", "留资时间", "客户姓名", "联系电话", "门店", "销售顾问工号", "客户级别"],
    ["L1", "2026-11-22 10:00", "陈先生", 13800138001, "浦东店", "S001X01", "A"],  # a number cell: loads
    ["L2", "2026-11-22 11:00", "林女士", "13800138002", "浦东店", "S001XO1", "B"],  # O typed for 0
    ["L3", "2026-11-22 12:00", "吴先生", "1.38001380E10", "浦东店", "S001X01", "B"],  # Excel kept 9 of 11 digits
]
FOLLOWUPS = ("线索编号,销售顾问工号,跟进时间,跟进结果,下次跟进时间\n"
             "L1,S001X01,2026-11-22 15:00,已接通,11/25\n"
             "L1,S001X01,2026-11-26 10:00,已接通,\n")  # row 3: D+3 — a PC clock three days fast


def test_an_open_workbook_a_copy_a_future_row_and_a_typo_are_read_and_told(
        tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    site = tmp_path / "site"
    drop = site / "drop"
    drop.mkdir(parents=True)
    for name, rows in (("顾问名单.xlsx", TYPO_ROSTER), ("线索导出.xlsx", OPEN_LEADS)):
        wb = openpyxl.Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(drop / name)
    (drop / "~$线索导出.xlsx").write_bytes(b"\x00" * 165)  # the clerk left 线索导出.xlsx open in Excel at 17:30
    (drop / "跟进记录_S001X01.csv").write_text(FOLLOWUPS, encoding="utf-8")
    shutil.copy2(drop / "跟进记录_S001X01.csv", drop / "跟进记录_S001X01 - 副本.csv")  # and dropped a copy too
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GENJIN_"))}
    env |= {"HOME": str(tmp_path), "GENJIN_SMTP_HOST": "127.0.0.1", "GENJIN_SMTP_PORT": str(port),
            "GENJIN_SMTP_SECURITY": "none", "GENJIN_MAIL_FROM": "genjin <crm@dealer.cn>",
            "GENJIN_OPS_EMAIL": "ops@dealer.cn"}
    run, out = genjin_run(site, env)

    # the open workbook is read and archived; only Excel's owner file stays, held
    files = {f["name"]: f for f in run["files"]}
    assert (files["线索导出.xlsx"]["status"], files["线索导出.xlsx"]["rows_loaded"]) == ("loaded", 2)
    assert [h["name"] for h in run["held"]] == ["~$线索导出.xlsx"]
    assert sorted(p.name for p in drop.iterdir()) == ["~$线索导出.xlsx"]
    assert (site / "archive" / AS_OF / "线索导出.xlsx").is_file()
    # the original loads, its copy is the duplicate
    assert files["跟进记录_S001X01.csv"]["status"] == "loaded"
    assert files["跟进记录_S001X01 - 副本.csv"]["duplicate_of"] == {"name": "跟进记录_S001X01.csv", "night": AS_OF}

    warnings = {w["code"]: w for w in run["warnings"]}
    assert set(warnings) == {"open_in_excel", "future_dated", "unknown_advisor"}
    assert warnings["open_in_excel"]["file"] == "线索导出.xlsx" and "~$线索导出.xlsx" in warnings["open_in_excel"]["zh"]
    future = warnings["future_dated"]
    assert (future["file"], future["count"], future["rows"]) == ("跟进记录_S001X01.csv", 1, [3])
    assert "晚于运行日期 2026-11-23（第 3 行，最晚 2026-11-26）" in future["zh"] and "已载入" in future["zh"]
    assert files["跟进记录_S001X01.csv"]["rows_warned"] == 1
    assert "S001XO1（是否为 S001X01 张秀霞？）" in warnings["unknown_advisor"]["zh"]
    assert "提醒 / warnings: 3" in out and "第 3 行，最晚 2026-11-26" in out and "是否为 S001X01 张秀霞" in out
    assert sum(f["rows_rejected"] for f in run["files"]) == 1  # L3's phone

    (ops,) = inbox.to("ops@dealer.cn")
    assert "3 条提醒" in ops["Subject"] and "1 行被拒" in ops["Subject"]
    text = ops.get_body(("plain",)).get_content()
    for expected in ("跟进记录_S001X01.csv：1 行", "第 3 行，最晚 2026-11-26", "正在 Excel/WPS 中打开",
                     "是否为 S001X01 张秀霞", "跟进记录_S001X01 - 副本.csv：—，重复，未载入",
                     "是「跟进记录_S001X01.csv」的副本"):
        assert expected in text, expected
    attached = {a.get_filename() for a in ops.iter_attachments()}
    assert attached == {"线索导出.xlsx.rejects.xlsx", "跟进记录_S001X01.csv.rejects.xlsx"}
    book = openpyxl.load_workbook(site / "out" / AS_OF / "rejects" / "跟进记录_S001X01.csv.rejects.xlsx").active
    assert (book["A3"].value, book["B3"].value, book["B3"].fill.fgColor.rgb) == (3, "已载入，有提示", "00FFEB9C")
    leads_book = openpyxl.load_workbook(site / "out" / AS_OF / "rejects" / "线索导出.xlsx.rejects.xlsx").active
    assert leads_book["A3"].value == 4 and "科学记数法「1.38001380E10」" in leads_book["D3"].value
