"""A store's data in one file, and back (`genjin backup`, `genjin restore`).

The backup is a gzip'd tar: `manifest.json` first (what it is, which genjin made it, when, from which folders, the
history's last night, and every file's size and SHA-256), then the history (Delta tables, ledger, plans, the mail,
alert and pick-up ledgers, the move journals), the archive, the quarantine, the nights' outputs, and copies of the
store's genjin.toml and policy files under `settings/`. The drop folder is not in it: its files are not genjin's
yet. The caller holds the run lock while it is written, so no night or pick-up changes the history meanwhile.

A restore reads the whole file into hidden folders inside the (empty) targets, checks every file against the
manifest, and only then moves them into place: a damaged, truncated, altered or foreign file changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from gzip import BadGzipFile
from pathlib import Path, PurePosixPath
from typing import IO, Any

from adapters import history_schema
from adapters.lock import LOCK_NAME

FORMAT = "genjin-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FOLDERS = ("history", "archive", "quarantine", "out")  # the member folders, in the order they are written
SETTINGS = "settings"
STAGING = ".restoring-"
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
READ_ERRORS = (tarfile.TarError, BadGzipFile, EOFError, zlib.error)  # a file that is not, or no longer, a backup


class BackupError(Exception):
    """A backup that cannot be written or restored; the message says why in Chinese and English."""


@dataclass(frozen=True)
class Written:
    path: Path
    files: int
    bytes: int
    last_night: str | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path, skip_hidden: bool) -> Iterator[tuple[Path, str]]:
    """(file, its path relative to `root` in POSIX form) for every regular file under `root`, sorted; the run
    lock never, and with `skip_hidden` nothing whose name starts with a dot (a killed run's leftovers)."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if skip_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name == LOCK_NAME or (skip_hidden and name.startswith(".")) or not path.is_file() or path.is_symlink():
                continue
            yield path, path.relative_to(root).as_posix()


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n, candidate = 2, name
    while candidate in taken:
        candidate = f"{stem} ({n}){dot}{ext}"
        n += 1
    taken.add(candidate)
    return candidate


def write_backup(dest: Path, folders: Mapping[str, Path], settings_files: list[Path], *, genjin_version: str,
                 created: datetime, last_night: str | None) -> Written:
    """Write the backup of `folders` (history, archive, quarantine, out) and `settings_files` to `dest`, a new
    file (written beside as `.partial`, renamed when complete). The caller holds the run lock."""
    if dest.exists():
        raise BackupError(f"目标文件已存在 / the backup file exists already: {dest}")
    if not dest.parent.is_dir():
        raise BackupError(f"目标目录不存在 / no such folder: {dest.parent}")
    members: list[tuple[Path, str]] = []
    for name in FOLDERS:
        members += [(path, f"{name}/{rel}") for path, rel in _files(folders[name], skip_hidden=name == "out")]
    taken: set[str] = set()
    members += [(path, f"{SETTINGS}/{_unique(path.name, taken)}") for path in settings_files if path.is_file()]
    listed = {arc: {"size": path.stat().st_size, "sha256": _sha256(path)} for path, arc in members}
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "genjin": genjin_version,
        "created": created.isoformat(timespec="seconds"), "last_night": last_night,
        "history_schema": history_schema.version(folders["history"]),
        "folders": {name: str(folders[name].resolve()) for name in FOLDERS},
        "settings": {arc.removeprefix(f"{SETTINGS}/"): str(path.resolve()) for path, arc in members
                     if arc.startswith(f"{SETTINGS}/")},
        "files": listed,
    }
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(created.timestamp())
            tar.addfile(info, io.BytesIO(data))
            for path, arc in members:
                info = tar.gettarinfo(str(path), arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.size != listed[arc]["size"]:
                    raise BackupError(f"文件在备份时被改动 / a file changed while it was backed up: {path}")
                with path.open("rb") as f:
                    tar.addfile(info, f)
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Written(dest, len(members), dest.stat().st_size, last_night)


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    files: int
    settings: Path | None


def _empty(folder: Path) -> bool:
    """Absent, or holding nothing but the run lock and a failed restore's hidden staging folders."""
    if not folder.exists():
        return True
    if not folder.is_dir():
        return False
    return all(p.name == LOCK_NAME or p.name.startswith(STAGING) for p in folder.iterdir())


def _damaged(why: str) -> BackupError:
    return BackupError(f"备份文件已损坏，未恢复任何内容 / the backup is damaged, nothing was restored: {why}")


def _foreign(path: Path, why: str) -> BackupError:
    return BackupError(f"这不是 genjin 的备份文件，未恢复任何内容 / not a genjin backup, nothing was restored: "
                       f"{path}: {why}")


def _member_path(name: str) -> PurePosixPath:
    """The member's place in the backup, refused unless it is a plain path inside one of its folders."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2 or path.parts[0] not in (*FOLDERS, SETTINGS):
        raise _damaged(f"unexpected member {name!r}")
    return path


def _read_manifest(tar: tarfile.TarFile, source: Path) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise _foreign(source, f"no {MANIFEST} at its start")
    handle = tar.extractfile(first)
    assert handle is not None
    try:
        manifest = json.loads(handle.read())
    except ValueError as err:
        raise _foreign(source, f"{MANIFEST} is not JSON") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _foreign(source, f"{MANIFEST} is not a genjin manifest")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise BackupError(f"备份由更新版本的 genjin 制作，请先升级 / the backup was made by a newer genjin "
                          f"({manifest.get('genjin')}, format {manifest.get('format_version')}): upgrade first")
    schema = manifest.get("history_schema", 0)
    if not isinstance(schema, int) or schema > history_schema.CURRENT:
        raise BackupError(f"备份中的历史库由更新版本的 genjin 写入，请先升级 / the backup's history was written by a "
                          f"newer genjin (schema {schema}; this release knows up to {history_schema.CURRENT}): "
                          f"upgrade first")
    if not isinstance(manifest.get("files"), dict):
        raise _foreign(source, f"{MANIFEST} lists no files")
    return manifest


def _copy_checked(handle: IO[bytes], target: Path, expected: Mapping[str, Any], name: str) -> None:
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
            out.write(block)
    if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        raise _damaged(f"{name}: 校验和不符 / its checksum does not match the manifest")


def restore_backup(source: Path, folders: Mapping[str, Path], settings_dir: Path) -> Restored:
    """Put the backup `source` into `folders` (history, archive, quarantine, out), each absent or empty, and its
    settings files into `settings_dir` (absent or empty). The caller holds the run lock of `folders["history"]`."""
    targets = {**folders, SETTINGS: settings_dir}
    full = [str(p.resolve()) for p in targets.values() if not _empty(p)]
    if full:
        raise BackupError("只能恢复到空的数据目录 / restore only into an empty data root; not empty: "
                          + ", ".join(full))
    if not source.is_file():
        raise BackupError(f"备份文件不存在 / no such backup file: {source}")
    staging = {name: target / f"{STAGING}{os.getpid()}" for name, target in targets.items()}
    for stage in staging.values():
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    try:
        manifest, seen = _extract(source, staging)
        missing = sorted(set(manifest["files"]) - seen)
        if missing:
            raise _damaged(f"{len(missing)} file(s) of the manifest are missing, e.g. {missing[0]}")
        for name, stage in staging.items():
            for child in stage.iterdir():
                os.replace(child, targets[name] / child.name)
    finally:
        for stage in staging.values():
            shutil.rmtree(stage, ignore_errors=True)
    has_settings = any(settings_dir.iterdir()) if settings_dir.is_dir() else False
    return Restored(manifest, len(seen), settings_dir if has_settings else None)


def _gzip(source: Path) -> bool:
    with source.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def _extract(source: Path, staging: Mapping[str, Path]) -> tuple[dict[str, Any], set[str]]:
    seen: set[str] = set()
    with ExitStack() as stack:
        try:
            tar = stack.enter_context(tarfile.open(source, "r:gz"))
            manifest = _read_manifest(tar, source)
        except READ_ERRORS as err:
            if _gzip(source):  # a gzip file that breaks off or does not decompress: damaged, whatever it was
                raise _damaged(f"{type(err).__name__}: {err}") from err
            raise _foreign(source, "not a gzip'd tar") from err
        try:
            while (member := tar.next()) is not None:  # after the manifest
                path = _member_path(member.name)
                expected = manifest["files"].get(member.name)
                if not member.isfile() or expected is None or member.name in seen:
                    raise _damaged(f"{member.name}: not a file of the manifest")
                handle = tar.extractfile(member)
                assert handle is not None
                _copy_checked(handle, staging[path.parts[0]].joinpath(*path.parts[1:]), expected, member.name)
                seen.add(member.name)
        except READ_ERRORS as err:
            raise _damaged(f"{type(err).__name__}: {err}") from err
    return manifest, seen
