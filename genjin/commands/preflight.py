"""What `run` and `serve` check before anything starts: the drop folder exists and the policy file reads."""

from __future__ import annotations

import sys
from pathlib import Path

from policy.model import PolicyError, load_policy


def drop_and_policy_ok(drop: Path, policy: Path | None) -> bool:
    """False, with why on stderr (Chinese and English), when the drop folder is missing or the policy is bad."""
    if not drop.is_dir():
        print(f"投放目录不存在 / drop folder not found: {drop}", file=sys.stderr)
        return False
    try:
        load_policy(policy)
    except PolicyError as err:
        print(err, file=sys.stderr)
        return False
    return True
