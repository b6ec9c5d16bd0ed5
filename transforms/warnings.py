"""What ops must hear about a night although nothing failed (issue #13): no roster, a store with no active
manager, tasks whose advisor the roster does not know (naming the roster's advisor an unknown id looks like a typo
of); per file, rows dated after the night and a workbook read while it was open in Excel. Each warning is {code,
store, count, zh, en}; a file's also name the `file`, and its `rows` when it is about rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from schemas.columns import Kind
from schemas.validate import REJECT_SCHEMA, ROW, label
from transforms.assign import UNASSIGNED
from transforms.frames import end_of

SHOWN_IDS = 8  # advisor ids listed in one warning; the rest are counted


def _ids(ids: list[str]) -> str:
    more = len(ids) - SHOWN_IDS
    return "、".join(ids[:SHOWN_IDS]) + (f" 等 {len(ids)} 人" if more > 0 else "")


# --- an unknown advisor id that is a typo of a known one -----------------------------------------------------
# letters typed for the digits they look like (S001XO1 for S001X01); `l` before upper-casing, as it reads as 1
_LOOKALIKE_LOWER = str.maketrans({"l": "1"})
_LOOKALIKE = str.maketrans({"O": "0", "I": "1"})


def _plain(advisor_id: str) -> str:
    return advisor_id.strip().translate(_LOOKALIKE_LOWER).upper().translate(_LOOKALIKE)


def _distance(a: str, b: str) -> int:
    """Edits from `a` to `b` (a character added, dropped, changed, or two neighbours swapped)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, start=1):
        row = [i]
        for j, cb in enumerate(b, start=1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb)))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def near_match(unknown: str, known: list[str], nearby: list[str] | None = None) -> str | None:
    """The one id of `known` that `unknown` looks like a typo of: the same once O/0, I/1 and l/1 are read alike,
    else one edit away from one of `nearby` (the same store's; default `known`) for ids of four characters or
    more; None when none or several are that near."""
    plain = _plain(unknown)
    same = [k for k in known if _plain(k) == plain and k != unknown]
    if same:
        return same[0] if len(same) == 1 else None
    if len(plain) < 4:
        return None
    close = [k for k in (known if nearby is None else nearby) if _distance(plain, _plain(k)) == 1]
    return close[0] if len(close) == 1 else None


def _suspected(ids: list[str], roster: pl.DataFrame, store: str | None) -> tuple[list[str], list[str]]:
    """`ids` as the warning names them, in Chinese and English, each with the roster's advisor it looks like a
    typo of: `S001XO1（是否为 S001X01 张秀霞？）`."""
    names = dict(roster.select("advisor_id", pl.col("name").fill_null("")).iter_rows())
    mates = roster if store is None else roster.filter(pl.col("store") == store)
    nearby = mates["advisor_id"].to_list()
    zh, en = [], []
    for advisor_id in ids:
        match = near_match(advisor_id, list(names), nearby)
        who = f"{match} {names[match]}".strip() if match else ""
        zh.append(f"{advisor_id}（是否为 {who}？）" if match else advisor_id)
        en.append(f"{advisor_id} (did you mean {who}?)" if match else advisor_id)
    return zh, en


