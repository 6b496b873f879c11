"""Replacing a folder atomically: written under a temporary sibling name, then renamed over
the target, so a crash never leaves half a folder and the previous one stays until the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["replace_folder", "atomic_write", "remove_path", "recover_folder"]


def replace_folder(target: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on an empty sibling folder, then swap it in for ``target``.

    On any failure the temporary folder goes and the previous ``target`` is put back.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent))
    backup = target.with_name(target.name + ".old")
    moved = False
    try:
        write(tmp)
        if target.exists():
            remove_path(backup)
            os.replace(target, backup)
            moved = True
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if moved and not target.exists():
            os.replace(backup, target)  # put the previous folder back
        raise
    if moved:
        remove_path(backup)
    return target


def atomic_write(
    path: str | os.PathLike[str], data: bytes | str | Callable[[BinaryIO], object]
) -> None:
    """Write ``data`` to ``path`` through a temporary sibling renamed over it: readers see the
    old file or the new one, never half of either. ``data``: bytes, text (written as UTF-8),
    or a function that writes to the open binary file (large arrays, streamed lines).

    The one way every module replaces a file (JSON state, arrays, cache segments, CLI output).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, str):
                f.write(data.encode("utf-8"))
            elif isinstance(data, bytes | bytearray):
                f.write(data)
            else:
                data(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def recover_folder(target: str | os.PathLike[str]) -> list[str]:
    """Undo what a process killed inside :func:`replace_folder` left behind: put the previous
    folder back if the swap stopped between its two renames, and remove unfinished temporary
    folders. Returns what it did, for the log."""
    target = Path(target)
    done = []
    backup = target.with_name(target.name + ".old")
    if not target.exists() and backup.is_dir():
        os.replace(backup, target)
        done.append(f"restored {target} from {backup.name}")
    elif backup.exists():
        remove_path(backup)
        done.append(f"removed {backup.name}")
    if target.parent.is_dir():
        for tmp in target.parent.glob(target.name + ".*.tmp"):
            remove_path(tmp)
            done.append(f"removed unfinished {tmp.name}")
    return done
