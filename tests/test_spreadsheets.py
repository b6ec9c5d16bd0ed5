"""The tests' .xls writer (tests/spreadsheets.py) runs LibreOffice with a profile of its own: the machine's profile
is neither used nor created, so a LibreOffice already open there, or a second test run beside, cannot upset it."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.readers import read_sheets
from tests import spreadsheets as ss

HEADER = ["线索编号", "客户姓名"]


@pytest.mark.slow
def test_xls_conversions_side_by_side_leave_the_user_profile_alone(tmp_path, monkeypatch):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice is not installed here (the .xls files come from xlwt)")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # where LibreOffice keeps the user's profile (~/.config/libreoffice)
    paths = [tmp_path / f"leads-{n}.xls" for n in range(3)]
    with ThreadPoolExecutor(3) as pool:
        written = list(pool.map(lambda p: ss.write_xls(p, {"线索": [HEADER, [p.stem, "陈先生"]]}), paths))
    assert written == paths
    for path in paths:
        [sheet] = read_sheets(path)
        assert sheet.cells.row(-1)[:2] == (path.stem, "陈先生")
    assert not (home / ".config" / "libreoffice").exists()
