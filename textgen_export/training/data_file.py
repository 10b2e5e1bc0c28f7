"""The training FILE of a run: how it is read (recorded, so `--resume` reads it alike) and its identity
(path, size, sha256: `--resume` refuses a file that changed meanwhile).  TF-free."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingFileError, UserError
from ..files.checksums import sha256_file
from ..files.reading import quoted
from .texts import read_context_texts, read_largetext, read_texts

# How FILE is read: recorded in the checkpoint, so --resume reads it the same way.
READ_FLAGS = ("header", "csv", "context", "largetext")


@dataclass
class DataFile:
    path: str
    header: bool = False
    csv: bool = False
    context: bool = False
    largetext: bool = False

    @classmethod
    def from_record(cls, path: str, read: dict) -> DataFile:
        return cls(path, **{k: bool(read.get(k)) for k in READ_FLAGS})

    def read_flags(self) -> dict:
        return {k: getattr(self, k) for k in READ_FLAGS}

    def read(self) -> tuple[list[str], list[str] | None]:
        """(texts, context labels or None)."""
        if self.context:
            return read_context_texts(self.path, header=self.header)
        if self.largetext:
            return [read_largetext(self.path)], None
        return read_texts(self.path, header=self.header, is_csv=self.csv), None

    def fingerprint(self) -> dict:
        """Path, size and sha256 of the file."""
        path = Path(self.path).resolve()
        try:
            digest = sha256_file(path)
        except FileNotFoundError:
            raise MissingFileError(f"training file not found: {quoted(path)}") from None
        except OSError as exc:
            raise UserError(f"cannot read training file {quoted(path)}: {exc.strerror}") from None
        return {"path": str(path), "size": path.stat().st_size, "sha256": digest}

    def check_unchanged(self, recorded: dict, given: bool) -> None:
        """Refuse a file whose sha256 differs from the one the interrupted run recorded."""
        if not Path(self.path).is_file():
            raise UserError(
                f"the training file of the interrupted run, {quoted(self.path)}, is gone; put it back "
                "(or give its new path: textgen-export train FILE --resume DIR)"
            )
        now = self.fingerprint()
        if now["sha256"] != recorded.get("sha256"):
            where = "the FILE given" if given else "the training file"
            raise UserError(
                f"{where} {quoted(now['path'])} differs from the one the interrupted run trained on (sha256 "
                "changed); restore the original, or start a new run without --resume"
            )
