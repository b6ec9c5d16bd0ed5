"""`genjin demo`: a sample drop folder generated under --dir (demo/sample_data.py), then one night over it as
`genjin run` does; with --nights N, N nights in a row with the sample advisors' and managers' workbooks dropped
back between them (genjin/commands/demo_week.py). Prefect's home is DIR/.prefect (set by genjin/cli.py before
this module imports Prefect)."""

from __future__ import annotations

import argparse

from adapters.folders import Folders
from demo.sample_data import generate
from genjin.commands import demo_week
from genjin.commands.run import run_night, today
from genjin.settings import Settings


def main(args: argparse.Namespace, settings: Settings | None) -> int:
    as_of = args.as_of or today()
    if args.nights is not None:
        return demo_week.play(args.dir, as_of, args.nights, args.seed, args.size)
    drop = args.dir / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    written = generate(drop, as_of=as_of, seed=args.seed, size=args.size)
    print(f"genjin demo: {len(written)} sample files written to {drop.resolve()}")
    return run_night(Folders.beside(drop, args.dir / "out"), as_of, None, settle_seconds=0)
