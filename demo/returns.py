"""The sample store's day for ``genjin demo --nights N``: what the advisors and the manager hand back.

``advisors_return(worklists, drop, day, seed)`` opens each advisor's workbook of the night (``OUT/<day>/worklists``)
and fills it in as advisors do on the day of the plan: most of them work the top of their list and a few rows
further down, reach some customers and not others (未接通), agree a next date (下次跟进时间) with some, book an
appointment (预约到店 with its date) with others, now and then type the date as ``11月28日``, leave a row's
跟进时间 empty (the file's save time then counts) — and leave the rest of the rows blank; one advisor in ten
returns nothing. ``manager_decides(reviews, drop, day, seed)`` does a manager's part of the review workbook: a
handed-over customer reassigned as proposed, a stale lead marked lost, one kept, a share of the rest decided the
way the proposal says, every other row left without a decision (cleared, should the workbook come pre-filled).

Both write into the next night's drop folder and return what they did. Cells are found by their header, never by
position. Everything comes from ``random.Random`` seeded by ``seed``, the day and the workbook's name."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from schemas.vocab import DECISION_LABELS
from transforms.labels import TASK_LABELS

LOCAL = ZoneInfo("Asia/Shanghai")
RETURNED_FILE = "跟进清单_{}.xlsx"  # names in the drop folder: a manager has a worklist and a review workbook
DECIDED_FILE = "待决定_{}.xlsx"
RETURN_SHARE = 0.9  # advisors who hand their workbook back on a given day
SAVED_AT = time(19, 30)  # when an advisor saves the filled-in workbook (its time for rows without 跟进时间)
LEAD_STAGES = ("线索", "意向", "谈判", "暂不考虑")
BY_LABEL = {label: task_type for task_type, label in TASK_LABELS.items()}

# (outcome, weight) by what the row is about: a lead, a complaint, a first maintenance, another owner call
OUTCOME_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    "lead": (("已接通", 45), ("未接通", 27), ("预约到店", 22), ("暂不考虑", 6)),
    "complaint": (("已接通", 85), ("未接通", 15)),
    "first_maintenance": (("预约到店", 50), ("已接通", 25), ("未接通", 25)),
    "owner": (("已接通", 60), ("未接通", 28), ("预约到店", 12)),
}
OWNER_REACHED = ("已回访，客户满意", "客户反馈车况良好", "提醒下次保养时间，客户知悉")
SUMMARIES: dict[str | tuple[str, str], tuple[str, ...]] = {  # by (kind, outcome), else by outcome
    "已接通": ("客户在对比竞品，约好再沟通", "客户关注配置和价格，已发资料", "客户说家里商量一下"),
    "未接通": ("电话无人接听", "关机", "占线，稍后再拨", "已发短信，未回复"),
    "预约到店": ("约好{}到店", "预约{}到店看车", "客户答应{}过来"),
    "暂不考虑": ("客户近期不考虑，两个月后再联系",),
    ("complaint", "已接通"): ("已致歉，安排返修，客户接受", "已减免工时费，客户表示理解"),
    ("owner", "已接通"): OWNER_REACHED,
    ("owner", "预约到店"): ("约好{}到店保养", "客户答应{}过来看看"),
    ("first_maintenance", "已接通"): OWNER_REACHED,
    ("first_maintenance", "预约到店"): ("预约{}到店做首保",),
}
PROMISE_SHARE = 0.45  # reached customers with whom the advisor agrees a next date
TEXT_DATE_SHARE = 0.2  # dates typed as text, 11月28日
NO_TIME_SHARE = 0.1  # filled rows whose 跟进时间 is left empty
DECIDE_SHARE = 0.25  # review rows decided beyond the first reassignment, lost and keep


@dataclass
class Returned:
    """One advisor's workbook handed back (``path`` None: not returned)."""

    advisor_id: str
    rows: int
    path: Path | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    promised: int = 0  # rows with a 下次跟进时间 (agreed next date or booked appointment)

    @property
    def filled(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class Decided:
    """One manager's review workbook handed back."""

    manager_id: str
    rows: int
    path: Path
    decisions: Counter[str] = field(default_factory=Counter)

    @property
    def decided(self) -> int:
        return sum(self.decisions.values())


def _rng(seed: int, day: date, name: str) -> random.Random:
    return random.Random(f"genjin:{seed}:day:{day.isoformat()}:{name}")


def _columns(ws: Worksheet) -> dict[str, int]:
    """Header text → column number (1-based) of the sheet's first row."""
    return {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}


def _text(ws: Worksheet, row: int, col: dict[str, int], header: str) -> str:
    """The cell under `header` as text ("" when it is empty or the layout has no such column)."""
    return str(ws.cell(row, col[header]).value or "") if header in col else ""


def _save(wb: Workbook, path: Path, saved_at: datetime) -> Path:
    """Save with the workbook's own `modified` property set to `saved_at` (local time), as Excel records a save:
    a row without 跟进时间 was contacted then (openpyxl's `save` would stamp the real clock)."""
    wb.properties.modified = saved_at.replace(tzinfo=LOCAL).astimezone(UTC).replace(tzinfo=None)
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    return path


def _kind(tasks: str, stage: str) -> str:
    types = [BY_LABEL.get(label, label) for label in tasks.split("、") if label]
    if "complaint" in types:
        return "complaint"
    if stage in LEAD_STAGES or {"first_contact", "followup"} & set(types):
        return "lead"
    return "first_maintenance" if "first_maintenance" in types else "owner"


def _pick(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]


def _next_date(rng: random.Random, day: date, outcome: str, kind: str) -> date | None:
    """The date agreed on the call: an appointment a few days ahead, a next call mostly within the week."""
    if outcome == "预约到店":
        return day + timedelta(days=rng.randint(2, 10 if kind == "first_maintenance" else 6))
    if outcome == "暂不考虑":
        return day + timedelta(days=60)
    if outcome == "已接通" and kind == "lead" and rng.random() < PROMISE_SHARE:
        return day + timedelta(days=rng.choice((1, 2, 3, 5, 7, 14)))
    return None


def _date_cell(rng: random.Random, when: date) -> Any:
    if rng.random() < TEXT_DATE_SHARE:
        return f"{when.month}月{when.day}日"  # as advisors type it; the reader gives it its year
    return datetime.combine(when, time(rng.choice((10, 14, 16))))


def _summary(rng: random.Random, outcome: str, kind: str, when: date | None) -> str:
    text = rng.choice(SUMMARIES.get((kind, outcome)) or SUMMARIES[outcome])
    return text.format(f"{when.month}月{when.day}日" if when else "")


def fill_worklist(path: Path, out: Path, day: date, rng: random.Random) -> Returned:
    """Fill in the workbook at `path` as its advisor does on `day`, save it to `out`."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    col = _columns(ws)
    rows = list(range(2, ws.max_row + 1))
    done = Returned(path.stem, len(rows), out)  # worklists/<advisor_id>.xlsx
    worked = round(len(rows) * rng.uniform(0.55, 0.9))  # the top of the list, and a few further down
    clock = datetime.combine(day, time(9, rng.randint(0, 30)))
    for i, row in enumerate(rows):
        if rng.random() > (0.92 if i < worked else 0.12):
            continue
        kind = _kind(_text(ws, row, col, "跟进事项"), _text(ws, row, col, "阶段"))
        outcome = _pick(rng, OUTCOME_WEIGHTS[kind])
        when = _next_date(rng, day, outcome, kind)
        clock += timedelta(minutes=rng.randint(4, 25))
        if rng.random() >= NO_TIME_SHARE:
            ws.cell(row, col["跟进时间"]).value = min(clock, datetime.combine(day, time(20, 50)))
        ws.cell(row, col["跟进方式"]).value = "微信" if rng.random() < 0.2 else "电话"
        ws.cell(row, col["跟进结果"]).value = outcome
        if when:
            ws.cell(row, col["下次跟进时间"]).value = _date_cell(rng, when)
            done.promised += 1
        ws.cell(row, col["沟通内容"]).value = _summary(rng, outcome, kind, when)
        done.outcomes[outcome] += 1
    _save(wb, out, datetime.combine(day, SAVED_AT))
    return done


def advisors_return(worklists: Path, drop: Path, day: date, seed: int) -> list[Returned]:
    """Each advisor's workbook of `day` (``OUT/<day>/worklists``) filled in and dropped into `drop`, or not
    returned at all (``path`` None)."""
    drop.mkdir(parents=True, exist_ok=True)
    returned = []
    for path in sorted(worklists.glob("*.xlsx")):
        rng = _rng(seed, day, path.stem)
        if rng.random() < RETURN_SHARE:
            returned.append(fill_worklist(path, drop / RETURNED_FILE.format(path.stem), day, rng))
        else:
            book = openpyxl.load_workbook(path, read_only=True)
            returned.append(Returned(path.stem, (book.worksheets[0].max_row or 1) - 1))
            book.close()
    return returned


def _proposed(ws: Worksheet, row: int, col: dict[str, int]) -> str:
    """What the row's pre-filled cells propose: reassign (a 改派给), lost (a 战败原因) or keep."""
    if _text(ws, row, col, "改派给"):
        return "reassign"
    return "lost" if _text(ws, row, col, "战败原因") else "keep"


def decide_review(path: Path, out: Path, day: date, rng: random.Random) -> Decided:
    """The manager's part of the review workbook at `path` on `day`, saved to `out`: the first reassignment
    (a handed-over customer's if there is one), the first lost and the first keep of a seeded order, and a share
    of the rest, each as proposed (a lost one kept now and then); every other 决定 left empty."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    col = _columns(ws)
    rows = list(range(2, ws.max_row + 1))
    rng.shuffle(rows)
    rows.sort(key=lambda r: _text(ws, r, col, "类别") != "转交客户")  # stable: handed-over ones first
    proposals = {row: _proposed(ws, row, col) for row in rows}
    first = {kind: next((r for r in rows if proposals[r] == kind), None) for kind in ("reassign", "lost", "keep")}
    chosen = {r for r in first.values() if r is not None}
    done = Decided(path.stem, len(rows), out)  # reviews/<manager_id>.xlsx
    for row in sorted(rows):
        cell = ws.cell(row, col["决定"])
        if row not in chosen and rng.random() >= DECIDE_SHARE:
            cell.value = None  # undecided (a pre-filled proposal too)
            continue
        decision = proposals[row]
        if decision == "lost" and row != first["lost"] and rng.random() < 0.15:
            decision = "keep"
        cell.value = DECISION_LABELS[decision]
        done.decisions[decision] += 1
    _save(wb, out, datetime.combine(day, time(17, 45)))
    return done


def manager_decides(reviews: Path, drop: Path, day: date, seed: int) -> list[Decided]:
    """Each manager's review workbook of `day` (``OUT/<day>/reviews``) partly decided and dropped into `drop`."""
    drop.mkdir(parents=True, exist_ok=True)
    return [decide_review(path, drop / DECIDED_FILE.format(path.stem), day, _rng(seed, day, "review:" + path.stem))
            for path in sorted(reviews.glob("*.xlsx"))]


def day_lines(day: date, returned: list[Returned], decided: list[Decided]) -> list[str]:
    """What the sample people did on `day`, in Chinese, for the terminal."""
    back = [r for r in returned if r.path]
    outcomes = Counter[str]()
    for r in back:
        outcomes.update(r.outcomes)
    filled = sum(r.filled for r in back)
    blank = sum(r.rows for r in back) - filled
    kinds = "、".join(f"{o} {n}" for o, n in outcomes.most_common())
    lines = [f"{day:%m-%d} 白天：{len(back)} 位顾问交回工作簿，填写 {filled} 行（{kinds}；"
             f"约定下次跟进或预约到店 {sum(r.promised for r in back)} 位），留空 {blank} 行"]
    missing = sum(1 for r in returned if not r.path and r.rows > 0)
    if missing:
        lines[0] += f"；{missing} 位没交回"
    decisions = Counter[str]()
    for d in decided:
        decisions.update(d.decisions)
    if decided:
        made = "、".join(f"{DECISION_LABELS[k]} {decisions[k]}" for k in DECISION_LABELS if decisions[k])
        undecided = sum(d.rows for d in decided) - sum(d.decided for d in decided)
        lines.append(f"  经理在 {len(decided)} 张待决定表中决定 {sum(d.decided for d in decided)} 条"
                     f"（{made or '无'}），{undecided} 条留空")
    return lines
