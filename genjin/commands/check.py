"""`genjin check FILE...`: what tonight's run would do with each file (genjin/check.py), on stdout."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from adapters.localzone import local_zone
from adapters.pickup import night_of
from genjin.check import check
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings | None) -> int:
    """`--as-of`, else the night of the next run: a file checked during the day is read by the 02:00 run after it."""
    return check(args.files, sys.stdout, args.as_of or night_of(datetime.now(local_zone()).replace(tzinfo=None)))
