"""Nothing in an input can make genjin write outside its folders: advisor ids become file names."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.archive import safe_name


@pytest.mark.parametrize(
    ("advisor_id", "expected"),
    [("S01A01", "S01A01"), ("../../etc/passwd", "_.._etc_passwd"), ("..", "_"), ("/root/.ssh", "_root_.ssh"),
     ("张三", "张三"), ("a\\b", "a_b")],
)
def test_an_advisor_id_cannot_leave_the_worklists_folder(tmp_path: Path, advisor_id: str, expected: str) -> None:
    name = safe_name(advisor_id)
    assert name == expected
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()
