"""Bounded reading of files a user (or a bundle) names: regular files only, a hard byte limit, one-line errors.

A FIFO would block `open()` forever and /dev/zero would fill memory, so files are opened non-blocking,
checked with fstat and read up to the limit.  JSON that nests too deeply or holds over-long numbers is an
error of the file, not a crash.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, UserError

MAX_JSON_BYTES = 64 * 1024 * 1024


def quoted(path: str | Path) -> str:
    """A path or name as it may appear in a message: control characters and odd bytes escaped (repr-style)."""
    text = str(path)
    if text.isprintable():
        return text
    return repr(text)[1:-1]


def read_bytes(path: str | Path, what: str, limit: int, check_head=None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or a one-line UserError.

    `check_head(first_bytes)`, when given, sees the first (up to 1 MiB) chunk before the rest is read, so a
    file that is plainly not what it should be is refused without reading it all."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MissingFileError(f"{what} file not found: {quoted(path)}") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} file {quoted(path)}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{what} file {quoted(path)} is not a regular file; give a regular file")
        if info.st_size > limit:
            raise UserError(
                f"{what} file {quoted(path)} is {info.st_size} bytes, over the {limit} byte limit"
            )
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            if check_head is not None and not chunks:
                check_head(chunk)
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while we read
            raise UserError(f"{what} file {quoted(path)} is over the {limit} byte limit")
        return b"".join(chunks)
    except OSError as exc:
        raise UserError(f"cannot read {what} file {quoted(path)}: {exc.strerror}") from None
    finally:
        os.close(fd)


def parse_json(data: bytes, where: str) -> Any:
    """JSON from bytes; every way it can be bad (encoding, syntax, nesting, number size, text that is not
    Unicode) is a UserError."""
    try:
        value = json.loads(data.decode("utf-8"))
        if b"\\ud" in data.lower():  # "\ud800" escapes decode to lone surrogates, which no output can encode
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise UserError(
            f"{where} holds text that is not valid Unicode (a lone surrogate escape such as \\ud800); fix the file"
        ) from None
    except RecursionError:
        raise UserError(
            f"{where} is not usable JSON (nested too deeply); re-export or fix the file"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise UserError(f"{where} is not valid JSON ({reason}); re-export or fix the file") from None


def read_json(path: str | Path, what: str, limit: int = MAX_JSON_BYTES) -> Any:
    """Read a JSON file the user gave us, turning every failure into a one-line `UserError`."""
    data = read_bytes(path, what, limit)
    return parse_json(data, f"{what} file {quoted(path)}")
