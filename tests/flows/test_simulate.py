"""`genjin simulate` (issue #19): a few nights of a hand-built history replayed under two small policies, each
difference worked out by hand below; nothing outside OUT/simulate/ touched; a bad policy refused first."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from adapters.history import History
from adapters.ingest import load_new_file
from flows.simulate import replay
from genjin.cli import main
from policy.model import DEFAULT_POLICY, load_policy
from tests.spreadsheets import write_openpyxl
from transforms.replay import Replay
from transforms.worklist import build_worklist

NIGHTS = [date(2026, 11, d) for d in (20, 21, 22, 23)]
FIRST, LAST = NIGHTS[0], NIGHTS[-1]
ROSTER = [["顾问编号", "姓名", "门店", "岗位", "在职"], ["M1", "王经理", "浦东店", "经理", "是"],
          ["S1", "张三", "浦东店", "销售顾问", "是"]]
LEAD_HEAD = ["线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户级别"]
FU_HEAD = ["线索编号", "销售顾问工号", "跟进时间", "跟进结果"]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    return write_openpyxl(path, {"Sheet1": rows})


def _night(history: History, as_of: date, *paths: Path) -> None:
    """What a night of `genjin run` stores: each file's rows and its ledger row, on that night."""
    for order, path in enumerate(paths):
        load = load_new_file(path, lambda d: history.loaded_before(d, as_of))
        assert load.status == "loaded" and load.rows_rejected == 0, (path, load.status)
        history.record(load, as_of, order)