def night_warnings(worklist: pl.DataFrame, advisors: pl.DataFrame) -> list[dict[str, Any]]:
    """`worklist`: the night's tasks (with `original_advisor_id`, `orphaned`); `advisors`: the roster rows."""
    roster = advisors.unique("advisor_id", keep="last", maintain_order=True)
    found: list[dict[str, Any]] = []
    if roster.height == 0:
        found.append({
            "code": "no_roster", "store": None, "count": worklist.height,
            "zh": f"没有顾问名单：{worklist.height} 条任务无法分给顾问，全部归入 {UNASSIGNED}.xlsx，"
                  "没有发出顾问邮件和经理日报。请把顾问名单（工号、姓名、门店、岗位、邮箱）放入投放目录。",
            "en": f"no advisor roster: {_tasks(worklist.height)} could not be given to advisors and all went to "
                  f"{UNASSIGNED}.xlsx; no advisor email or manager digest was written. Drop the roster "
                  "(advisor id, name, store, role, email) into the drop folder.",
        })
        return found
    active = pl.col("active").fill_null(True)
    managed = set(roster.filter(active & (pl.col("role") == "manager"))["store"].drop_nulls())
    stores = sorted({*roster["store"].drop_nulls(), *worklist["store"].drop_nulls()} - managed)
    for store in stores:
        n = worklist.filter(pl.col("store") == store).height
        found.append({
            "code": "no_manager", "store": store, "count": n,
            "zh": f"门店「{store}」没有在职经理：离职或不在名单的顾问的任务无人接手，也没有经理日报"
                  f"（该店今晚 {n} 条任务）。请在顾问名单中补上该店的经理（岗位：经理，在职：是）。",
            "en": f"store '{store}' has no active manager: work of departed or unknown advisors has nobody to go "
                  f"to and no digest is written ({_tasks(n)} tonight). Add its manager to the roster "
                  "(role manager, active yes).",
        })
    known = roster["advisor_id"].implode()
    unknown = (
        worklist.filter(pl.col("original_advisor_id").is_not_null() & ~pl.col("original_advisor_id").is_in(known))
        .group_by("store", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("original_advisor_id").unique().sort().alias("ids"),
             (pl.col("advisor_id") == UNASSIGNED).sum().alias("unassigned"))
        .sort("store", nulls_last=True)
    )
    for row in unknown.iter_rows(named=True):
        where = row["store"] or "—"
        ids_zh, ids_en = _suspected(row["ids"], roster, row["store"])
        ids, ids_en_text = _ids(ids_zh), ", ".join(ids_en[:SHOWN_IDS]) + (" …" if len(ids_en) > SHOWN_IDS else "")
        lost = (f"，其中 {row['unassigned']} 条无人负责（{UNASSIGNED}.xlsx）" if row["unassigned"] else "，已转交经理")
        lost_en = (f"; {row['unassigned']} of them have nobody ({UNASSIGNED}.xlsx)" if row["unassigned"]
                   else "; they went to the manager")
        found.append({
            "code": "unknown_advisor", "store": row["store"], "count": row["count"],
            "zh": f"门店「{where}」：{row['count']} 条任务的顾问 {ids} 不在顾问名单中{lost}。"
                  "请检查工号是否写错，或把这些顾问加入名单。",
            "en": f"store '{where}': {_tasks(row['count'])} belong{'s' if row['count'] == 1 else ''} to advisors not "
                  f"in the roster ({ids_en_text}){lost_en}. "
                  "Check the advisor ids, or add them to the roster.",
        })
    return found


def _tasks(n: int) -> str:
    return f"{n} task" if n == 1 else f"{n} tasks"


# --- rows dated after the night ------------------------------------------------------------------------------
SHOWN_ROWS = 20  # row numbers listed in one warning; the rejects workbook lists every row
FUTURE_ROW = (
    "{column}「{at}」晚于运行日期 {as_of}：已载入，但到 {day} 才计入（在那之前视为还没发生）",
    "{name} {at} is after the night of {as_of}: loaded, but not counted before {day} (not yet known)",
)
FUTURE_HINT = "日期没错则无需处理；如果是年份写错或电脑时钟不对，请改正后把这些行重新放入投放目录"


def dated_after(loaded: pl.DataFrame, kind: Kind, as_of: date) -> pl.DataFrame:
    """The loaded rows of `kind` dated after the night of `as_of` (`Kind.dated_by`): ROW, `at`, `store` (null
    for a kind without one). They load — the night's rules do not know them yet (SPEC §6a, `frames.known_on`)
    — and each is told, so that a wrong year or a wrong PC clock does not vanish in silence."""
    schema = pl.Schema({ROW: pl.Int64(), "at": pl.Datetime("us"), "store": pl.String()})
    if kind.dated_by is None or kind.dated_by not in loaded.columns:
        return pl.DataFrame(schema=schema)
    store = pl.col("store") if "store" in loaded.columns else pl.lit(None, pl.String)
    return (loaded.filter(pl.col(kind.dated_by) > end_of(as_of))
            .select(ROW, pl.col(kind.dated_by).alias("at"), store.alias("store")).cast(schema))


