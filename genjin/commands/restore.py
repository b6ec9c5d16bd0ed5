"""`genjin restore FILE`: a backup (`genjin backup`) put back into an empty data root — the folders the settings
name — after every file is checked against the backup's manifest; the store's settings files go beside, for IT to
look at and put in place."""

from __future__ import annotations

import argparse

from adapters.backup import restore_backup
from genjin.commands.backup import folders_of, locked
from genjin.settings import Settings

SETTINGS_FOLDER = "settings-from-backup"


def main(args: argparse.Namespace, settings: Settings) -> int:
    def restore() -> None:
        restored = restore_backup(args.file, folders_of(settings), settings.data_root / SETTINGS_FOLDER)
        manifest = restored.manifest
        print(f"恢复完成 / restored: {args.file} ({restored.files} 个文件 / files)")
        print(f"  备份时间 / made: {manifest['created']} · genjin {manifest['genjin']} · "
              f"最后一晚 / last night: {manifest.get('last_night') or '-'}")
        for name, path in folders_of(settings).items():
            print(f"  {name}: {path.resolve()}  (原位置 / was {manifest['folders'].get(name, '-')})")
        if restored.settings:
            print(f"  设置文件副本 / copies of the settings files: {restored.settings.resolve()} — 请核对后放回原处 / "
                  f"check them and put them where genjin reads them")

    return locked(settings, args.wait_seconds, restore)
