"""Bounded reading of a zip file a user names (a model downloaded from the page): every entry in memory, or a
one-line UserError.

Only what a bundle can hold is accepted: relative "/"-separated names without "..", no symlinks, no duplicate
names, at most MAX_ENTRIES entries of at most `limit` bytes in all (sizes as declared and as decompressed, so a
zip bomb stops at the limit), each entry's CRC-32 checked.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..errors import UserError
from .reading import quoted, read_bytes

MAX_ZIP_BYTES = 1 << 30
MAX_ENTRIES = 1000


def _check_name(name: str, where: str) -> None:
    parts = PurePosixPath(name).parts
    unsafe = (
        not parts
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or (len(name) > 1 and name[1] == ":")
        or any(part in ("..", ".") for part in parts)
    )
    if unsafe:
        raise UserError(
            f"{where} holds an unsafe entry name {quoted(name)!r:.100}; it is not a bundle we wrote"
        )


def read_zip(path: str | Path, what: str, limit: int = MAX_ZIP_BYTES) -> dict[str, bytes]:
    """{entry name: bytes} of the zip file at `path` (directories left out)."""
    where = f"{what} {quoted(path)}"
    data = read_bytes(path, what, limit)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UserError(f"{where} is not a zip file (or it is truncated); download it again") from None
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UserError(f"{where} holds {len(infos)} entries, over {MAX_ENTRIES}; it is not a bundle")
    entries: dict[str, bytes] = {}
    total = 0
    for info in infos:
        _check_name(info.filename, where)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UserError(
                f"{where} holds a symlink {quoted(info.filename)!r:.100}; a bundle holds only files"
            )
        if info.is_dir():
            continue
        name = info.filename
        total += info.file_size
        if total > limit:
            raise UserError(f"{where} unpacks to over {limit} bytes; it is not a bundle")
        if name in entries:
            raise UserError(f"{where} holds {quoted(name)!r:.100} twice; download it again")
        try:
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)  # to the end: the CRC-32 is checked there
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise UserError(
                f"{where} is damaged at {quoted(name)!r:.100} ({exc!s:.80}); download it again"
            ) from None
        except (NotImplementedError, RuntimeError) as exc:  # an unknown compression method, encryption
            raise UserError(f"{where}: entry {quoted(name)!r:.100} cannot be read ({exc!s:.80})") from None
        if len(content) != info.file_size:
            raise UserError(
                f"{where} is damaged at {quoted(name)!r:.100} (its size is wrong); download it again"
            )
        entries[name] = content
    return entries
