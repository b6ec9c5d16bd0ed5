"""Files are read in parallel batches of about equal bytes (adapters/dropfolder.py::batches, issue #8)."""

from __future__ import annotations

from pathlib import Path

from adapters.dropfolder import batches


def _files(tmp_path: Path, sizes: dict[str, int]) -> list[Path]:
    paths = []
    for name, size in sizes.items():
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        paths.append(path)
    return sorted(paths)


def test_every_file_in_exactly_one_batch_in_night_order(tmp_path):
    paths = _files(tmp_path, {f"f{i:02}.csv": 100 + 37 * i for i in range(11)})
    got = batches(paths, 3)
    assert sorted(p for batch in got for p in batch) == paths
    assert len(got) == 3
    for batch in got:
        assert batch == sorted(batch)  # names sort as the night takes them


def test_batches_balance_bytes(tmp_path):
    # 9, 5, 4, 3, 3 (kB) into 2 batches: largest first into the lightest → {9, 3} and {5, 4, 3} = 12 and 12
    paths = _files(tmp_path, {"a": 9000, "b": 5000, "c": 4000, "d": 3000, "e": 3000})
    got = batches(paths, 2)
    assert sorted(sum(p.stat().st_size for p in batch) for batch in got) == [12000, 12000]


def test_fewer_files_than_batches_and_no_files(tmp_path):
    paths = _files(tmp_path, {"only.xlsx": 10})
    assert batches(paths, 8) == [paths]
    assert batches([], 8) == []
