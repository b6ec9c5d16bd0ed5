"""`genjin demo --nights N`: the sample drop folder, then N nights in a row from --as-of. Between two nights the
sample advisors hand back their workbooks and the sample managers part of their review workbooks
(demo/returns.py), dropped into the drop folder as ops would; each night's outputs stay under OUT/<date>/, and
the terminal says what changed from the night before (genjin/commands/night_changes.py)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from adapters.folders import Folders
from demo.returns import advisors_return, day_lines, manager_decides
from demo.sample_data import generate
from flows import progress
from genjin.commands.night_changes import NightCounts, NightOutputs, change_lines, counts, night_changes, read_night
from genjin.commands.run import run_night

MAX_NIGHTS = 31


def play(root: Path, first: date, nights: int, seed: int, size: int) -> int:
    if not 1 <= nights <= MAX_NIGHTS:
        print(f"--nights 应在 1 到 {MAX_NIGHTS} 之间 / --nights must be 1 to {MAX_NIGHTS}", file=sys.stderr)
        return 2
    drop = root / "drop"
    folders = Folders.beside(drop, root / "out")
    if folders.history.exists():  # a second week over the first would load its workbooks again
        print(f"{root} 里已有一次试跑，请换一个 --dir 或先删除它 / {root} already holds a demo run: "
              "use another --dir or remove it first", file=sys.stderr)
        return 2
    written = generate(drop, as_of=first, seed=seed, size=size)
    print(f"genjin demo: {len(written)} sample files written to {drop.resolve()}; {nights} nights from {first}")
    week: list[tuple[date, NightCounts, tuple[int, int] | None]] = []
    last: NightOutputs | None = None
    for k in range(nights):
        day = first + timedelta(days=k)
        print(f"\n━━ 第 {k + 1} 晚 / night {k + 1} · {day} ━━")
        if last is not None:
            yesterday = folders.out / (day - timedelta(days=1)).isoformat()
            returned = advisors_return(yesterday / "worklists", drop, day - timedelta(days=1), seed)
            decided = manager_decides(yesterday / "reviews", drop, day - timedelta(days=1), seed)
            for line in day_lines(day - timedelta(days=1), returned, decided):
                print(line)
        code = run_night(folders, day, None, settle_seconds=0, summary=k == 0)
        if code:
            return code
        tonight = read_night(folders.out / day.isoformat())
        moved = None
        if last is not None:
            changes = night_changes(last, tonight)
            print("与昨晚相比 / since last night:")
            for line in change_lines(changes):
                print(f"  {line}")
            moved = (changes.new, changes.done)
        week.append((day, counts(tonight), moved))
        last = tonight
    _print_week(week, folders)
    return 0


def _print_week(week: list[tuple[date, NightCounts, tuple[int, int] | None]], folders: Folders) -> None:
    print("\n一周回顾 / the week")
    headers = ("日期", "回收工作簿", "跟进载入", "经理决定", "今日计划", "任务", "新增", "完成或移出", "逾期",
               "交经理决定")
    rows = [(f"{day:%m-%d}", *(("-", "-", "-") if moved is None else (c.workbooks, c.followups, c.decisions)),
             c.planned, c.tasks, *(moved or ("-", "-")), c.overdue, c.stale) for day, c, moved in week]
    for line in progress.table(headers, rows, right=tuple(range(1, len(headers)))):
        print(f"  {line}")
    print(f"\n每晚的输出 / each night's outputs: {folders.out.resolve()}/<日期>/")
    if len(week) > 1:
        second = week[1][0].isoformat()
        print(f"  第 1 天顾问填好交回的工作簿 / day 1's workbooks as handed back: "
              f"{folders.archive.resolve() / second}/跟进清单_*.xlsx, 待决定_*.xlsx")
        print(f"  第 2 晚顾问的工作簿 / night 2's advisor workbooks: {folders.out.resolve() / second / 'worklists'}")
        print(f"  第 2 晚经理的待决定表 / night 2's review workbooks: {folders.out.resolve() / second / 'reviews'}")
