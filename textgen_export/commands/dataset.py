"""textgen-export dataset: write an example training corpus harvested locally (no network)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..datasets.python_docstrings import harvest
from ..errors import UserError
from ..files.atomic import check_file_target, write_text

NAME = "dataset"
HELP = "write an example corpus: python-docstrings = first lines of the installed stdlib's docstrings"
EXAMPLE = "textgen-export dataset python-docstrings --out docstrings.txt --limit 2000"
DATASETS = ("python-docstrings",)


def add_arguments(parser):
    parser.add_argument("name", choices=DATASETS, help="which corpus")
    parser.add_argument("--out", required=True, metavar="FILE", help="text file to write, one text per line")
    parser.add_argument("--limit", type=int, default=None, help="at most N lines (default: all)")


def run(args):
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out).resolve()
    check_file_target(out)
    lines = harvest(args.limit)
    if not lines:
        raise UserError(
            "found no docstrings in this Python's standard library (is it installed without sources?)"
        )
    write_text(out, "".join(f"{line}\n" for line in lines))
    print(f"wrote {len(lines)} lines to {out}", file=sys.stderr)
    return 0
