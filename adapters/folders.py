"""Where genjin reads and writes. Everything it makes stays under these folders (SPEC §3, §9)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Folders:
    drop: Path  # ops put files here; genjin only reads it and moves processed files out of it
    archive: Path  # archive/<as-of>/: every processed original, byte-identical, never overwritten
    quarantine: Path  # files that cannot be read at all, each with a .why.txt
    history: Path  # every loaded row of every night
    out: Path  # out/<as-of>/: the night's outputs

    @classmethod
    def beside(cls, drop: Path, out: Path | None = None) -> Folders:
        """The default layout: archive/, quarantine/ and history/ next to the drop folder."""
        root = drop.parent
        return cls(drop, root / "archive", root / "quarantine", root / "history", out or root / "out")


FOLDER_NAMES = {"drop": "投放文件夹", "archive": "归档文件夹", "quarantine": "隔离文件夹", "history": "历史文件夹",
                "out": "输出文件夹"}


class FolderError(RuntimeError):
    """A folder genjin cannot use; the message says which, where and why, in Chinese and English."""


def folder_problem(name: str, path: Path, must_exist: bool = False) -> str | None:
    """Why `path` cannot serve as genjin's `name` folder (a key of FOLDER_NAMES), or None: it is a folder
    genjin can write in — or, unless `must_exist`, it can be made, because the nearest existing folder above it
    is writable and nothing on the way is a file."""
    label = f"{FOLDER_NAMES.get(name, name)} {name}"
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            return f"{label}: {path} 没有写入权限 / is not writable by this user"
        return None
    if path.exists() or path.is_symlink():
        return f"{label}: {path} 不是文件夹（是一个文件）/ is not a folder (it is a file)"
    if must_exist:
        return f"{label}: {path} 不存在 / does not exist"
    above = path.absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        return f"{label}: {path} 无法创建：{above} 不是文件夹 / cannot be made: {above} is not a folder"
    if not os.access(above, os.W_OK | os.X_OK):
        return f"{label}: {path} 无法创建：{above} 没有写入权限 / cannot be made: {above} is not writable"
    return None


def folder_problems(folders: Folders) -> list[str]:
    """Each folder of `folders` that genjin could not use, with why (the drop folder must exist)."""
    found = [folder_problem(name, getattr(folders, name), must_exist=name == "drop") for name in FOLDER_NAMES]
    return [problem for problem in found if problem]


def check_folders(folders: Folders) -> None:
    """Raise `FolderError` naming every folder genjin could not use."""
    problems = folder_problems(folders)
    if problems:
        raise FolderError("\n".join(problems))
