"""python -m benchmarks: the one benchmark suite (named scenarios) → one results folder: table, JSON, charts.

A full run writes benchmarks/results/<date>-<machine>[-scenarios]/ (committed with the command that made it);
a --quick run (CI: a tiny model, validity not speed) writes under benchmarks/results/quick/, which git ignores,
unless --out says where.  User errors: one line on stderr, exit status 2.
"""

import argparse
import datetime as dt
import shlex
import sys
from pathlib import Path

from textgen_export.errors import UserError
from textgen_export.files.atomic import check_writable_parent

from . import RESULTS, report, sampling, suite
from .machine import machine_info, machine_slug
from .sampling import check_runtimes

PROG = "python -m benchmarks"
QUICK_RESULTS = RESULTS / "quick"  # git-ignored (benchmarks/.gitignore): quick runs leave the checkout clean


def add_arguments(parser):
    parser.add_argument(
        "--scenario",
        nargs="+",
        choices=[*suite.SCENARIOS, "all"],
        default=list(suite.DEFAULT),
        metavar="NAME",
        help=f"what to measure: {', '.join(suite.SCENARIOS)}, or all (default: sampling)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI mode: a tiny model, short timings; every available runtime is checked for valid output",
    )
    parser.add_argument(
        "--runtimes",
        nargs="+",
        metavar="R",
        help="sampling: only runtimes whose name contains R, or a group: python, node, chromium, gpu (default: all)",
    )
    parser.add_argument(
        "--batches",
        nargs="+",
        type=int,
        metavar="B",
        help="sampling: batch sizes (default 1 8 64 256; GPU rows 1 64 256 1024 4096)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="results directory (default benchmarks/results/<date>-<machine>, --quick: benchmarks/results/quick/…)",
    )
    parser.add_argument(
        "--model", metavar="DIR", help="measure this model directory instead of the default models"
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="where the word-level bench model is trained once and kept (default: the system temp dir)",
    )


def default_out(quick: bool, scenarios: list[str]):
    root = QUICK_RESULTS if quick else RESULTS
    which = (
        ""
        if scenarios == list(suite.DEFAULT)
        else "-" + ("all" if "all" in scenarios else "-".join(scenarios))
    )
    suffix = "-quick" if quick else ""
    return root / f"{dt.date.today().isoformat()}-{machine_slug(machine_info())}{which}{suffix}"


def check_args(args) -> None:
    for batch in args.batches or []:
        if not 1 <= batch <= 4096:
            raise UserError(f"--batches must be from 1 to 4096, got {batch}")
    if args.model and not Path(args.model).is_dir():
        raise UserError(f"--model {args.model} is not a directory; give a model directory written by `train`")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out {args.out} exists and is not a directory; choose another output path")

    check_runtimes(args.runtimes)


def run(args, argv: list[str]) -> int:
    check_args(args)
    out = Path(args.out) if args.out else default_out(args.quick, args.scenario)
    check_writable_parent(out.resolve())
    options = sampling.Options(
        quick=args.quick,
        runtimes=args.runtimes,
        batches=args.batches,
        model=Path(args.model) if args.model else None,
        cache=Path(args.cache) if args.cache else None,
    )
    names = list(suite.SCENARIOS) if "all" in args.scenario else list(dict.fromkeys(args.scenario))
    data = suite.run(names, options, log=lambda line: print(line, flush=True))
    command = " ".join([PROG, *(shlex.quote(a) for a in argv)])
    files = report.write(data, out, command)
    print(report.summary(data))
    print(f"\nwrote {out}: {', '.join(files)}")
    problems = suite.problems(data)
    for line in problems:
        print(f"INVALID: {line}", file=sys.stderr)
    return 1 if problems else 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: one line, exit 2, as the product's commands
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _Parser(prog=PROG, description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, argv)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
