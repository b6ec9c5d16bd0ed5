"""The advisor's email read where advisors read it: its HTML part in a real headless Chromium, emulating a 360 px
phone (a mobile viewport, as a phone's mail app lays it out) and a 1280 px desktop window. No horizontal scroll,
no text element narrower than its own first four characters (the email's former table at 390 px wrapped 事项 one
character a line), one card per customer with the name and a tap-to-dial phone on its first line.

A control page laid out like the former table proves the measure would catch it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from policy.model import Policy
from reports.email_message import advisor_message
from reports.recipients import Recipient
from tests.conftest import AS_OF
from tests.mail_night import Night, parse
from tests.reports.test_report_browser import Page, chromium
from transforms.plan import advisor_plans

# the text elements (those with text of their own) narrower than the first four characters of that text set in
# their own font on one line, and what the page measures
MEASURE = """(() => {
  const narrow = [];
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;left:0;top:0';
  document.body.appendChild(probe);
  for (const el of document.body.querySelectorAll('*')) {
    if (el === probe) continue;
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if ([...own].length < 2) continue;
    const style = getComputedStyle(el);
    probe.style.font = style.font;
    probe.style.letterSpacing = style.letterSpacing;
    probe.textContent = [...own].slice(0, 4).join('');
    const needed = probe.getBoundingClientRect().width;
    const width = el.getBoundingClientRect().width;
    if (width + 0.5 < needed) narrow.push([own.slice(0, 12), Math.round(width), Math.round(needed)]);
  }
  probe.remove();
  const cards = Array.from(document.querySelectorAll('a[href^="tel:"]')).map(a => {
    const line = a.parentElement;
    const name = line.querySelector('b');
    return {href: a.getAttribute('href'), text: a.textContent, name: name ? name.textContent : null,
            same_line: name ? Math.abs(name.getBoundingClientRect().top - a.getBoundingClientRect().top) < 8 : false,
            first_line: line === line.parentElement.firstElementChild};
  });
  const widest = Math.max(...Array.from(document.querySelectorAll('table')).map(t => t.getBoundingClientRect().width));
  return {inner: innerWidth, scroll: document.documentElement.scrollWidth, narrow, cards, widest,
          font: parseFloat(getComputedStyle(document.querySelector('td')).fontSize)};
})()"""


def view(page: Page, html: Path, width: int, mobile: bool) -> dict[str, Any]:
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=2 if mobile else 1,
              mobile=mobile)
    page.open(html)
    return page.evaluate(MEASURE)


@pytest.fixture
def email_html(night: Night, policy: Policy, tmp_path: Path) -> Path:
    """S1's email, its plan grown by customers that test the layout: a long company name, a reason of long words
    without a break, a handed-over customer carried past the limit."""
    mine = advisor_plans(night.worklist, policy).filter(pl.col("advisor_id") == "S1")
    extra = pl.concat([mine.head(1)] * 3).with_columns(
        pl.Series("plan_rank", [4, 5, 6], dtype=mine["plan_rank"].dtype),
        pl.Series("customer_name", ["上海浦东新区某某汽车租赁服务有限公司", "欧阳娜娜", "李"]),
        pl.Series("phone", ["+8616612340004", "+8619912340005", "+861065529988"]),
        pl.Series("reasons", ["VIN LSVAU2180N2183294 RO S01-RO000247/S01-RO000248/S01-RO000249 满意度 55 分",
                              "意向·A级，上次 2025-10-30 已试驾，约定 11-20 再联系", "生日"]),
        pl.Series("orphaned", [False, True, False]),
        pl.Series("carried_nights", [0, 4, 0], dtype=mine["carried_nights"].dtype),
        pl.Series("escalated", [False, True, False]),
    )
    msg = advisor_message(Recipient("S1", "张三", "s1@dealer.cn"), pl.concat([mine, extra]), night.workbooks["S1"],
                          AS_OF, "a@b.cn", waiting=7)
    path = tmp_path / "advisor.html"
    path.write_text(parse(msg.as_bytes()).get_body(("html",)).get_content(), encoding="utf-8")
    return path


def test_on_a_360_px_phone_one_card_per_customer_and_nothing_to_scroll_sideways(email_html, tmp_path):
    with chromium(tmp_path) as page:
        seen = view(page, email_html, 360, mobile=True)
        assert page.problems() == []
    assert seen["inner"] == 360  # the viewport meta: without it a phone lays the page out 980 px wide and shrinks it
    assert seen["scroll"] <= seen["inner"], f"{seen['scroll']} px wide on a {seen['inner']} px screen"
    assert seen["narrow"] == [], "text squeezed narrower than four of its characters"
    assert seen["font"] >= 16
    cards = seen["cards"]
    assert [c["href"] for c in cards] == ["tel:+8619459690635", "tel:+8616612348002", "tel:+8614512348003",
                                          "tel:+8616612340004", "tel:+8619912340005", "tel:+861065529988"]
    assert [c["text"] for c in cards][-1] == "010 6552 9988"
    assert all(c["first_line"] for c in cards)  # name and phone are the card's first line
    assert [c["same_line"] for c in cards] == [True, False, True, False, True, True]  # but for a long name


def test_at_1280_px_the_cards_stay_one_readable_column(email_html, tmp_path):
    with chromium(tmp_path) as page:
        seen = view(page, email_html, 1280, mobile=False)
    assert seen["inner"] == 1280 and seen["scroll"] <= 1280
    assert seen["narrow"] == []
    assert seen["widest"] <= 600  # a column of at most 600 px, not a line across the whole screen
    assert all(c["first_line"] and c["same_line"] for c in seen["cards"])


def test_the_measure_catches_the_former_table(tmp_path):
    """Six columns as the email had them, 原因 a long sentence: at 360 px 事项 wraps a character or two a line."""
    row = ("<tr><td>1</td><td style='white-space:nowrap'>立即处理</td><td style='white-space:nowrap'>谭俊杰</td>"
           "<td style='white-space:nowrap'><a href='tel:+8618860304554'>188 6030 4554</a></td><td>首次联系</td>"
           "<td>易车 12-07 14:05 留资，C级，想看 途岳，还没联系</td></tr>")
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    with chromium(tmp_path) as page:
        for head in (viewport, ""):
            control = tmp_path / f"table{len(head)}.html"
            control.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>'
                               f'<table style="font-size:13px">{row * 3}</table></body></html>', encoding="utf-8")
            seen = view(page, control, 360, mobile=True)
            if head:
                assert seen["inner"] == 360
                assert "首次联系" in [own for own, _, _ in seen["narrow"]]
            else:
                assert seen["inner"] == 980  # no viewport meta: laid out for a desktop, shrunk to the phone
