"""Reading training texts from files the way textgenrnn does, with one-line errors for bad input.

Plain files hold one text per `delim`-separated piece (a header line skipped when `header`); `is_csv` takes
the first column; context files are two-column CSVs (text, label); largetext files are one text.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from ..errors import UserError
from ..files.reading import quoted, read_bytes

# Text this mangled is not text: refuse it instead of training on replacement characters.
MAX_REPLACED_FRACTION = 0.1
# One text (line / CSV row) longer than this is a whole document read in line mode by mistake: textgenrnn's
# texts are short (titles, tweets); a long text belongs in --largetext (train_from_largetext_file).
MAX_TEXT_CHARS = 1_000_000
# A training file larger than this would not fit in memory as text and token ids together.
MAX_FILE_BYTES = 4 * 1024**3


def read_text(path: str | Path, warn=None) -> str:
    """The file decoded as UTF-8; invalid bytes become U+FFFD and a warning says how many.

    Only a regular file is read (a FIFO, a device or /dev/stdin would block or never end), and one whose first
    megabyte is already binary is refused before the rest is read."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{quoted(path)} is a directory; give a text file to train on")
    data = read_bytes(path, "training", MAX_FILE_BYTES, check_head=lambda head: _check_text(path, head, True))
    if not data:
        raise UserError(f"training file {quoted(path)} is empty; give a file with some text")
    text, replaced = _check_text(path, data)
    if replaced:
        (warn or _warn)(f"warning: {path}: {replaced} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is not part of the text
        text = text[1:]
    return text


def _check_text(path: Path, data: bytes, head: bool = False) -> tuple[str, int]:
    """(text, invalid sequences replaced); refuses data that is mostly invalid UTF-8 or NUL bytes."""
    if head:  # a chunk may end inside a character: leave its last bytes out of the count
        data = data[:-3] if len(data) > 3 else data
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    nuls = text.count("\x00")
    if (replaced + nuls) > MAX_REPLACED_FRACTION * len(text):
        where = f"in its first {len(data):,} bytes" if head else f"in {len(data):,} bytes"
        raise UserError(
            f"training file {quoted(path)} looks binary or is not UTF-8 text ({replaced} invalid UTF-8 sequences, "
            f"{nuls} NUL bytes {where}); give a UTF-8 text file (convert with e.g. iconv -t UTF-8)"
        )
    return text, replaced


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def read_texts(
    path: str | Path, header: bool = True, delim: str = "\n", is_csv: bool = False, warn=None
) -> list[str]:
    """textgenrnn's `train_from_file` reader: one text per line (or per `delim`), or the first CSV column."""
    if not delim:
        raise UserError("delim must be a non-empty string (the separator between texts)")
    text = read_text(path, warn)
    if is_csv:
        rows = read_csv_rows(path, text, header, min_columns=1)
        texts = [row[0] for _, row in rows]
        check_text_lengths(path, texts, [line for line, _ in rows])
    else:
        pieces = text.split(delim)
        if header:
            pieces = _drop_header(text, delim, pieces)
        texts = [p.rstrip("\r") if delim == "\n" else p for p in pieces]
        check_text_lengths(path, texts, range(1 + header, len(texts) + 1 + header) if delim == "\n" else None)
    return require_texts(path, texts)


def check_text_lengths(path, texts: list[str], lines=None) -> None:
    """Refuse a text over MAX_TEXT_CHARS: it is a document, not one of many short texts."""
    for k, text in enumerate(texts):
        if len(text) > MAX_TEXT_CHARS:
            where = f"line {list(lines)[k]}" if lines is not None else f"text {k + 1}"
            raise UserError(
                f"training file {path} {where} is {len(text):,} characters long, over the {MAX_TEXT_CHARS:,} "
                "limit for one text; train on it as one long text with --largetext (train_from_largetext_file), "
                "or split it into lines"
            )


def _drop_header(text: str, delim: str, pieces: list[str]) -> list[str]:
    # The original skips the first *line* (f.readline()), whatever the delimiter.
    if delim == "\n":
        return pieces[1:]
    return text.split("\n", 1)[1].split(delim) if "\n" in text else []


def read_context_texts(path: str | Path, header: bool = True, warn=None) -> tuple[list[str], list[str]]:
    """Two-column CSV: text, context label (textgenrnn's `context=True` files)."""
    text = read_text(path, warn)
    rows = read_csv_rows(path, text, header, min_columns=2)
    texts, labels = [], []
    for line, row in rows:
        if not row[0].strip():
            continue
        if not row[1].strip():
            raise UserError(
                f"{path} line {line}: the context label (second column) is empty; give every text a label"
            )
        texts.append(row[0])
        labels.append(row[1])
    check_text_lengths(path, texts, [line for line, row in rows if row[0].strip()])
    require_texts(path, texts)
    return texts, labels


def read_csv_rows(path, text: str, header: bool, min_columns: int) -> list[tuple[int, list[str]]]:
    """(line number, row) for every non-empty row; every row must have the same number of columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    width = None
    try:
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if width is None:
                width = len(row)
                if width < min_columns:
                    raise UserError(
                        f"{path} line {line}: CSV has {width} column(s), needs {min_columns} "
                        f"({'text, context label' if min_columns == 2 else 'text'})"
                    )
                if header:
                    continue
            elif len(row) != width:
                raise UserError(
                    f"{path} line {line}: CSV row has {len(row)} column(s), expected {width} like the first row; "
                    "quote fields that contain commas"
                )
            rows.append((line, row))
    except csv.Error as exc:
        raise UserError(f"{path} line {reader.line_num}: not valid CSV ({exc})") from None
    return rows


def require_texts(path, texts: list[str]) -> list[str]:
    """Blank texts teach nothing; a file of only blank texts is an error."""
    kept = [t for t in texts if t.strip()]
    if not kept:
        raise UserError(f"training file {path} has no text (only blank lines); give a file with some text")
    return kept


def read_largetext(path: str | Path, warn=None) -> str:
    text = read_text(path, warn)
    if not text.strip():
        raise UserError(f"training file {path} has no text (only whitespace); give a file with some text")
    return text
