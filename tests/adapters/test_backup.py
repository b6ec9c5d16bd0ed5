"""A backup is one file with a manifest and checksums; a restore puts it back into an empty data root only, and
refuses a damaged, altered, truncated or foreign file without changing anything (adapters/backup.py, through
`genjin backup` and `genjin restore` as IT runs them)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from adapters.lock import run_lock
from genjin import cli

FILES = {  # a small data root, as a night leaves it
    "history/leads/_delta_log/00000000000000000000.json": b'{"commitInfo":{}}\n',
    "history/leads/part-00000.parquet": bytes(range(256)) * 40,
    "history/sent_mail.jsonl": b'{"to": "s1@dealer.cn", "status": "sent"}\n',
    "history/moves/2026-11-23.jsonl": b'{"name": "a.csv"}\n',
    "archive/2026-11-23/线索.csv": "线索编号,留资时间\nL1,2026-11-22\n".encode(),
    "quarantine/2026-11-23/坏.xlsx": b"PK\x03\x04broken",
    "quarantine/2026-11-23/坏.xlsx.why.txt": "无法读取 / cannot read\n".encode(),
    "out/2026-11-23/worklist.csv": "\ufeffas_of,advisor_id\n2026-11-23,S1\n".encode(),
}


def genjin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`genjin ARGS` in a new process, in `cwd`, as IT types it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENJIN_", "PREFECT_"))}
    return subprocess.run([sys.executable, "-m", "genjin.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def in_process(capsys, monkeypatch):
    """`genjin ARGS` in this process (quicker: no interpreter start), with what it printed."""
    for name in [n for n in os.environ if n.startswith("GENJIN_")]:
        monkeypatch.delenv(name)

    def call(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        monkeypatch.chdir(cwd)
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return call


def site(root: Path) -> Path:
    """A data root with genjin.toml and a policy of changes beside it, and a drop folder with a waiting file."""
    for name, data in FILES.items():
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "data" / "drop").mkdir()
    (root / "data" / "drop" / "今晚.csv").write_text("waiting", encoding="utf-8")
    (root / "data" / "out" / ".2026-11-24.partial-99").mkdir()  # a killed run's leftover
    (root / "data" / "out" / ".2026-11-24.partial-99" / "x.csv").write_text("half", encoding="utf-8")
    (root / "genjin.toml").write_text('policy = "policy.toml"\n', encoding="utf-8")
    (root / "policy.toml").write_text('extends = "default"\n[plan]\nescalate_after_nights = 5\n', encoding="utf-8")
    return root


def backed_up(tmp_path: Path) -> Path:
    src = site(tmp_path / "src")
    code = cli.main(["backup", str(tmp_path), "--config", str(src / "genjin.toml"), "--data-root", str(src / "data")])
    assert code == 0
    (made,) = tmp_path.glob("genjin-backup-*.tar.gz")
    return made


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_backup_and_restore_give_back_every_file(tmp_path):
    made = backed_up(tmp_path)
    with tarfile.open(made, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(names[0]).read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert manifest["format"] == "genjin-backup" and manifest["genjin"] == "0.1.0"
    assert set(manifest["files"]) == set(FILES) | {"settings/genjin.toml", "settings/policy.toml"}
    # the checksums are the files' own (computed here independently)
    for name, data in FILES.items():
        assert manifest["files"][name] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert not any("drop" in n or ".partial" in n or ".genjin.lock" in n for n in names)

    new = tmp_path / "new"
    new.mkdir()
    proc = genjin("restore", str(made), "--data-root", "data", cwd=new)
    assert proc.returncode == 0, proc.stderr
    assert tree(new / "data") == {
        **{name: data for name, data in FILES.items()},
        "settings-from-backup/genjin.toml": b'policy = "policy.toml"\n',
        "settings-from-backup/policy.toml": (tmp_path / "src" / "policy.toml").read_bytes(),
        "history/.genjin.lock": (new / "data" / "history" / ".genjin.lock").read_bytes(),
    }
    assert "恢复完成 / restored" in proc.stdout and "settings-from-backup" in proc.stdout


def test_restore_refuses_a_data_root_that_is_not_empty(tmp_path, in_process):
    made = backed_up(tmp_path)
    new = tmp_path / "new"
    (new / "data" / "archive").mkdir(parents=True)
    (new / "data" / "archive" / "keep.csv").write_text("mine", encoding="utf-8")
    proc = in_process("restore", str(made), "--data-root", "data", cwd=new)
    assert proc.returncode == 2
    assert "只能恢复到空的数据目录 / restore only into an empty data root" in proc.stderr
    assert str(new / "data" / "archive") in proc.stderr
    assert set(tree(new / "data")) <= {"archive/keep.csv", "history/.genjin.lock"}
    assert (new / "data" / "archive" / "keep.csv").read_bytes() == b"mine"


def rewrite(made: Path, out: Path, change) -> Path:
    """A copy of the backup `made` whose members went through `change(name, data) -> (name, data) | None`."""
    with tarfile.open(made, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            changed = change(member.name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(changed[0])
            info.size = len(changed[1])
            dst.addfile(info, io.BytesIO(changed[1]))
    return out


def deflate_start(made: Path) -> int:
    """Where the compressed bytes begin: after gzip's 10-byte header and the file name it carries."""
    data = made.read_bytes()
    assert data[3] & 0x08  # FNAME
    return data.index(b"\x00", 10) + 1


