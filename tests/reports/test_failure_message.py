"""What ops read when a night does not end well (reports/failure_message.py) and what Prefect shows of a night
(reports/night_artifacts.py): which night, which stage, the reason in Chinese and English, what to do, what the
advisors got; no traceback, customer text escaped."""

from __future__ import annotations

import errno
from pathlib import Path

from adapters.folders import FolderError, folder_problem
from adapters.robots import WeComRobot
from reports.failure_message import Failure, explain, failure_mail, failure_post, partial_reason, subject, undelivered
from reports.night_artifacts import outputs_table, summary_markdown
from tests.mail_night import bodies


def test_an_out_folder_that_is_a_file_says_which_folder_and_what_to_do(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("x", encoding="utf-8")
    problem = folder_problem("out", out)
    assert problem == f"输出文件夹 out: {out} 不是文件夹（是一个文件）/ is not a folder (it is a file)"
    reason = explain("failed", FolderError(problem), night="2026-11-20")
    assert reason.zh == problem and reason.en == ""  # bilingual already
    assert "genjin settings" in reason.todo_zh and "genjin run --as-of 2026-11-20 --send" in reason.todo_zh
    assert "genjin run --as-of 2026-11-20 --send" in reason.todo_en


def test_os_errors_are_told_in_ops_words() -> None:
    full = explain("failed", OSError(errno.ENOSPC, "No space left on device", "/data/out/x.xlsx"), night="2026-11-20")
    assert full.zh == "磁盘已满：/data/out/x.xlsx"
    assert full.en.startswith("the disk is full: OSError: [Errno 28] No space left on device")
    odd = explain("failed", KeyError("advisor_id"), night="2026-11-20")
    assert odd.zh == "程序出错：KeyError: 'advisor_id'" and "IT" in odd.todo_zh
    crashed = explain("crashed", message="Process exited with status code: -9", night="2026-11-20")
    assert "意外结束" in crashed.zh and "status code: -9" in crashed.en


def failure(**kw: object) -> Failure:
    values: dict[str, object] = {
        "kind": "nightly", "outcome": "crashed", "night": "2026-11-20", "run_name": "nightly-2026-11-20",
        "reason": explain("crashed", message="Process exited with status code: -9", night="2026-11-20"),
        "stage": "deliver", "advisors_sent": 3, "digests_sent": 1, "log": "http://127.0.0.1:4200/runs/flow-run/1",
        "run_id": "1f0c"} | kw
    return Failure(**values)  # type: ignore[arg-type]


def test_the_email_says_night_stage_reason_what_to_do_and_what_the_advisors_got() -> None:
    item = failure_mail(failure(), "ops@dealer.cn", "genjin <crm@dealer.cn>")
    assert item.message["Subject"] == "【genjin】2026-11-20 夜间运行中断 · 停在：发送邮件和群消息"
    text = bodies(item.message)
    for words in ("nightly-2026-11-20", "发送邮件和群消息", "sending the emails and group posts",
                  "运行进程意外结束", "status code: -9", "genjin run --as-of 2026-11-20 --send",
                  "已有 3 位顾问收到计划、1 位经理收到汇总", "3 advisors got their plan",
                  "http://127.0.0.1:4200/runs/flow-run/1"):
        assert words in text, words
    assert "Traceback" not in text
    assert len(item.message.as_bytes()) < 100_000


def test_nothing_sent_yet_says_the_advisors_got_nothing() -> None:
    text = failure_post(failure(advisors_sent=0, digests_sent=0, stage="read")).text
    assert "今天顾问没有收到计划邮件，经理没有收到汇总" in text and "the advisors got no plan today" in text
    assert "读取文件" in text


def test_a_partial_night_lists_what_did_not_go_out() -> None:
    emails = {"failed": [{"to": "s1@dealer.cn", "error": "无法连接邮件服务器 / cannot connect"}],
              "ops": {"to": "ops@dealer.cn", "failed": [{"to": "ops@dealer.cn", "error": "refused"}]}}
    groups = {"failed": [{"store": "浦东店", "kind": "summary", "error": "wecom errcode 93000"}], "missing": []}
    lines = undelivered(emails, groups)
    assert lines == ["s1@dealer.cn: 无法连接邮件服务器 / cannot connect", "运维邮件 ops email ops@dealer.cn: refused",
                     "浦东店 群消息 group post (summary): wecom errcode 93000"]
    text = failure_post(failure(outcome="partial", reason=partial_reason(3, "2026-11-20"), undelivered=lines,
                                advisors_sent=19, digests_sent=2)).text
    assert "清单和报表已写好，但有 3 项没有送达" in text and "3 deliveries did not go out" in text
    assert "已发出 19 位顾问的计划、2 份经理汇总" in text
    assert "- 无法连接邮件服务器 / cannot connect — 1 项 / 1: s1@dealer.cn" in text
    assert "- wecom errcode 93000 — 1 项 / 1: 浦东店 群消息 group post (summary)" in text


def test_each_run_has_its_own_key_and_intraday_failures_one_a_day_per_cause() -> None:
    assert failure().key != failure(run_id="2a9d").key  # a failed re-run of the night is told again
    day = failure(kind="intraday", outcome="failed", night="2026-11-20 10:15", run_name="intraday-2026-11-20-10:15",
                  reason=explain("failed", ValueError("x"), kind="intraday"))
    later = failure(kind="intraday", outcome="failed", night="2026-11-20 10:30", run_name="intraday-2026-11-20-10:30",
                    reason=explain("failed", ValueError("x"), kind="intraday"), run_id="other")
    assert day.key == later.key  # every fifteen minutes the same failure: one message a day
    assert "下一次日间运行会补发" in failure_post(day).text


def test_customer_text_in_a_reason_is_escaped_in_the_html() -> None:
    item = failure_mail(failure(reason=explain("failed", ValueError("<b>陈先生</b>"))), "ops@dealer.cn",
                        "genjin <crm@dealer.cn>")
    html = item.message.get_body(("html",)).get_content()
    assert "<b>陈先生</b>" not in html and "&lt;b&gt;陈先生&lt;/b&gt;" in html


def test_the_robot_post_fits_wecom() -> None:
    down = "无法连接邮件服务器 / cannot connect to smtp.dealer.cn:465 (3 attempts)"
    lines = [f"s{i}@dealer.cn: {down}" for i in range(60)]
    post = failure_post(failure(outcome="partial", reason=partial_reason(60, "2026-11-20"), undelivered=lines))
    body = WeComRobot("https://example.invalid").body(post)
    assert len(body["markdown"]["content"].encode()) < 4096  # WeCom's markdown limit
    [line] = [line for line in post.text.splitlines() if "无法连接邮件服务器" in line]  # one line per reason
    assert "— 60 项 / 60: s0@dealer.cn, s1@dealer.cn," in line and "s19@dealer.cn …" in line
    assert "s20@dealer.cn" not in line
    assert subject(failure(outcome="partial")) == "【genjin】2026-11-20 夜间运行未全部送达"


SUMMARY = {
    "as_of": "2026-11-20",
    "files": [{"name": "线索|导出.xlsx", "kind": "leads", "status": "loaded", "rows_in": 3, "rows_loaded": 2,
               "rows_rejected": 1},
              {"name": "线索 - 副本.xlsx", "kind": "leads", "status": "duplicate", "rows_in": 0, "rows_loaded": 0,
               "rows_rejected": 0}],
    "held": [{"name": "增长中.csv", "modified_at": "2026-11-20 01:59", "why": "仍在变化 / still being copied"}],
    "tasks": {"total": 2, "overdue": 1, "orphaned": 0, "advisors": 1, "by_type": {"first_contact": 2}},
    "emails": {"written": 2, "sent": 1, "already_sent": 0, "without_email": [],
               "failed": [{"to": "s1@dealer.cn", "error": "refused"}]},
    "warnings": [{"zh": "门店无经理", "en": "no manager"}],
    "undelivered": ["s1@dealer.cn: refused"],
}


def test_the_summary_artifact_shows_the_night(tmp_path: Path) -> None:
    text = summary_markdown(SUMMARY, tmp_path)
    assert text.startswith("# 夜间运行 2026-11-20 / night of 2026-11-20\n\n## 没有送达 / not delivered: 1")
    assert "| 线索\\|导出.xlsx | leads | 已载入 loaded | 3 | 2 | 1 |  |" in text  # a | in a name stays in its cell
    assert "| 线索 - 副本.xlsx | leads | 重复，未载入 duplicate | 0 | 0 | 0 |  |" in text  # as the ops email says it
    assert "增长中.csv" in text and "首次联系 first_contact | 2" in text and "失败 failed 1" in text
    assert "- refused — 1 项 / 1: s1@dealer.cn\n" in text  # what did not go out, by reason
    assert "- s1@dealer.cn: refused" in text and "门店无经理 / no manager" in text


def test_the_outputs_table_links_what_exists(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "rejects").mkdir()
    (tmp_path / "rejects" / "线索|导出.xlsx.rejects.xlsx").write_bytes(b"PK")
    rows = outputs_table(tmp_path, SUMMARY)
    assert [r["输出 output"] for r in rows] == ["KPI 报表 report.html", "被拒的行 rejects: 线索|导出.xlsx"]
    assert rows[1]["数量 count"] == 1 and str(rows[0]["链接 link"]).startswith("file:///")