def _when(at: pl.Expr) -> pl.Expr:
    """`2026-11-28 10:00`, or `2026-11-28` when it has no time."""
    return pl.when(at.dt.time() == pl.time(0)).then(at.dt.strftime("%Y-%m-%d")).otherwise(
        at.dt.strftime("%Y-%m-%d %H:%M"))


def future_rows(future: pl.DataFrame, kind: Kind, as_of: date) -> pl.DataFrame:
    """`dated_after`'s rows as warned rows (REJECT_SCHEMA): in the rejects workbook in yellow, in `genjin check`."""
    column = kind.dated_by or ""
    words = {"column": label(kind, column), "name": column, "as_of": as_of.isoformat(), "at": "{}", "day": "{}"}
    zh, en = (pl.format(text.format(**words), _when(pl.col("at")), pl.col("at").dt.strftime("%Y-%m-%d"))
              for text in FUTURE_ROW)
    return future.select(ROW, pl.lit(column).alias("column"), zh.alias("reason_zh"), en.alias("reason_en"),
                         pl.lit(FUTURE_HINT).alias("hint")).cast(pl.Schema(REJECT_SCHEMA))


def _rows(rows: list[int]) -> str:
    more = len(rows) - SHOWN_ROWS
    return "、".join(map(str, rows[:SHOWN_ROWS])) + (f" 等 {len(rows)} 行" if more > 0 else "")


def future_warning(file: str, sheet: str, kind: Kind, future: pl.DataFrame, as_of: date) -> dict[str, Any]:
    """One file's (one sheet's) rows dated after the night, as a warning of the night: how many, which, until
    when, whether they load."""
    rows = sorted(future[ROW].to_list())
    latest = future["at"].max()
    last = latest.strftime("%Y-%m-%d") if isinstance(latest, datetime) else ""
    stores = future["store"].drop_nulls().unique().sort().to_list()
    column = label(kind, kind.dated_by or "")
    where = f"「{file}」" + (f"工作表「{sheet}」" if sheet != file.rsplit(".", 1)[0] else "")
    n = len(rows)
    return {
        "code": "future_dated", "store": stores[0] if len(stores) == 1 else None, "count": n,
        "file": file, "sheet": sheet, "rows": rows,
        "zh": f"{where}有 {n} 行的{column}晚于运行日期 {as_of.isoformat()}（第 {_rows(rows)} 行，最晚 {last}）："
              "这些行已载入，但要到各自的日期才计入，在那之前视为还没发生。如果是年份写错或电脑时钟不对，"
              "请改正后重新放入投放目录；明细见该文件的 rejects 工作簿（黄色行）。",
        "en": f"'{file}'{f' sheet {sheet!r}' if sheet != file.rsplit('.', 1)[0] else ''}: {n} row"
              f"{'s' if n != 1 else ''} dated after the night of {as_of.isoformat()} (row{'s' if n != 1 else ''} "
              f"{', '.join(map(str, rows[:SHOWN_ROWS]))}{' …' if n > SHOWN_ROWS else ''}; the latest {last}): loaded, "
              "but not counted before their dates (not yet known). If a year or a PC clock is wrong, correct them "
              "and drop them again; the file's rejects workbook lists them in yellow.",
    }


def open_file_warning(file: str, lock: str) -> dict[str, Any]:
    """A file read while a lock file beside it said it was open in Excel/WPS: what was read, and what to do."""
    return {
        "code": "open_in_excel", "store": None, "count": 1, "file": file,
        "zh": f"「{file}」读取时正在 Excel/WPS 中打开（旁边有锁文件 {lock}）：已按它最后一次保存的内容载入。"
              "之后如果又改过并保存，把文件重新放入投放目录即可，按编号更新。",
        "en": f"'{file}' was open in Excel/WPS when read (lock file {lock} beside it): its last saved content was "
              "loaded. If it is changed and saved later, drop it again: its rows update by their ids.",
    }
