"""Atomic file writes: temp file in the same directory, fsync, rename.

A crash or Ctrl-C part-way leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import UserError
from .reading import read_json

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


STAGING_MARKER = ".textgen-export-staging.json"
STAGING_FORMAT = "textgen-export-staging"
STATES = ("tmp", "new", "old")


def _staging_box(path: Path, state: str) -> Path:
    """A fresh staging directory `.NAME.PID.RAND.STATE` beside `path`, marked as ours (STAGING_MARKER: our format,
    the target's name, our pid) before anything is put in it."""
    try:
        box = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=f".{state}", dir=path.parent)
        )
    except OSError as exc:
        if exc.errno in _FULL:
            raise _write_failed(path, exc) from None
        raise UserError(
            f"cannot write to {path.parent}: {exc.strerror}; choose another output path"
        ) from None
    try:
        marker = {"format": STAGING_FORMAT, "target": path.name, "pid": os.getpid()}
        (box / STAGING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        fsync_dir(box)
    except BaseException as exc:
        shutil.rmtree(box, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in _FULL:
            raise _write_failed(path, exc) from None
        raise
    return box


@contextlib.contextmanager
def atomic_directory(path: str | Path, owned: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a fresh directory to fill; on success it replaces `path` as a whole.

    What is in flight lives in staging directories ("boxes") beside `path` that we create and mark as ours
    (`_staging_box`), named `.NAME.PID.RAND.STATE`: the `.tmp` box holds the directory being written (as
    `NAME/`) and is renamed `.new` once it is complete; the old `path` goes into an `.old` box; `.new/NAME`
    becomes `path`; both boxes are deleted.  A crash between any two steps is repaired by `recover_directory`
    (called here, and by `train --resume`): a complete new directory is put in place, else the old one is
    restored, and boxes of dead writers are removed.  Only marked boxes are touched: a folder that merely looks
    like one (`.site.20240101.orig.old/`) is someone's.  `owned(path)` is called right before the old directory
    is moved aside (not for an empty one); it raises if `path` is no longer ours to replace.
    """
    path = Path(path)
    check_writable_parent(path)
    recover_directory(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UserError(f"{path} exists and is not a directory; choose another output path")
    box = _staging_box(path, "tmp")
    old_box = None
    try:
        (box / path.name).mkdir()
        yield box / path.name
        fsync_dir(box / path.name)
        new_box = box.with_name(box.name[: -len("tmp")] + "new")
        os.replace(box, new_box)
        box = new_box
        if path.exists():
            if owned is not None and not _empty_directory(path):  # an empty folder is anyone's to fill
                owned(path)
            old_box = _staging_box(path, "old")
            os.replace(path, old_box / path.name)
        os.replace(box / path.name, path)
        fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno in _FULL:
            raise _write_failed(path, exc) from None
        raise
    finally:
        if old_box is not None and not os.path.lexists(path) and (old_box / path.name).exists():
            os.replace(old_box / path.name, path)  # the new one did not go in: the old one goes back
        for staged in (box, old_box):
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)


def _marked(box: Path, name: str, pid: int) -> bool:
    """Does `box` carry the marker `_staging_box` writes, for target `name` and writer `pid`?"""
    try:
        data = read_json(box / STAGING_MARKER, "staging marker", limit=4096)
    except UserError:
        return False
    return isinstance(data, dict) and data == {"format": STAGING_FORMAT, "target": name, "pid": pid}


def _empty_directory(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None


def _staging(path: Path) -> list[tuple[Path, int, str]]:
    """(box, writer pid, state) for every staging box `atomic_directory` left beside `path`: directories whose
    name has the staging form and that carry our marker for `path`.  Anything else is not ours to touch."""
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
        if pid.isdigit() and rest.count(".") == 1 and state in STATES and _marked(entry, path.name, int(pid)):
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
    stale = [(box, state) for box, pid, state in _staging(path) if not _alive(pid)]
    if not os.path.lexists(path):
        ready = [box / path.name for box, state in stale if state == "new"] or [
            box / path.name for box, state in stale if state == "old"
        ]
        ready = [content for content in ready if content.is_dir() and not content.is_symlink()]
        if ready:  # the newest complete directory wins: a finished replacement, else the previous one
            best = max(ready, key=lambda e: e.stat().st_mtime)
            os.replace(best, path)
            done = f"restored {path} from {best.parent.name}"
    for box, _state in stale:
        shutil.rmtree(box, ignore_errors=True)
    return done
