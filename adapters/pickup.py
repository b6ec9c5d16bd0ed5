"""Intraday pick-up (issue #18): lead and follow-up files dropped during the day are recorded in the history
and archived exactly as the night would, so that the night finds them loaded.

- A file dropped on day D belongs to the night of D + 1 — the 02:00 run that follows, whose as-of date is
  D + 1: its rows go into the history with that night (`__night`) and its original to `archive/<D+1>/`. The
  night reads it again from there for run.json and the rejects (as a re-run does), the ledger keeps its rows
  from being stored twice, and run.json marks it `"picked_up": "<when>"` (`history/intraday_pickups.jsonl`).
- Only files whose every sheet holds leads or follow-ups are taken; anything else — orders, service, the
  roster, a file that cannot be read, a duplicate — stays in the drop folder for the night.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters import archive, dropfolder
from adapters.folders import Folders
from adapters.history import History
from adapters.ingest import FileLoad, load_file, sha256_of
from adapters.mail import SentLedger

INTRADAY_KINDS = frozenset({"leads", "followups"})
PICKUPS = "intraday_pickups.jsonl"


def night_of(moment: datetime) -> date:
    """The night a file picked up at `moment` (local time) belongs to: the next day's 02:00 run."""
    return moment.date() + timedelta(days=1)


def pickups(history: Path) -> SentLedger:
    """One line per file the day's runs took (`status` picked_up: sha256 as `key`, name, night, picked_up_at)
    or left for the night (`status` left: its content is not read again during the day)."""
    return SentLedger(history / PICKUPS)


def picked_up(history: Path, night: date) -> dict[str, str]:
    """sha256 → when it was picked up, for the files taken during the day for `night`."""
    return {e["key"]: e["picked_up_at"] for e in pickups(history).entries()
            if e.get("status") == "picked_up" and e.get("night") == night.isoformat()}


def mark_picked_up(files: list[dict[str, Any]], history: Path, night: date) -> list[dict[str, Any]]:
    """run.json's file entries, each file the day took marked `"picked_up": "YYYY-MM-DD HH:MM"`."""
    when = picked_up(history, night)
    return [f | {"picked_up": when[f["sha256"]]} if f.get("sha256") in when else f for f in files]


def pick_up(folders: Folders, history: History, now: datetime, settle_seconds: float) -> list[FileLoad]:
    """Read the settled files of the drop folder; record and archive the lead and follow-up ones for the
    night of `now`. Returns those recorded (rows kept in memory for nobody: the alerts read the history)."""
    night = night_of(now)
    known = history.digests()
    ledger = pickups(history.root)
    left = {e["key"] for e in ledger.entries() if e.get("status") == "left"}  # read once: not read again
    taken = []
    for path in dropfolder.files_to_process(folders.drop, settle_seconds):
        digest = sha256_of(path)
        if digest in known or digest in left:
            continue
        load = load_file(path, digest)
        if load.status == "loaded" and {s.kind for s in load.sheets} <= INTRADAY_KINDS:
            taken.append(load)
        else:  # the night's (orders, service, roster, unreadable): not read again by the day's runs
            ledger.append({"key": digest, "status": "left", "name": path.name, "night": night.isoformat()})
            left.add(digest)
    fresh = history.to_record(taken)
    order = history.next_order(night)
    history.record_rows(fresh, night, order)
    history.record_ledger(fresh, night, order)  # from here on the night finds them loaded
    for load in fresh:
        ledger.append({"key": load.sha256, "status": "picked_up", "name": load.path.name,
                       "night": night.isoformat(), "picked_up_at": now.strftime("%Y-%m-%d %H:%M")})
    for load in taken:
        archive.archive(load.path, folders.archive, night)
        load.release_rows()
    return fresh
