"""Atomic file writes: temp file in the same directory, fsync, rename.

A crash or Ctrl-C part-way leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import UserError

# Write failures of the machine, not of our code: a UserError (one line, how to fix it), also for Python callers.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _write_failed(path: Path, exc: OSError) -> UserError:
    return UserError(
        f"cannot write {path}: {exc.strerror}; free some space or choose another path "
        "(nothing was replaced: earlier files are intact)"
    )


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
    try:  # the real test (os.access says yes to root on /proc and read-only mounts): create a file there
        fd, probe = tempfile.mkstemp(prefix=".textgen-export-probe.", dir=parent)
    except OSError as exc:
        raise UserError(f"cannot write to {parent}: {exc.strerror}; choose another output path") from None
    os.close(fd)
    os.unlink(probe)


def check_file_target(path: Path) -> None:
    """Fail before the work, not after it: `path` will be replaced by a file."""
    check_writable_parent(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory; give a file path to write to")


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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}; choose another output path") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        _ordinary_mode(tmp_path, directory=False)
        os.replace(tmp_path, path)
    except OSError as exc:
        if exc.errno in _FULL:
            raise _write_failed(path, exc) from None
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(
            f"cannot write {path}: the text holds characters UTF-8 cannot encode (lone surrogates)"
        ) from None
    write_bytes(path, data)


@contextlib.contextmanager
def atomic_directory(path: str | Path, owned: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `path`; on success it replaces `path` as a whole.

    Staging names carry the writer's pid and a state: `.NAME.PID.RAND.tmp` (being written) → `.new` (complete)
    → the old `path` goes aside as `.old` → `.new` becomes `path` → `.old` is deleted.  A crash between any two
    steps is repaired by `recover_directory` (called here, and by `train --resume`): a complete new directory is
    put in place, else the old one is restored; temporaries of dead writers are removed.  `owned(path)` is
    called right before the old directory is moved aside (not for an empty one); it raises if `path` is no
    longer ours to replace.
    """
    path = Path(path)
    check_writable_parent(path)
    recover_directory(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UserError(f"{path} exists and is not a directory; choose another output path")
    stem = f".{path.name}.{os.getpid()}."
    try:
        tmp = Path(tempfile.mkdtemp(prefix=stem, suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise UserError(
            f"cannot write to {path.parent}: {exc.strerror}; choose another output path"
        ) from None
    base = tmp.name[: -len(".tmp")]
    new, old = tmp.with_name(base + ".new"), tmp.with_name(base + ".old")
    try:
        yield tmp
        _ordinary_mode(tmp, directory=True)
        fsync_dir(tmp)
        os.replace(tmp, new)
        tmp = new
        if path.exists():
            if owned is not None and not _empty_directory(path):  # an empty folder is anyone's to fill
                owned(path)
            os.replace(path, old)
        os.replace(new, path)
        fsync_dir(path.parent)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        if exc.errno in _FULL:
            raise _write_failed(path, exc) from None
        raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _empty_directory(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None


def _staging(path: Path) -> list[tuple[Path, int, str]]:
    """(entry, writer pid, state) for every staging directory `atomic_directory` left beside `path`."""
    found = []
    prefix = f".{path.name}."
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        pid, _, rest = name[len(prefix) :].partition(".")
        state = rest.rpartition(".")[2]
        if pid.isdigit() and rest.count(".") == 1 and state in ("tmp", "new", "old"):
            found.append((entry, int(pid), state))
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def recover_directory(path: str | Path) -> str | None:
    """Repair what a crash inside `atomic_directory` left beside `path`; returns what was done, if anything."""
    path = Path(path)
    done = None
    stale = [(entry, state) for entry, pid, state in _staging(path) if not _alive(pid)]
    if not os.path.lexists(path):
        ready = [entry for entry, state in stale if state == "new"] or [
            entry for entry, state in stale if state == "old"
        ]
        if ready:  # the newest complete directory wins: a finished replacement, else the previous one
            best = max(ready, key=lambda e: e.stat().st_mtime)
            os.replace(best, path)
            done = f"restored {path} from {best.name}"
    for entry, _state in stale:
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
    return done
