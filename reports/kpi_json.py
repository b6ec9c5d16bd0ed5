"""`kpis.json` beside `report.html`: the night's KPIs as data, and the earlier nights' files read back for the
report's trend charts (the writer reads files; the transforms never do)."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

from adapters.archive import safe_name

KPIS_JSON = "kpis.json"
STORE_REPORTS = "reports"  # OUT/<as-of>/reports/<store>.html: one store's report, for its manager's digest


def store_report_path(run_dir: Path, store: str) -> Path:
    return run_dir / STORE_REPORTS / f"{safe_name(store)}.html"


def _clean(value: Any) -> Any:
    """NaN never reaches JSON: it becomes null like any value that was not computed."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def write_kpis_json(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(_clean(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def read_earlier_kpis(out_dir: Path, as_of: date, nights: int = 90) -> list[dict[str, Any]]:
    """`kpis.json` of the nights before `as_of` in `out_dir/<YYYY-MM-DD>/`, oldest first, at most `nights`.
    A folder that is not a date, or a file that is missing or unreadable, is skipped."""
    found: list[tuple[date, dict[str, Any]]] = []
    if not out_dir.is_dir():
        return []
    for folder in out_dir.iterdir():
        try:
            night = date.fromisoformat(folder.name)
        except ValueError:
            continue
        path = folder / KPIS_JSON
        if night >= as_of or not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append((night, data))
    found.sort(key=lambda pair: pair[0])
    return [data | {"as_of": night.isoformat()} for night, data in found[-nights:]]



PERIODS = ("mtd", "t30")


def store_nights(earlier: list[dict[str, Any]], store: str) -> list[dict[str, Any]]:
    """Earlier nights' kpis.json as `store`'s report reads them: the store's figures in place of the group's
    (as `transforms.kpi_scope.for_store` puts tonight's), for the nights that have the store."""
    nights = []
    for night in earlier:
        periods = {p: {"group": figures} for p in PERIODS
                   if isinstance(figures := (night.get(p) or {}).get("store", {}).get(store), dict)}
        if periods:
            nights.append({"as_of": night.get("as_of"), **periods})
    return nights
