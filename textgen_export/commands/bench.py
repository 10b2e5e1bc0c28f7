"""textgen-export bench BUNDLE: which runtime and batch size to use on this machine, timed on your bundle.

Times the next-token call (B windows in, B next-token distributions out) of every runtime installed here:
ONNX Runtime in Python always; in Node, ONNX Runtime and TF.js where node and the page's npm packages are
installed.  One table: runtime, batch, tokens/s, ms/call.  (The repository's full benchmark suite is
`python -m benchmarks`, not part of the installed package.)
"""

from __future__ import annotations

from pathlib import Path

from ..contract.bundle import ONNX, ONNX_INT8, TFJS_MODEL, Bundle
from ..errors import UserError
from ..runtime.speed import NODE_RUNTIMES, Budget, node_missing, time_node, time_python
from ..web.page import web_demo_dir

NAME = "bench"
HELP = "time the runtimes installed here on a bundle at a few batch sizes: which runtime and batch to use"
EXAMPLE = "textgen-export bench bundle/ --batches 1 8 64"
BATCHES = (1, 8, 64)
MAX_BATCH = 4096


def add_arguments(parser):
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle directory written by `export`")
    parser.add_argument(
        "--batches",
        nargs="+",
        type=int,
        default=list(BATCHES),
        metavar="B",
        help=f"windows per call (default: {' '.join(map(str, BATCHES))})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.5,
        metavar="S",
        help="timed calls per runtime and batch last at least this long (default 0.5)",
    )


def check_args(args) -> None:
    for batch in args.batches:
        if not 1 <= batch <= MAX_BATCH:
            raise UserError(f"--batches must be from 1 to {MAX_BATCH}, got {batch}")
    if not 0 < args.seconds <= 60:
        raise UserError(f"--seconds must be more than 0 and at most 60, got {args.seconds}")


def python_rows(bundle: Bundle, batches, budget: Budget, say) -> list[tuple]:
    from ..runtime.bundle import load_bundle

    rows = []
    for model_file, name in ((ONNX, "python onnxruntime"), (ONNX_INT8, "python onnxruntime int8")):
        if model_file in bundle.files:
            runtime = load_bundle(bundle.folder, model_file)
            rows += [(name, batch, timing) for batch, timing in time_python(runtime, batches, budget)]
    if ONNX not in bundle.files:
        say(f"python onnxruntime: not timed (the bundle has no {ONNX})")
    return rows


def node_rows(bundle: Bundle, batches, budget: Budget, say) -> list[tuple]:
    page = web_demo_dir()
    rows, skipped = [], []
    for runtime in NODE_RUNTIMES:
        needs = ONNX if runtime.startswith("onnx") else TFJS_MODEL
        why = node_missing(page, runtime) or (None if needs in bundle.files else f"the bundle has no {needs}")
        if why:
            skipped.append((runtime, why))
            continue
        try:
            rows += [
                (f"node {runtime}", b, t) for b, t in time_node(page, bundle.folder, runtime, batches, budget)
            ]
        except RuntimeError as exc:
            skipped.append((runtime, f"failed: {exc}"))
    reasons = {why for _, why in skipped}
    if len(skipped) == len(NODE_RUNTIMES) and len(reasons) == 1:
        say(f"node: not timed ({reasons.pop()})")
    else:
        for runtime, why in skipped:
            say(f"node {runtime}: not timed ({why})")
    return rows


def table(rows: list[tuple]) -> str:
    lines = [f"{'runtime':<26} {'batch':>5} {'tokens/s':>12} {'ms/call':>10}"]
    for name, batch, timing in rows:
        seconds = timing.median
        lines.append(f"{name:<26} {batch:>5} {batch / seconds:>12,.0f} {1000 * seconds:>10.2f}")
    return "\n".join(lines)


def advice(rows: list[tuple]) -> str:
    def best(candidates):
        return max(candidates, key=lambda r: r[1] / r[2].median)

    one = best([r for r in rows if r[1] == min(b for _, b, _ in rows)])
    most = best(rows)
    return (
        f"one stream (B={one[1]}): {one[0]}, {1000 * one[2].median:.2f} ms per token\n"
        f"most tokens/s: {most[0]} at B={most[1]} ({most[1] / most[2].median:,.0f} tokens/s)"
    )


def run(args):
    check_args(args)
    bundle = Bundle(args.bundle)  # checksums and format checked before anything is timed
    budget = Budget(min_time=args.seconds, min_reps=3, max_reps=10_000, warmup=1, max_time=2 * args.seconds)
    batches = list(dict.fromkeys(args.batches))
    notes: list[str] = []
    rows = python_rows(bundle, batches, budget, notes.append)
    rows += node_rows(bundle, batches, budget, notes.append)
    if not rows:
        raise UserError(f"nothing could be timed on {Path(args.bundle)}: " + "; ".join(notes))
    print(table(rows))
    for note in notes:
        print(note)
    print(advice(rows))
    return 0
