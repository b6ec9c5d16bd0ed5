"""The manager's digest read on a phone: its HTML part in a real headless Chromium at a 360 px viewport (a
mobile one, as a phone's mail app lays it out) and at 1280 px. Nothing to scroll sideways and no text squeezed
narrower than four of its characters (the overdue customers' table once wrapped 维修后回访 a character a line,
and the team table's 任务 and 客户 headings one character a line beside a 工号 column)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from reports.digest import digest_mail
from tests.reports.test_digest import AS_OF, ROSTER, WORKLIST, _parse, task
from tests.reports.test_email_browser import view
from tests.reports.test_report_browser import chromium


@pytest.fixture
def digest_html(tmp_path: Path) -> Path:
    """M1's digest with a long team: nine advisors' overdue customers, long task names, a long company name."""
    more = [task("S1", f"D{i}", name, f"+86166123480{i:02d}", kind, 3 + i, 5)
            for i, (name, kind) in enumerate([("上海浦东新区某某汽车租赁服务有限公司", "post_delivery_d3"),
                                              ("欧阳娜娜", "lost_recall"), ("李", "maintenance_due")] * 3)]
    worklist = pl.concat([WORKLIST, pl.DataFrame(more, schema=WORKLIST.schema)]).with_columns(
        due_date=pl.lit(AS_OF) - pl.duration(days=pl.col("days_overdue")))
    assert worklist["due_date"].min() == AS_OF - timedelta(days=12)
    items, _ = digest_mail(worklist, ROSTER, {"S3"}, tmp_path / "none.html", AS_OF, "genjin <crm@dealer.cn>")
    msg = _parse(next(i for i in items if i.recipient_id == "M1").message.as_bytes())
    path = tmp_path / "digest.html"
    path.write_text(msg.get_body(("html",)).get_content(), encoding="utf-8")
    return path


@pytest.mark.parametrize(("width", "mobile"), [(360, True), (1280, False)])
def test_the_digest_reads_on_a_phone_and_a_desktop(digest_html, tmp_path, width, mobile):
    with chromium(tmp_path) as page:
        seen = view(page, digest_html, width, mobile=mobile)
        assert page.problems() == []
    assert seen["inner"] == width
    assert seen["scroll"] <= seen["inner"], f"{seen['scroll']} px wide on a {seen['inner']} px screen"
    assert seen["narrow"] == [], "text squeezed narrower than four of its characters"
