"""report.html and kpis.json: written beside each other, self-contained, escaped, in Chinese or English, with
the policy's targets drawn and the earlier nights' kpis.json read back for the trends."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

from reports import charts
from reports.charts import Target
from reports.html_report import TARGET_CHART_STORES, fmt, money, target_panel, write_kpi_outputs
from reports.kpi_json import read_earlier_kpis, write_kpis_json
from tests.conftest import AS_OF, fu, lead, make_inputs, ro, sale
from transforms.frames import latest_per_key
from transforms.kpis import KPIS, compute_kpis
from transforms.worklist import build_worklist

EVIL = "<script>alert('x')</script>"

INPUTS = make_inputs(
    leads=[
        lead("L1", "2026-11-20 10:00", "13800000001", grade="B", status="意向", source="汽车之家"),
        lead("L2", "2026-11-10 09:00", "13800000002", grade="S", source=EVIL),
        lead("L3", "2026-11-05 09:00", "13800000003", status="战败", lost_reason="价格$太贵$ " + EVIL),
    ],
    followups=[fu("2026-11-21 09:00", "L1"), fu("2026-11-11 09:00", "L2")],
    sales=[
        sale("O2", "2026-11-15", "13800000002", lead_id="L2", referrer_phone="13900000001"),
        sale("O9", "2025-01-01", "13800000011", delivered_at="2025-01-10", store=EVIL),
    ],
    service=[
        ro("R1", "2026-11-10 09:00", "13800000011", amount="1680", csat="95", store=EVIL),
        ro("R2", "2026-11-12 09:00", "13800000012", amount="1680", csat="4"),
    ],
)
FILES = [{"name": EVIL + ".xlsx", "kind": "leads", "rows_in": 3, "rows_loaded": 2, "rows_rejected": 1,
          "status": "loaded"}]


def write(policy, run_dir: Path, inputs=INPUTS, as_of=AS_OF, **kw):
    run_dir.mkdir(parents=True, exist_ok=True)
    worklist = build_worklist(inputs, policy, as_of)
    kpis, roster = compute_kpis(inputs, policy, as_of, worklist), latest_per_key(inputs).advisors.collect()
    return write_kpi_outputs(kpis, roster, worklist, policy, as_of, run_dir, FILES, **kw)


@pytest.fixture(scope="module")
def written(tmp_path_factory, policy):
    out = write(policy, tmp_path_factory.mktemp("out") / "2026-11-23")
    return out, out.report.read_text(encoding="utf-8")


def images(html: str) -> dict[str, str]:
    """chart key → its SVG text, decoded from the data: URI."""
    found = re.findall(r'id="chart-(\w+)">\s*<figcaption>.*?</figcaption>\s*'
                       r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html, re.S)
    return {key: base64.b64decode(data).decode("utf-8") for key, data in found}


def test_report_and_kpis_json_side_by_side(written):
    out, _ = written
    assert out.report.name == "report.html" and out.kpis_json == out.report.parent / "kpis.json"
    data = json.loads(out.kpis_json.read_text(encoding="utf-8"))
    assert data["as_of"] == "2026-11-23"
    # cohort L1 (intent), L2 (won), L3 (lost): 2/3 reached intent; L1 met its SLA, L2 did not, L3 missed
    assert data["mtd"]["group"]["lead_to_intent"] == pytest.approx(2 / 3)
    assert data["mtd"]["group"]["first_response_sla"] == pytest.approx(1 / 3)
    assert data["mtd"]["group"]["rfm"]["lost"] == 0
    assert EVIL in data["mtd"]["store"]  # data in JSON stays as typed


def test_customer_data_is_escaped(written):
    _, html = written
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_nothing_is_loaded_from_the_network(written):
    _, html = written
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">") in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "url(" not in html and "@import" not in html and "<link" not in html


def test_every_chart_is_inline_svg(written):
    _, html = written
    svgs = images(html)
    assert set(svgs) == {"funnel", "sla_by_advisor", "targets_by_store", "deal_cycle", "lost_reasons", "rfm",
                         "trends"}
    for svg in svgs.values():
        ElementTree.fromstring(svg.split("\n", 3)[-1] if svg.startswith("<?xml") else svg)  # well-formed
        assert "<script" not in svg and "href=\"http" not in svg


def test_targets_are_drawn_as_red_dashed_lines(written):
    _, html = written
    svgs = images(html)
    for key in ("targets_by_store", "trends"):
        dashed_red = r"stroke-dasharray[^;]*;[^\"]*stroke: ?#c00000|stroke: ?#c00000[^\"]*stroke-dasharray"
        assert re.search(dashed_red, svgs[key]), key


def test_footnote_for_every_kpi_and_chinese_by_default(written, policy):
    _, html = written
    assert '<html lang="zh-CN">' in html
    for key, entry in KPIS.items():
        assert f'id="def-{key}"' in html
        assert entry.label("zh") in html
    assert "本月至今" in html and "近30天" in html
    # the input files table in the manager's words: 线索 · 已载入, not leads · loaded
    assert '<td class="name">线索</td>' in html and '<td class="name">已载入</td>' in html
    assert ">loaded<" not in html and ">leads<" not in html
    # definitions without codes or the spec's section numbers: 高价值 → 潜力 → 一般 → 流失, not high_value → …
    assert "依次判断 高价值 → 潜力 → 一般 → 流失，先符合者为准" in html
    assert "<code>" not in html and "high_value" not in html and "SPEC" not in html


def test_english_by_setting(tmp_path, policy):
    out = write(policy.model_copy(update={"report_language": "en"}), tmp_path / "2026-11-23")
    html = out.report.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "Lead → intent" in html and "Month to date" in html and "线索→意向转化率" not in html
    assert '<td class="name">leads</td>' in html and '<td class="name">loaded</td>' in html
    assert "(<code>lead_to_intent</code>)" in html and "high_value → potential → regular → lost" in html


@pytest.mark.parametrize(
    ("key", "value", "zh", "en"),
    [
        ("lead_to_intent", 0.5, "50.0%", "50.0%"),
        ("lead_to_intent", None, "—", "—"),
        ("deal_cycle_median_days", 5.5, "5.5 天", "5.5 days"),
        ("csat_mean", 83.25, "83.2", "83.2"),
        ("overdue_backlog", 1234, "1,234", "1,234"),
    ],
)
def test_numbers_as_managers_read_them(key, value, zh, en):
    assert fmt(KPIS[key], value, "zh") == zh
    assert fmt(KPIS[key], value, "en") == en


def test_money_in_wan_yuan(written):
    assert money(1680, "zh") == "0.17 万元"
    assert money(2_350_000, "zh") == "235.00 万元"
    assert money(1680, "en") == "CNY 1,680"
    _, html = written
    assert "0.17 万元" in html  # the store's average ticket: (1680 + 1680) / 2


def test_trends_read_earlier_nights_from_sibling_folders(tmp_path, policy):
    out_dir = tmp_path / "out"
    write(policy, out_dir / "2026-11-21", as_of=date(2026, 11, 21))
    write(policy, out_dir / "2026-11-25", as_of=date(2026, 11, 25))  # a later night: not part of D's trend
    (out_dir / "notes").mkdir()
    (out_dir / "2026-11-22").mkdir()
    (out_dir / "2026-11-22" / "kpis.json").write_text("{not json", encoding="utf-8")
    earlier = read_earlier_kpis(out_dir, AS_OF)
    assert [night["as_of"] for night in earlier] == ["2026-11-21"]

    html = write(policy, out_dir / "2026-11-23").report.read_text(encoding="utf-8")
    alt = re.search(r'id="chart-trends">.*?alt="([^"]*)"', html, re.S).group(1)
    assert alt.startswith("2026-11-21 – 2026-11-23")


def test_the_same_night_gives_the_same_report(tmp_path, policy):
    first = write(policy, tmp_path / "a" / "2026-11-23", earlier_kpis=[]).report.read_bytes()
    second = write(policy, tmp_path / "b" / "2026-11-23", earlier_kpis=[]).report.read_bytes()
    assert first == second


def test_store_reports_drawn_in_processes_are_those_drawn_here(tmp_path, policy):
    """Each store's report, drawn in two worker processes, is byte for byte the one drawn in this process."""
    here = write(policy, tmp_path / "a" / "2026-11-23", earlier_kpis=[], workers=1)
    there = write(policy, tmp_path / "b" / "2026-11-23", earlier_kpis=[], workers=2)
    stores = sorted(p.name for p in (here.report.parent / "reports").iterdir())
    assert len(stores) >= 2
    assert sorted(p.name for p in (there.report.parent / "reports").iterdir()) == stores
    for name in stores:
        assert (there.report.parent / "reports" / name).read_bytes() == \
            (here.report.parent / "reports" / name).read_bytes()


