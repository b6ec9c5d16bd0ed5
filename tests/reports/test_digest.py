"""The store manager's digest: who is on whose team, the numbers, masked phones, the KPI report attached."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from reports.digest import Manager, digest_context, digest_mail, digest_message, digest_subject, managers
from reports.recipients import Recipient

AS_OF = date(2026, 11, 23)
ROSTER = pl.DataFrame(
    [
        {"advisor_id": "M1", "name": "王经理", "store": "浦东店", "role": "manager", "email": "m1@dealer.cn",
         "manager_id": None, "active": True},
        {"advisor_id": "M2", "name": "孙经理", "store": "浦东店", "role": "manager", "email": None,
         "manager_id": None, "active": True},
        {"advisor_id": "S1", "name": "张三", "store": "浦东店", "role": "sales", "email": "s1@dealer.cn",
         "manager_id": "M1", "active": True},
        {"advisor_id": "S2", "name": "李四", "store": "浦东店", "role": "sales", "email": "s2@dealer.cn",
         "manager_id": "M1", "active": False},
        {"advisor_id": "S3", "name": "周七", "store": "浦东店", "role": "sales", "email": None,
         "manager_id": None, "active": True},
        {"advisor_id": "V1", "name": "赵六", "store": "浦东店", "role": "service", "email": "v1@dealer.cn",
         "manager_id": "M2", "active": None},
        {"advisor_id": "X1", "name": "钱八", "store": "徐汇店", "role": "sales", "email": "x1@dealer.cn",
         "manager_id": None, "active": True},
    ]
)


def task(advisor_id: str, customer_id: str, name: str, phone: str, task_type: str, overdue: int,
         priority: int, orphaned: bool = False, original: str | None = None) -> dict:
    return {"as_of": AS_OF, "advisor_id": advisor_id, "store": "浦东店", "customer_id": customer_id,
            "customer_name": name, "phone": phone, "task_type": task_type,
            "due_date": AS_OF - timedelta(days=overdue), "days_overdue": overdue, "priority": priority,
            "grade": "C", "stage": "lead", "reason": "…", "ref": customer_id, "lead_id": None,
            "orphaned": orphaned, "original_advisor_id": original or advisor_id, "open_until": None}


WORKLIST = pl.DataFrame(
    [
        task("V1", "C6", "吴先生", "+8613800138006", "complaint", 0, 1),
        task("M1", "C5", "孙先生", "+8619459697822", "first_contact", 12, 2, orphaned=True, original="S2"),
        task("S1", "C1", "陈先生", "+8616612348001", "first_contact", 2, 2),
        task("S1", "C2", "李女士", "+8613800138002", "followup", 0, 3),
        task("S3", "C4", "赵女士", "+8613800138004", "post_delivery_d3", 1, 4),
        task("S1", "C3", "王先生", "+8614512348003", "followup", 5, 5),
    ],
    schema_overrides={"lead_id": pl.String, "open_until": pl.Date},
)


def test_teams_follow_manager_id_else_the_stores_first_manager() -> None:
    assert managers(ROSTER) == [
        # S2 left; S3 has no manager of record, so the store's first manager has him
        Manager("M1", "王经理", "浦东店", "m1@dealer.cn", ("S1", "S3")),
        Manager("M2", "孙经理", "浦东店", None, ("V1",)),  # active unknown counts as active
    ]


def test_digest_numbers() -> None:
    head = managers(ROSTER)[0]
    context = digest_context(head, WORKLIST, ROSTER, {"S3"}, AS_OF, report_attached=True)
    assert context["totals"] == {"tasks": 5, "customers": 5, "overdue": 4, "orphaned": 1, "advisors": 2}
    assert [(a["advisor_id"], a["tasks"], a["customers"], a["overdue"], a["most_overdue"], a["has_email"])
            for a in context["advisors"]] == [
        ("S1", 3, 3, 2, 5, True), ("M1", 1, 1, 1, 12, True), ("S3", 1, 1, 1, 1, False),
    ]
    overdue = {a["advisor_id"]: [(r["customer_name"], r["phone"], r["days_overdue"]) for r in a["rows"]]
               for a in context["overdue_by_advisor"]}
    assert overdue == {  # M1's own work is in his own email and under 转交; the most urgent task first
        "S1": [("陈先生", "166****8001", 2), ("王先生", "145****8003", 5)],  # 14x and 16x mobiles
        "S3": [("赵女士", "138****8004", 1)],
    }
    orphaned = [(r["customer_name"], r["phone"], r["tasks"], r["was"], r["days_overdue"])
                for r in context["orphaned"]]
    assert orphaned == [("孙先生", "194****7822", "首次联系", "李四", 12)]  # a 19x mobile
    assert [(a["advisor_id"], a["name"], a["tasks"], a["not_sent"]) for a in context["without_email"]] == [
        ("S3", "周七", 1, True),
    ]


def test_an_original_advisor_missing_from_the_roster_is_named_as_such() -> None:
    extra = pl.DataFrame([task("M1", "C7", "冯女士", "+8613800138007", "followup", 3, 5, True, "S9")],
                         schema=WORKLIST.schema)
    context = digest_context(managers(ROSTER)[0], pl.concat([WORKLIST, extra]), ROSTER, set(), AS_OF, False)
    assert [r["was"] for r in context["orphaned"]] == ["李四", "S9（不在名单）"]  # 工号: not in the roster


def test_work_with_no_advisor_of_record_says_so_under_handed_over() -> None:
    """A repair order without a service advisor went to the manager: the 原顾问 cell reads 未指定, not blank."""
    row = task("M1", "C8", "郭女士", "+8615016488688", "care_call", 7, 8, orphaned=True) | {"original_advisor_id": None}
    extra = pl.DataFrame([row], schema=WORKLIST.schema)
    context = digest_context(managers(ROSTER)[0], pl.concat([WORKLIST, extra]), ROSTER, set(), AS_OF, False)
    was = [(r["customer_name"], r["was"]) for r in context["orphaned"]]
    assert was == [("孙先生", "李四"), ("郭女士", "未指定")]  # names, not 工号


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_digest_message_masks_phones_and_attaches_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html><body>KPI 报告</body></html>", encoding="utf-8")
    items, missing = digest_mail(WORKLIST, ROSTER, {"S3"}, report, AS_OF, "genjin <crm@dealer.cn>")
    assert missing == ["M2"]  # M2 has a team but no address
    assert [(i.kind, i.recipient_id, i.to, i.filename) for i in items] == [
        ("digest", "M1", "m1@dealer.cn", "digest/M1.eml"),
    ]
    msg = _parse(items[0].message.as_bytes())
    assert msg["Subject"] == "【团队日报】王经理 11-23：逾期 4 项（共 5 项），转交给您 1 位"
    assert msg["To"] == "王经理 <m1@dealer.cn>"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "194****7822" in body and "李四" in body and "周七" in body
        assert "S2" not in body and "（S3）" not in body  # people by name, no 工号 (but the file ops can send: S3.xlsx)
        assert "145****8003" in body and "166****8001" in body
        for phone in WORKLIST["phone"]:  # no full number, in any form
            assert phone[3:] not in body and phone[3:] not in body.replace(" ", "")
    attachments = list(msg.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        ("KPI 报告 11-23 浦东店.html", "text/html")]
    assert attachments[0].get_payload(decode=True) == report.read_bytes()


def test_each_manager_of_a_store_gets_its_report_whole_and_each_store_its_own(tmp_path: Path) -> None:
    """A store's report is read and encoded once a night and shared by its managers' digests: each written
    message still carries the whole report under its name, and another store's manager gets theirs."""
    roster = ROSTER.with_columns(pl.when(pl.col("advisor_id") == "M2").then(pl.lit("m2@dealer.cn"))
                                 .otherwise(pl.col("email")).alias("email"))
    roster = pl.concat([roster, roster.filter(pl.col("advisor_id") == "M1").with_columns(
        advisor_id=pl.lit("M3"), name=pl.lit("钱经理"), store=pl.lit("徐汇店"), email=pl.lit("m3@dealer.cn"))])
    report = tmp_path / "report.html"
    report.write_text("<html>全集团</html>", encoding="utf-8")
    (tmp_path / "reports").mkdir()
    shops = {"浦东店": "<html>浦东店 KPI</html>" * 1000, "徐汇店": "<html>徐汇店 KPI</html>"}
    for shop, text in shops.items():
        (tmp_path / "reports" / f"{shop}.html").write_text(text, encoding="utf-8")
    items, missing = digest_mail(WORKLIST, roster, set(), report, AS_OF, "genjin <crm@dealer.cn>")
    assert missing == [] and [i.recipient_id for i in items] == ["M1", "M2", "M3"]
    for item, shop in zip(items, ("浦东店", "浦东店", "徐汇店"), strict=True):
        (attachment,) = _parse(item.message.as_bytes()).iter_attachments()
        assert attachment.get_filename() == f"KPI 报告 11-23 {shop}.html"
        assert attachment.get_payload(decode=True).decode("utf-8") == shops[shop]