def flipped(made: Path, out: Path, at: int | None = None) -> Path:
    data = bytearray(made.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def _altered(name: str, data: bytes) -> tuple[str, bytes]:
    return name, data.replace(b"S1", b"S2") if name.startswith("out/") else data


def _newer_history(name: str, data: bytes) -> tuple[str, bytes]:
    if name != "manifest.json":
        return name, data
    return name, json.dumps(json.loads(data) | {"history_schema": 99}).encode()


def _newer(name: str, data: bytes) -> tuple[str, bytes]:
    if name != "manifest.json":
        return name, data
    return name, json.dumps(json.loads(data) | {"format_version": 99, "genjin": "9.0"}).encode()


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda made, out: flipped(made, out),
         "备份文件已损坏，未恢复任何内容 / the backup is damaged, nothing was restored"),
        (lambda made, out: flipped(made, out, at=deflate_start(made) + 20),  # inside the manifest
         "备份文件已损坏，未恢复任何内容 / the backup is damaged, nothing was restored"),
        (lambda made, out: out.write_bytes(made.read_bytes()[: made.stat().st_size // 2]) and out,
         "备份文件已损坏，未恢复任何内容 / the backup is damaged"),
        (lambda made, out: rewrite(made, out, _altered), "out/2026-11-23/worklist.csv: 校验和不符 / its checksum does "
                                                        "not match the manifest"),
        (lambda made, out: rewrite(made, out, lambda n, d: None if n.startswith("archive/") else (n, d)),
         "1 file(s) of the manifest are missing, e.g. archive/2026-11-23/线索.csv"),
        (lambda made, out: rewrite(made, out, lambda n, d: ("../../etc/evil", d) if n.startswith("out/") else (n, d)),
         "unexpected member '../../etc/evil'"),
        (lambda made, out: rewrite(made, out, _newer),
         "备份由更新版本的 genjin 制作，请先升级 / the backup was made by a newer genjin (9.0, format 99)"),
        (lambda made, out: rewrite(made, out, _newer_history),
         "备份中的历史库由更新版本的 genjin 写入，请先升级 / the backup's history was written by a newer genjin"),
        (lambda made, out: rewrite(made, out, lambda n, d: None if n == "manifest.json" else (n, d)),
         "这不是 genjin 的备份文件，未恢复任何内容 / not a genjin backup"),
        (lambda made, out: out.write_text("客户名单", encoding="utf-8") and out, "not a genjin backup"),
    ],
    ids=["bit-flipped", "bit-flipped-early", "truncated", "altered-file", "file-missing", "path-outside",
         "newer-format", "newer-history", "no-manifest", "not-an-archive"],
)
def test_restore_refuses_a_damaged_or_foreign_file_and_changes_nothing(tmp_path, in_process, damage, said):
    made = backed_up(tmp_path)
    bad = damage(made, tmp_path / "bad.tar.gz")
    new = tmp_path / "new"
    new.mkdir()
    proc = in_process("restore", str(bad), "--data-root", "data", cwd=new)
    assert proc.returncode == 2, proc.stdout
    assert said in proc.stderr
    assert "Traceback" not in proc.stderr
    left = {p.relative_to(new).as_posix() for p in new.rglob("*") if p.is_file()}
    assert left <= {"data/history/.genjin.lock"}  # no file restored, no staging folder left
    assert not (tmp_path / "etc").exists()
    proc = in_process("restore", str(made), "--data-root", "data", cwd=new)  # the good backup restores there
    assert proc.returncode == 0, proc.stderr


def test_backup_waits_for_the_run_lock_and_never_overwrites(tmp_path):
    src = site(tmp_path / "src")
    with run_lock(src / "data" / "history"):
        proc = genjin("backup", str(tmp_path / "b.tar.gz"), cwd=src)
    assert proc.returncode == 3
    assert "another genjin run is in progress" in proc.stderr
    assert not list(tmp_path.glob("*b.tar.gz*"))
    (tmp_path / "b.tar.gz").write_bytes(b"older backup")
    proc = genjin("backup", str(tmp_path / "b.tar.gz"), cwd=src)
    assert proc.returncode == 2 and "the backup file exists already" in proc.stderr
    assert (tmp_path / "b.tar.gz").read_bytes() == b"older backup"