def test_kpis_json_never_holds_nan(tmp_path):
    path = write_kpis_json({"as_of": "2026-11-23", "mtd": {"group": {"csat_mean": float("nan")}}},
                           tmp_path / "kpis.json")
    assert json.loads(path.read_text(encoding="utf-8"))["mtd"]["group"]["csat_mean"] is None


def test_empty_night_still_renders(tmp_path, policy, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)  # chart text stays text, so it can be read here
    out = write(policy, tmp_path / "2026-11-23", inputs=make_inputs())
    svgs = images(out.report.read_text(encoding="utf-8"))
    assert len(svgs) == 7
    assert "无数据" in svgs["funnel"] and "无数据" in svgs["lost_reasons"]


EMPTY_REPORT = """
import sys
from pathlib import Path
from policy.model import load_policy
from reports.html_report import write_kpi_outputs
from tests.conftest import AS_OF, make_inputs
from transforms.frames import latest_per_key
from transforms.kpis import compute_kpis
from transforms.worklist import build_worklist
inputs, policy, run_dir = make_inputs(), load_policy(), Path(sys.argv[1])
run_dir.mkdir(parents=True)
worklist = build_worklist(inputs, policy, AS_OF)
kpis, roster = compute_kpis(inputs, policy, AS_OF, worklist), latest_per_key(inputs).advisors.collect()
write_kpi_outputs(kpis, roster, worklist, policy, AS_OF, run_dir, [], earlier_kpis=[])
print("matplotlib" in sys.modules)
"""


