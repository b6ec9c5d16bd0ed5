"""`genjin check FILE...`: what tonight's run would do with each file (genjin/check.py), on stdout."""

from __future__ import annotations

import argparse
import sys

from genjin.check import check
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings | None) -> int:
    return check(args.files, sys.stdout)
