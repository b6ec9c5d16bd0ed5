"""The ops email's rules (issue #13), on the real message: nothing on a clean night unless asked; otherwise
one message naming held, duplicate and quarantined files with why, rejects attached, warnings listed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from adapters.mail import MailSettings
from flows.night_mail import deliver_ops

AS_OF = date(2026, 11, 23)
CLEAN = [{"name": "线索.csv", "kind": "leads", "rows_in": 3, "rows_loaded": 3, "rows_rejected": 0,
          "status": "loaded"}]
SETTINGS = MailSettings(ops_email="ops@dealer.cn", sender="genjin <crm@dealer.cn>")


def test_a_clean_night_writes_nothing_unless_asked(tmp_path: Path) -> None:
    assert deliver_ops(CLEAN, [], [], [], tmp_path, AS_OF, None, False, SETTINGS) == {
        "to": "ops@dealer.cn", "skipped": "clean night"}
    assert not (tmp_path / "outbox").exists()
    unset = deliver_ops(CLEAN, [], [], [], tmp_path, AS_OF, None, False, MailSettings())
    assert unset["skipped"] == "no ops_email setting"
    asked = deliver_ops(CLEAN, [], [], [], tmp_path, AS_OF, None, False,
                        replace(SETTINGS, ops_email_always=True))
    assert asked["written"] == 1
    msg = message_from_bytes((tmp_path / "outbox" / "ops.eml").read_bytes(), policy=policy.default)
    assert "今晚一切正常" in msg.get_body(("plain",)).get_content()


def test_a_night_with_problems_names_each_and_attaches_the_rejects(tmp_path: Path) -> None:
    rejects = tmp_path / "线索.csv.rejects.xlsx"
    rejects.write_bytes(b"PK fake workbook")
    files = [
        {**CLEAN[0], "rows_loaded": 2, "rows_rejected": 1},
        {"name": "线索 - 副本.csv", "kind": None, "rows_in": 0, "rows_loaded": 0, "rows_rejected": 0,
         "status": "duplicate", "why": "与 2026-11-23 已载入的文件「线索.csv」内容相同，不重复载入 / same content"},
        {"name": "加密.xlsx", "kind": None, "rows_in": 0, "rows_loaded": 0, "rows_rejected": 0,
         "status": "quarantined", "why": "工作簿有密码保护 / the workbook is password-protected"},
    ]
    held = [{"name": "增长中.csv", "why": "文件在检查期间仍在变化", "modified_at": "2026-11-23T01:59:58",
             "how": "再运行一次 genjin run"}]
    warnings = [{"code": "no_roster", "store": None, "count": 5, "zh": "没有顾问名单：<b>5</b> 条任务",
                 "en": "no roster"}]
    out = tmp_path / "night"
    result = deliver_ops(files, held, warnings, [rejects], out, AS_OF, None, False, SETTINGS)
    assert result["written"] == 1
    msg = message_from_bytes((out / "outbox" / "ops.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == "genjin 运维 / ops <ops@dealer.cn>"
    assert msg["Subject"] == ("【genjin 运行情况】2026-11-23 · 3 个文件 · 1 个暂缓 · 1 个重复 · 1 个隔离 · "
                              "1 行被拒 · 1 条提醒")
    text = msg.get_body(("plain",)).get_content()
    for expected in ("增长中.csv", "2026-11-23T01:59:58", "线索 - 副本.csv：—，重复，未载入", "内容相同",
                     "加密.xlsx：—，已隔离", "密码保护", "线索.csv：1 行", "没有顾问名单"):
        assert expected in text, expected
    html = msg.get_body(("html",)).get_content()
    assert "&lt;b&gt;5&lt;/b&gt;" in html  # escaped
    (attachment,) = msg.iter_attachments()
    assert (attachment.get_filename(), attachment.get_payload(decode=True)) == (rejects.name, b"PK fake workbook")
