"""textgen-export dataset: write an example training corpus harvested locally (no network), or our synthetic
labelled one for contextual training."""

from __future__ import annotations

import sys
from pathlib import Path

from ..datasets import fruit_animal
from ..datasets.python_docstrings import harvest
from ..errors import UserError
from ..files.atomic import check_file_target, write_text

NAME = "dataset"
HELP = (
    "write an example corpus: python-docstrings = first lines of the installed stdlib's docstrings; "
    "fruit-animal = a synthetic text,label CSV for `train --context`"
)
EXAMPLE = "textgen-export dataset python-docstrings --out docstrings.txt --limit 2000"
DATASETS = ("python-docstrings", "fruit-animal")


def add_arguments(parser):
    parser.add_argument("name", choices=DATASETS, help="which corpus")
    parser.add_argument("--out", required=True, metavar="FILE", help="text file to write, one text per line")
    parser.add_argument("--limit", type=int, default=None, help="at most N lines (default: all)")


def run(args):
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out).resolve()
    check_file_target(out)
    if args.name == "fruit-animal":
        return write_labelled(out, args.limit)
    lines = harvest(args.limit)
    if not lines:
        raise UserError(
            "found no docstrings in this Python's standard library (is it installed without sources?)"
        )
    write_text(out, "".join(f"{line}\n" for line in lines))
    print(f"wrote {len(lines)} lines to {out}", file=sys.stderr)
    return 0


def write_labelled(out: Path, limit: int | None) -> int:
    """The fruit-animal CSV (header `text,label`; every sixth line mixes both kinds, labelled `animal|fruit`)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    pairs = fruit_animal.rows(limit or 600, both_every=6)
    writer.writerows(pairs)
    write_text(out, buffer.getvalue())
    print(f"wrote {len(pairs)} labelled lines to {out} (train with --context --header)", file=sys.stderr)
    return 0
