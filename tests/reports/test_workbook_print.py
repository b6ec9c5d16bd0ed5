"""The advisor's workbook printed, as a working sheet: a full day's plan (40 customers, the default capacity) is
printed through LibreOffice to PDF and measured with pdfplumber — the text at least 10 pt, rows tall enough to
write an outcome in by hand, the columns written in wide enough, every page one A4 landscape page wide with the
header row on it. LibreOffice sizes the columns with Carlito, the font metric-compatible with Calibri that Excel
and WPS print with; without it (`fonts-crosextra-carlito`) the measure would be another font's."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta

import pdfplumber
import polars as pl
import pytest

from reports.workbook import write_advisor_workbook

AS_OF = date(2026, 11, 23)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
MM = 72 / 25.4  # points in a millimetre
A4_LANDSCAPE = (841.9, 595.3)


def _calibri_is_carlito() -> bool:
    found = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True, check=False)
    return "Carlito" in found.stdout


if SOFFICE is None or shutil.which("fc-match") is None or not _calibri_is_carlito():
    if os.environ.get("CI"):
        pytest.fail("LibreOffice and Carlito are missing: .ci/run installs them", pytrace=False)
    pytest.skip("needs LibreOffice (libreoffice-calc-nogui) and Carlito (fonts-crosextra-carlito)",
                allow_module_level=True)

REASONS = [  # whys as transforms write them: one line, two lines, several tasks
    "谈判·S级，上次 11-20 已到店，约定 11-22 再联系",
    "意向·A级，上次 11-18 已试驾",
    "【首保提醒】途观L 2025-07-11 交车，还没做首保\n【关怀回访】2025-07-11 交车，还没进过厂",
    "易车 11-22 14:05 留资，C级，想看 途岳，还没联系",
    "2025-10-30 进厂（工单 S01-RO000247）满意度 55 分：维修后异响未解决，需要返修",
]
URGENCY = [("立即处理", "#F8CBAD"), ("即将错过", "#FFE699"), ("尽快跟进", "#DDEBF7"), ("常规跟进", None)]
PREFIXES = ["145", "147", "166", "167", "194", "199", "138"]


def a_days_plan(n: int = 40) -> pl.DataFrame:
    rows = []
    for i in range(n):
        label, colour = URGENCY[min(i // 10, 3)]
        reason = REASONS[i % len(REASONS)]
        rows.append({
            "advisor_id": "S1", "customer_id": f"C{i:03d}", "store": "浦东店",
            "customer_name": ["陈先生", "欧阳娜娜", "李女士", "上海某某汽车服务有限公司"][i % 4],
            "phone": f"+86{PREFIXES[i % len(PREFIXES)]}{i:08d}", "priority": 5,
            "due_date": AS_OF - timedelta(days=i % 13), "days_overdue": i % 13, "grade": "S", "stage": "negotiating",
            "tasks": "首保提醒、关怀回访" if "\n" in reason else "意向跟进", "reasons": reason, "lead_id": f"L{i}",
            "orphaned": False, "n_tasks": 1 + reason.count("\n"), "plan_rank": i + 1, "urgency": "x",
            "urgency_label": label, "urgency_colour": colour, "carried_nights": 0, "escalated": False,
            "waiting": 3, "stale": 0,
        })
    return pl.DataFrame(rows, schema_overrides={"due_date": pl.Date})


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[pdfplumber.page.Page]]:
    folder = tmp_path_factory.mktemp("print")
    book = write_advisor_workbook(a_days_plan(), AS_OF, folder / "S1.xlsx", {"followup": "按阶段推进。"})
    profile = (folder / "lo-profile").as_uri()
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={profile}", "--convert-to", "pdf", "--outdir",
                    str(folder), str(book)], check=True, capture_output=True, timeout=180)
    with pdfplumber.open(folder / "S1.pdf") as pdf:
        pages = [page for page in pdf.pages if "沟通内容" in (page.extract_text() or "")]  # the plan, not the 话术
        assert pages
        yield pages


def grid(page: pdfplumber.page.Page) -> tuple[list[float], list[float]]:
    """The x of the table's vertical rules and the y of its horizontal ones (LibreOffice draws cell borders as
    lines)."""
    xs = sorted({round(line["x0"], 1) for line in page.lines if abs(line["x0"] - line["x1"]) < 0.5})
    ys = sorted({round(line["top"], 1) for line in page.lines if abs(line["top"] - line["bottom"]) < 0.5})
    return xs, ys


def test_every_page_is_a4_landscape_one_page_wide_with_the_header_row(printed: list) -> None:
    assert len(printed) >= 3  # 40 customers with room to write are not squeezed onto one page
    for page in printed:
        assert (round(page.width, 1), round(page.height, 1)) == A4_LANDSCAPE
        text = page.extract_text()
        assert all(h in text for h in ("序号", "客户姓名", "手机号", "原因", "跟进结果", "沟通内容"))
        xs, _ = grid(page)
        assert len(xs) == 13  # the twelve printed columns, all on this page
        assert xs[0] >= 0 and xs[-1] <= page.width


def test_the_text_prints_at_10_pt_at_least(printed: list) -> None:
    sizes = [char["size"] for page in printed for char in page.chars]
    assert min(sizes) >= 9.95, f"smallest text {min(sizes):.1f} pt"
    assert "194 0000 0004" in printed[0].extract_text()  # a 19x mobile, 3-4-4, on paper


def test_rows_leave_room_to_write_by_hand(printed: list) -> None:
    for page in printed:
        _, ys = grid(page)
        heights = [(b - a) / MM for a, b in itertools.pairwise(ys[1:])]  # below the header row
        assert heights and min(heights) >= 9, f"rows of {min(heights):.1f} mm"


def test_the_columns_written_in_are_wide_enough(printed: list) -> None:
    xs, _ = grid(printed[0])
    widths = [(b - a) / MM for a, b in itertools.pairwise(xs)]
    written = dict(zip(("跟进时间", "跟进方式", "跟进结果", "下次跟进时间", "沟通内容"), widths[7:12], strict=True))
    least = {"跟进时间": 22, "跟进方式": 14, "跟进结果": 16, "下次跟进时间": 22, "沟通内容": 40}  # mm
    assert {k: round(v) for k, v in written.items() if v < least[k]} == {}
