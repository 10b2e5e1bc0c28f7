"""Is a directory ours to replace?  `export --out` and `train --out` replace a directory as a whole, so they may
do so only when it is provably one we wrote: our marker file names our format, and it holds nothing we did not
write (no other files, no symlinks).  Anything else ends in a UserError that says how to proceed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from .atomic import check_writable_parent, recover_directory
from .reading import quoted, read_json


def tree(folder: Path) -> list[tuple[str, int]]:
    """(relative posix path, st_mode) of every entry under `folder`, symlinks not followed."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(root, name)
            found.append((path.relative_to(folder).as_posix(), os.lstat(path).st_mode))
    return found


def foreign(folder: Path, ours: Callable[[str], bool]) -> list[str]:
    """Entries under `folder` that we did not write: symlinks, devices, FIFOs, and files `ours` rejects."""
    bad = []
    for rel, mode in tree(folder):
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode) or not ours(rel):
            bad.append(rel)
    return sorted(bad)


def check_ours(
    path: Path, kind: str, is_marked: Callable[[Path], bool], marker: str, ours: Callable[[str], bool]
):
    """Raise unless `path` (an existing directory) is a `kind` we wrote and holds only files we wrote."""
    if not is_marked(path):
        raise UserError(
            f"--out {quoted(path)} is a non-empty directory that is not a {kind} written by textgen-export "
            f"(no {marker} of ours); choose a new or empty path (a {kind} is replaced as a whole)"
        )
    extra = foreign(path, ours)
    if extra:
        shown = ", ".join(quoted(e) for e in extra[:3]) + (
            f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        )
        raise UserError(
            f"--out {quoted(path)} is a {kind} but also holds files textgen-export did not write ({shown}); "
            f"move them out or choose a new path (a {kind} is replaced as a whole)"
        )


def check_listed_folder(folder: Path, kind: str, marker: str, format_name: str) -> None:
    """Raise unless `folder` holds `marker` (JSON naming `format_name`, with a "files" object) and only the
    files that marker lists: how bundles and static sites say they are ours."""
    try:
        data = read_json(folder / marker, f"{kind} {marker}")
    except UserError:
        data = None
    ours = (
        isinstance(data, dict) and data.get("format") == format_name and isinstance(data.get("files"), dict)
    )
    listed = set(data["files"]) if ours else set()
    check_ours(folder, kind, lambda _: ours, marker, lambda rel: rel == marker or rel in listed)


def check_replaceable(path: Path, kind: str, owned: Callable[[Path], None]) -> None:
    """Fail before the work, not after it: `path` must be new, empty, or a `kind` of ours (`owned` checks)."""
    check_writable_parent(path)
    recover_directory(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UserError(
            f"--out {quoted(path)} exists and is not a directory; choose another path for the {kind}"
        )
    try:
        empty = path.is_dir() and not any(path.iterdir())
    except OSError as exc:
        raise UserError(f"cannot read --out {quoted(path)}: {exc.strerror}; choose another path") from None
    if path.is_dir() and not empty:
        owned(path)
