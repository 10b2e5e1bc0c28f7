"""One writer per output: `train` and `export` hold an exclusive lock on `.NAME.lock` beside their --out.

fcntl.flock belongs to the open file, so a killed holder releases it with its last descriptor; the lock file
says who holds it (pid, host, command) so a second run can name the holder.  The file is removed on release;
a process that locked a file someone just removed sees a different inode and tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .atomic import check_writable_parent
from .reading import quoted


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def output_lock(target: str | Path, what: str) -> Iterator[Path]:
    """Hold the lock on `target` for the block; a second holder gets a UserError naming the first."""
    target = Path(target)
    check_writable_parent(target)
    path = lock_path(target)
    for _attempt in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise UserError(
                f"cannot create lock file {quoted(path)}: {exc.strerror}; choose another --out"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise UserError(
                f"{quoted(target)} is in use by {quoted(holder)} (lock {quoted(path)}); wait for that {what} to "
                "finish or choose another --out"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed it between our open and our lock
    else:
        raise UserError(f"could not lock {quoted(path)}; try again")
    try:
        os.ftruncate(fd, 0)
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3]))
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} ({command})\n".encode(), 0)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