def test_an_empty_nights_report_is_written_without_matplotlib(tmp_path):
    """A night with nothing to chart (issue #17's empty night) writes its "no data" charts by hand: matplotlib,
    a third of what `genjin run` would import, is not imported at all."""
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", EMPTY_REPORT, str(tmp_path / "2026-11-23")], cwd=root,
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
    svgs = images((tmp_path / "2026-11-23" / "report.html").read_text(encoding="utf-8"))
    assert len(svgs) == 7
    for svg in svgs.values():
        text = ElementTree.fromstring(svg).find("{http://www.w3.org/2000/svg}text")
        assert text is not None and text.text == "无数据"


def test_a_chart_with_data_is_still_drawn_by_matplotlib():
    chart = charts.count_bars("x", [("汽车之家", 3), ("懂车帝", 0)], "标题", "无数据", None)
    assert "matplotlib" in chart.svg.lower() and "无数据" not in chart.svg


def test_chinese_text_without_a_cjk_font_is_left_to_the_reader(recwarn):
    chart = charts.count_bars("x", [("汽车之家", 3), ("价格$太贵$", 2)], "标题", "无数据", None)
    assert "汽车之家" in chart.svg and "价格$太贵$" in chart.svg  # as text: the reader's fonts draw it
    assert "Noto Sans CJK SC" in chart.svg
    assert not [w for w in recwarn if "Glyph" in str(w.message)]


@pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (fonts-wqy-zenhei in .ci/run)")
def test_chinese_text_with_a_cjk_font_is_drawn_as_paths(recwarn):
    chart = charts.count_bars("x", [("汽车之家", 3)], "标题", "无数据", charts.cjk_font())
    assert "<text" not in chart.svg  # glyphs as paths: the chart looks the same without the font
    assert re.search(r'<path id="[A-Za-z]+-[0-9a-f]+" d=', chart.svg)
    assert not [w for w in recwarn if "Glyph" in str(w.message)]


def test_worklist_columns_the_report_reads(policy):
    # the report's task table reads these worklist columns; keep them in the worklist
    worklist = build_worklist(INPUTS, policy, AS_OF)
    needed = {"task_type", "days_overdue", "priority", "store", "advisor_id", "lead_id"}
    assert needed <= set(worklist.columns)
    assert worklist.schema["days_overdue"] in (pl.Int64, pl.Int32)


def test_the_store_chart_shows_the_worst_stores_of_a_large_group():
    entry, goal = KPIS["churn_1y"], Target(0.25, "目标 ≤ 25%", higher_is_better=False)
    few = {"浦东店": 0.2, "静安店": None, "徐汇店": 0.3}
    panel = target_panel(entry, goal, few, "zh")
    assert (list(panel.labels), list(panel.values)) == (["浦东店", "静安店", "徐汇店"], [0.2, None, 0.3])  # as is
    many = {f"S{n:02d}": n / 100 for n in range(TARGET_CHART_STORES + 2)} | {"S99": None, "SXX": 0.21}
    panel = target_panel(entry, goal, many, "zh")
    # churn: lower is better, so the worst are the highest: S21 (0.21) and SXX (0.21, by name after) first
    assert list(panel.labels)[:3] == ["S21", "SXX", "S20"] and len(panel.labels) == TARGET_CHART_STORES
    assert list(panel.values)[-1] == 0.03 and None not in panel.values
    retention = target_panel(KPIS["retention_1y"], Target(0.75, "目标 ≥ 75%"), many, "zh")
    assert list(retention.labels)[:2] == ["S00", "S01"]  # higher is better: the lowest first
