"""The store's time zone for the times genjin reads off files (a workbook's save time, a file's modification
time): the `timezone` setting. genjin/cli.py sets it around the command it runs; `genjin serve` also puts it in
GENJIN_TIMEZONE for the runs Prefect starts in processes of their own; with neither, Asia/Shanghai."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT = "Asia/Shanghai"
VARIABLE = "GENJIN_TIMEZONE"
_chosen: list[ZoneInfo] = []  # the innermost `files_in` wins


def local_zone() -> ZoneInfo:
    if _chosen:
        return _chosen[-1]
    try:
        return ZoneInfo(os.environ.get(VARIABLE) or DEFAULT)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT)


@contextmanager
def files_in(zone: str) -> Iterator[None]:
    """File times read in the block are wall-clock times of `zone`."""
    _chosen.append(ZoneInfo(zone))
    try:
        yield
    finally:
        _chosen.pop()