def test_without_the_report_the_digest_says_so(tmp_path: Path) -> None:
    items, _ = digest_mail(WORKLIST, ROSTER, set(), tmp_path / "report.html", AS_OF, "genjin <crm@dealer.cn>")
    msg = _parse(items[0].message.as_bytes())
    assert list(msg.iter_attachments()) == []
    assert "今天的 KPI 报告没有生成" in msg.get_body(("plain",)).get_content()


def test_customer_text_is_escaped_in_the_html(tmp_path: Path) -> None:
    worklist = WORKLIST.with_columns(
        pl.when(pl.col("customer_id") == "C5").then(pl.lit("<script>x()</script>")).otherwise("customer_name")
        .alias("customer_name")
    )
    items, _ = digest_mail(worklist, ROSTER, set(), tmp_path / "none.html", AS_OF, "genjin <crm@dealer.cn>")
    html = _parse(items[0].message.as_bytes()).get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html


def test_a_manager_with_neither_team_nor_work_gets_no_digest(tmp_path: Path) -> None:
    roster = ROSTER.filter(pl.col("advisor_id").is_in(["M1", "M2"]))
    items, missing = digest_mail(WORKLIST.filter(pl.col("advisor_id") == "M1"), roster, set(),
                                 tmp_path / "r.html", AS_OF, "genjin <crm@dealer.cn>")
    assert [i.recipient_id for i in items] == ["M1"]
    assert missing == []  # M2 would get nothing, so a missing address does not matter tonight


