"""Atomic file writes: temp file in the same directory, fsync, rename.

A crash or Ctrl-C part-way leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _ordinary_mode(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; what we write is ordinary, so apply the umask."""
    path.chmod((0o777 if directory else 0o666) & ~_umask())


def check_writable_parent(path: Path) -> None:
    parent = path.parent
    blocker = next((p for p in [parent, *parent.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:  # (mkdir would say "File exists", which names neither the file nor the fix)
        raise UserError(
            f"cannot write under {blocker}: it is a file, not a directory; choose another output path"
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create directory {parent}: {exc.strerror}; choose another output path"
        ) from None
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write to {parent}: permission denied; choose another output path")


def check_file_target(path: Path) -> None:
    """Fail before the work, not after it: `path` will be replaced by a file."""
    check_writable_parent(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory; give a file path to write to")


def check_replaceable_dir(path: Path, marker: str, kind: str) -> None:
    """Fail before the work, not after it: `path` will be replaced as a whole by a directory of `kind`, so it must
    be new, empty, or already one of ours (it holds `marker`)."""
    check_writable_parent(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} exists and is not a directory; choose another path for the {kind}")
    if path.is_dir() and any(path.iterdir()) and not (path / marker).is_file():
        raise UserError(
            f"--out {path} is a non-empty directory that is not a {kind} (no {marker}); choose a new path "
            f"(a {kind} is replaced as a whole)"
        )


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is fsynced and renamed over `path`."""
    path = Path(path)
    check_writable_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        _ordinary_mode(tmp_path, directory=False)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `path`; on success it replaces `path` as a whole.

    The previous directory (if any) is moved aside first and deleted only after the new one is in place, so an
    interrupted export leaves the previous bundle intact.
    """
    path = Path(path)
    check_writable_parent(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} exists and is not a directory; choose another output path")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _ordinary_mode(tmp, directory=True)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "previous")
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