def _policy(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


C_EVERY_5_DAYS = ("grade_interval_days = { S = 1, A = 3, B = 3, C = 7, D = 7 }",
                  "grade_interval_days = { S = 1, A = 3, B = 3, C = 5, D = 7 }")


def _run(history: History, proposed: Path) -> Replay:
    return replay(history, load_policy(), load_policy(proposed), FIRST, LAST, {"current": "默认", "proposed": "拟用"})


def _per_night(result: Replay, key: str, policy: str, dimension: str = "group", member: str = "all") -> list:
    rows = result.measures.filter((pl.col("key") == key) & (pl.col("policy") == policy)
                                  & (pl.col("dimension") == dimension) & (pl.col("member") == member))
    return rows.sort("night")["value"].to_list()


def _summary(result: Replay, key: str, policy: str) -> float | None:
    row = result.summary.filter((pl.col("key") == key) & (pl.col("policy") == policy)
                                & (pl.col("dimension") == "group"))
    return row["per_night"].item()


@pytest.fixture
def interval_history(tmp_path: Path) -> History:
    """Two C leads of S1 at 浦东店 (stage 线索: the shorter of C's 7 days and 线索's 7 days).
    L1 last touched 11-13: due 11-20 under C = 7 days, 11-18 under C = 5; touched again on 11-20 (that file
    loaded on night 11-21). L2 last touched 11-16: due 11-23 under 7 days, 11-21 under 5; a touch dated 11-19
    is only loaded on night 11-23 (entered late): before that night the history did not know it."""
    history = History(tmp_path / "history")
    _night(history, date(2026, 11, 19),
           _xlsx(tmp_path / "roster.xlsx", ROSTER),
           _xlsx(tmp_path / "leads.xlsx", [LEAD_HEAD, ["L1", "2026-11-10 10:00", "陈先生", "13800138001", "浦东店",
                                                       "S1", "C"],
                                           ["L2", "2026-11-10 11:00", "林女士", "13800138002", "浦东店", "S1", "C"]]),
           _xlsx(tmp_path / "fu1.xlsx", [FU_HEAD, ["L1", "S1", "2026-11-13 10:00", "已接通"],
                                         ["L2", "S1", "2026-11-16 10:00", "已接通"]]))
    _night(history, date(2026, 11, 21), _xlsx(tmp_path / "fu2.xlsx", [FU_HEAD, ["L1", "S1", "2026-11-20 15:00",
                                                                                  "已接通"]]))
    _night(history, date(2026, 11, 23), _xlsx(tmp_path / "fu3.xlsx", [FU_HEAD, ["L2", "S1", "2026-11-19 16:00",
                                                                                  "已接通"]]))
    return history


def test_a_shorter_interval_for_one_grade_counted_by_hand(interval_history: History, tmp_path: Path) -> None:
    result = _run(interval_history, _policy(tmp_path, "c5.toml", C_EVERY_5_DAYS))
    # current (C = 7): 11-20 L1 falls due, touched that day → gone on 11-21 (on time); L2 would fall due on 11-23
    # but the late touch of 11-19, loaded that night, moves it to 11-26
    assert _per_night(result, "tasks", "current") == [1, 0, 0, 0]
    assert _per_night(result, "overdue", "current") == [0, 0, 0, 0]
    assert _per_night(result, "due", "current") == [1, 0, 0, 0]
    assert _per_night(result, "on_time", "current") == [1, 0, 0, None]  # the last night has no next night
    # proposed (C = 5): 11-20 L1 two days overdue; L2 falls due 11-21, still listed 11-22 (not on time), and on
    # 11-23 the late touch of 11-19 moves it to 11-24
    assert _per_night(result, "tasks", "proposed") == [1, 1, 1, 0]
    assert _per_night(result, "overdue", "proposed") == [1, 0, 1, 0]
    assert _per_night(result, "due", "proposed") == [0, 1, 0, 0]
    assert _per_night(result, "on_time", "proposed") == [0, 0, 0, None]
    assert _per_night(result, "type:followup", "proposed", "advisor", "S1") == [1, 1, 1, 0]
    assert _per_night(result, "planned", "proposed", "store", "浦东店") == [1, 1, 1, 0]
    assert _summary(result, "tasks", "current") == pytest.approx(0.25)
    assert _summary(result, "tasks", "proposed") == pytest.approx(0.75)
    assert _summary(result, "on_time_rate", "current") == 1.0
    assert _summary(result, "on_time_rate", "proposed") == 0.0
    assert result.changes == [("tasks.followup.grade_interval_days.C", 7, 5)]


def test_each_replayed_night_is_the_nights_own_worklist(interval_history: History) -> None:
    """The replay's night is what `genjin run --as-of` builds from the history as it stood (one implementation)."""
    policy = load_policy()
    result = replay(interval_history, policy, policy, FIRST, LAST, {"current": "a", "proposed": "a"})
    backfilled = [float(build_worklist(interval_history.inputs(night), policy, night).height) for night in NIGHTS]
    assert _per_night(result, "tasks", "current") == backfilled == _per_night(result, "tasks", "proposed")
    assert result.changes == []


@pytest.fixture
def busy_history(tmp_path: Path) -> History:
    """Three C leads of S1 (three customers), last touched 11-01: follow-ups due 11-08, 12 to 15 days overdue
    on the nights replayed, never touched again."""
    history = History(tmp_path / "history")
    leads = [[f"L{n}", "2026-10-20 10:00", f"客户{n}", f"1380013800{n}", "浦东店", "S1", "C"] for n in (1, 2, 3)]
    touches = [[f"L{n}", "S1", "2026-11-01 10:00", "已接通"] for n in (1, 2, 3)]
    _night(history, date(2026, 11, 19), _xlsx(tmp_path / "roster.xlsx", ROSTER),
           _xlsx(tmp_path / "leads.xlsx", [LEAD_HEAD, *leads]), _xlsx(tmp_path / "fu.xlsx", [FU_HEAD, *touches]))
    return history


def test_a_smaller_capacity_carries_customers_counted_by_hand(busy_history: History, tmp_path: Path) -> None:
    proposed = _policy(tmp_path, "cap1.toml", ("default_capacity = { sales = 40,", "default_capacity = { sales = 1,"))
    result = _run(busy_history, proposed)
    assert _per_night(result, "tasks", "current") == _per_night(result, "tasks", "proposed") == [3, 3, 3, 3]
    assert _per_night(result, "planned", "current") == [3, 3, 3, 3]  # 40 a day: everyone
    assert _per_night(result, "carried", "current") == [0, 0, 0, 0]
    assert _per_night(result, "planned", "proposed", "advisor", "S1") == [1, 1, 1, 1]  # one a day
    assert _per_night(result, "carried", "proposed") == [2, 2, 2, 2]
    assert _per_night(result, "stale", "proposed") == [0, 0, 0, 0]  # 12–15 days overdue: within 30
    assert result.changes == [("plan.default_capacity.sales", 40, 1)]


def test_a_stricter_stale_limit_sends_the_work_to_the_manager(busy_history: History, tmp_path: Path) -> None:
    proposed = _policy(tmp_path, "stale.toml", ("followup = 30 ", "followup = 13 "))
    result = _run(busy_history, proposed)
    # overdue 12, 13, 14, 15 days on the four nights: stale once more than 13
    assert _per_night(result, "stale", "current") == [0, 0, 0, 0]
    assert _per_night(result, "stale", "proposed") == [0, 0, 3, 3]
    assert _per_night(result, "planned", "proposed") == [3, 3, 0, 0]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def test_simulate_writes_only_its_own_folder(interval_history: History, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = interval_history.root.parent  # history/ beside drop/, as `genjin run` lays it out
    (root / "drop").mkdir()
    _xlsx(root / "drop" / "tomorrow.xlsx", ROSTER)  # waiting for the next night: must stay where it is
    (root / "archive" / "2026-11-23").mkdir(parents=True)
    (root / "archive" / "2026-11-23" / "fu3.xlsx").write_bytes((tmp_path / "fu3.xlsx").read_bytes())
    (root / "out" / "2026-11-23" / "outbox").mkdir(parents=True)
    (root / "out" / "2026-11-23" / "outbox" / "S1.eml").write_text("邮件", encoding="utf-8")
    proposed = _policy(tmp_path, "c5.toml", C_EVERY_5_DAYS)
    before = _tree(root)

    code = main(["simulate", "--drop", str(root / "drop"), "--out", str(root / "out"), "--policy", str(proposed),
                 "--from", "2026-11-20"])

    assert code == 0, capsys.readouterr().err
    after = _tree(root)
    made = {k for k in after if k.startswith("out/simulate")}
    assert {k: v for k, v in after.items() if k not in made} == before  # every other file byte for byte
    assert made == {"out/simulate", "out/simulate/2026-11-20_2026-11-23",
                    "out/simulate/2026-11-20_2026-11-23/simulate.html",
                    "out/simulate/2026-11-20_2026-11-23/simulate.json"}
    folder = root / "out" / "simulate" / "2026-11-20_2026-11-23"
    data = json.loads((folder / "simulate.json").read_text(encoding="utf-8"))
    assert data["from"] == "2026-11-20" and data["to"] == "2026-11-23"  # --to: the history's last night
    assert [n["night"] for n in data["nights"]] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert data["nights"][1]["proposed"]["advisor"]["S1"]["tasks"] == 1
    assert data["nights"][1]["current"]["advisor"]["S1"]["tasks"] == 0
    assert data["summary"]["proposed"]["group"]["all"]["tasks"] == {"per_night": 0.75, "peak": 1.0}
    html = (folder / "simulate.html").read_text(encoding="utf-8")
    assert "不能说明什么" in html and "张三（S1）" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html
    assert "清单任务" in capsys.readouterr().out


def test_names_from_the_roster_are_escaped(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    roster = [ROSTER[0], ["S1", "<script>alert(1)</script>", "浦东店", "销售顾问", "是"]]
    _night(history, FIRST, _xlsx(tmp_path / "roster.xlsx", roster),
           _xlsx(tmp_path / "leads.xlsx", [LEAD_HEAD, ["L1", "2026-11-01 10:00", "陈先生", "13800138001",
                                                       "<b>浦东</b>店", "S1", "C"]]))
    code = main(["simulate", "--history", str(history.root), "--out", str(tmp_path / "out"),
                 "--policy", str(DEFAULT_POLICY)])
    assert code == 0
    html = next((tmp_path / "out" / "simulate").glob("*/simulate.html")).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>浦东</b>" not in html and "&lt;b&gt;浦东&lt;/b&gt;店" in html


@pytest.mark.parametrize(("replacement", "key"), [
    (("default_capacity = { sales = 40,", "default_capacity = { sales = \"四十\","), "plan.default_capacity.sales"),
    (("grade_interval_days = {", "grade_interval_dayz = {"), "tasks.followup.grade_interval_dayz"),
])
def test_a_bad_policy_is_refused_before_anything_runs(interval_history: History, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str], replacement, key) -> None:
    bad = _policy(tmp_path, "bad.toml", replacement)
    out = tmp_path / "out"
    code = main(["simulate", "--history", str(interval_history.root), "--out", str(out), "--policy", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "策略文件有误" in err and key in err and "bad.toml" in err
    assert not out.exists()


def test_an_empty_history_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--history", str(tmp_path / "history"), "--out", str(tmp_path / "out"),
                 "--policy", str(DEFAULT_POLICY)])
    assert code == 2 and "没有可回放的夜晚" in capsys.readouterr().err
    assert not (tmp_path / "history").exists() and not (tmp_path / "out").exists()


def test_a_longer_first_contact_time_scores_the_same_calls_by_hand(tmp_path: Path) -> None:
    """L3, a C lead created 11-20 10:00, first called 11-22 (that file loaded on night 11-23). Under 24 h it was
    due 11-21: late; under 48 h due 11-22: on time. The proposed policy also changes a grade rule that does not
    touch this lead, so each policy's night state is built on its own."""
    history = History(tmp_path / "history")
    _night(history, FIRST, _xlsx(tmp_path / "roster.xlsx", ROSTER),
           _xlsx(tmp_path / "leads.xlsx", [LEAD_HEAD, ["L3", "2026-11-20 10:00", "周先生", "13800138003", "浦东店",
                                                       "S1", "C"]]))
    _night(history, LAST, _xlsx(tmp_path / "fu.xlsx", [FU_HEAD, ["L3", "S1", "2026-11-22 18:00", "已接通"]]))
    proposed = _policy(tmp_path, "fc48.toml", ("due_hours = { S = 1, A = 1, B = 24, C = 24, D = 48 }",
                                               "due_hours = { S = 1, A = 1, B = 24, C = 48, D = 48 }"),
                       ("unreached_streak = 3", "unreached_streak = 2"))
    result = _run(history, proposed)
    assert _per_night(result, "first_contact", "current") == [1, 0, 0, 0]  # judged on the night it was created
    assert _per_night(result, "first_contact_met", "current") == [0, 0, 0, 0]
    assert _per_night(result, "first_contact_met", "proposed") == [1, 0, 0, 0]
    assert _summary(result, "first_contact_rate", "current") == 0.0
    assert _summary(result, "first_contact_rate", "proposed") == 1.0
    # the task itself: listed from its due date until the call is known (night 11-23)
    assert _per_night(result, "type:first_contact", "current") == [0, 1, 1, 0]
    assert _per_night(result, "type:first_contact", "proposed") == [0, 0, 1, 0]
    assert _per_night(result, "on_time", "current") == [0, 0, 0, None]
    assert _per_night(result, "on_time", "proposed") == [0, 0, 1, None]