def test_each_managers_digest_holds_only_their_teams_work(tmp_path: Path) -> None:
    m3 = {"advisor_id": "M3", "name": "刘经理", "store": "徐汇店", "role": "manager", "email": "m3@dealer.cn",
          "manager_id": None, "active": True}  # X1 has no manager of their own: M3 is the store's first
    roster = pl.concat([ROSTER, pl.DataFrame([m3], schema=ROSTER.schema)])
    xuhui = pl.DataFrame([
        task("X1", "C8", "郑先生", "+8613800138008", "followup", 4, 5) | {"store": "徐汇店"},
        task("X1", "C9", "冯女士", "+8613800138009", "first_contact", 0, 2) | {"store": "徐汇店"},
    ], schema=WORKLIST.schema)
    worklist = pl.concat([WORKLIST.head(2), xuhui.head(1), WORKLIST.slice(2), xuhui.tail(1)])  # teams interleaved
    items, _ = digest_mail(worklist, roster, set(), tmp_path / "none.html", AS_OF, "genjin <crm@dealer.cn>")
    messages = {i.recipient_id: _parse(i.message.as_bytes()) for i in items}
    assert {k: m["Subject"] for k, m in messages.items()} == {
        "M1": "【团队日报】王经理 11-23：逾期 4 项（共 5 项），转交给您 1 位",  # M1, S1 ×3, S3
        "M3": "【团队日报】刘经理 11-23：逾期 1 项（共 2 项）",  # X1 ×2
    }
    m1_text = messages["M1"].get_body(("plain",)).get_content()
    m3_text = messages["M3"].get_body(("plain",)).get_content()
    assert "138****8008" in m3_text and "138****8008" not in m1_text
    assert "166****8001" in m1_text and "166****8001" not in m3_text
    assert m3_text.count("138****8009") == 0  # due today: not overdue, not listed


def test_two_advisors_of_one_name_are_told_apart_by_their_number(tmp_path: Path) -> None:
    """People are named, not numbered; only when a team has two 张三 does each carry its 工号."""
    twin = {"advisor_id": "S4", "name": "张三", "store": "浦东店", "role": "sales", "email": "s4@dealer.cn",
            "manager_id": "M1", "active": True}
    roster = pl.concat([ROSTER, pl.DataFrame([twin], schema=ROSTER.schema)])
    worklist = pl.concat([WORKLIST, pl.DataFrame([task("S4", "C7", "钱女士", "+8613800138007", "followup", 3, 5)],
                                                 schema=WORKLIST.schema)])
    items, _ = digest_mail(worklist, roster, set(), tmp_path / "none.html", AS_OF, "genjin <crm@dealer.cn>")
    m1 = _parse(next(i for i in items if i.recipient_id == "M1").message.as_bytes())
    for body in (m1.get_body(("plain",)).get_content(), m1.get_body(("html",)).get_content()):
        assert "张三（S1）" in body and "张三（S4）" in body
        assert "周七" in body and "周七（S3）" not in body


def test_the_subject_is_a_sentence_of_what_needs_the_manager_first() -> None:
    context = {"name": "王建国", "as_of": "2026-11-23", "totals": {"tasks": 1310, "overdue": 1170, "orphaned": 18},
               "chase": {"complaint": {"count": 2}}, "review": {"total": 30}}
    assert digest_subject(context) == (
        "【团队日报】王建国 11-23：投诉 2 起待处理，逾期 1170 项（共 1310 项），待您决定 30 人，转交给您 18 位")
    quiet = context | {"totals": {"tasks": 3, "overdue": 0, "orphaned": 0}, "chase": {}, "review": {}}
    assert digest_subject(quiet) == "【团队日报】王建国 11-23：逾期 0 项（共 3 项）"


def test_the_attachments_say_what_and_whose(tmp_path: Path) -> None:
    report, review = tmp_path / "report.html", tmp_path / "M1.xlsx"
    report.write_text("<html>KPI</html>", encoding="utf-8")
    review.write_bytes(b"PK review")
    head = managers(ROSTER)[0]
    context = digest_context(head, WORKLIST, ROSTER, set(), AS_OF, report_attached=True)
    item = digest_message(Recipient("M1", "王经理", "m1@dealer.cn"), context, report, AS_OF, "a@b.cn", review)
    msg = _parse(item.message.as_bytes())
    assert [a.get_filename() for a in msg.iter_attachments()] == [
        "KPI 报告 11-23 浦东店.html", "待决定 11-23 王经理.xlsx"]
    assert "附件 KPI 报告 11-23 浦东店.html 是今天的 KPI 报告" in msg.get_body(("plain",)).get_content()
