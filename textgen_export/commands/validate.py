"""textgen-export validate: re-check a bundle's models against the float64 figures stored at export."""

from ..contract.bundle import LABELS, ONNX, ONNX_INT8, ONNX_TAIL, TFJS_MODEL, Bundle
from ..export.validate import check, summary, tolerance, validate_bundle, validate_tfjs

NAME = "validate"
HELP = "check a bundle: checksums, shapes, and every model in it vs the stored float64 reference"
EXAMPLE = "textgen-export validate bundle/"


def add_arguments(parser):
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle directory written by `export`")
    parser.add_argument(
        "--atol",
        type=float,
        metavar="A",
        help="your own bound on the max abs difference (default: the tolerance derived at export)",
    )


def run(args):
    if args.atol is not None:
        tolerance(0.0, args.atol)
    bundle = Bundle(args.bundle)
    files, vocab = bundle.files, bundle.vocab
    fix = "re-export the bundle"
    if ONNX in files:
        result = validate_bundle(args.bundle, atol=args.atol)
        print(summary(ONNX, result, result["keras_max_diff"]))
        check(result, f"{args.bundle}/{ONNX}", vocab, fix=fix)
        if ONNX_TAIL in files:
            tail = validate_bundle(args.bundle, atol=args.atol, fast=True)
            print(summary(f"{ONNX_TAIL} (padding fast path)", tail, tail["keras_max_diff"]))
            check(tail, f"{args.bundle}/{ONNX_TAIL}", vocab, fix=fix)
    if ONNX_INT8 in files:
        int8 = validate_bundle(args.bundle, model_file=ONNX_INT8, atol=args.atol)
        print(summary(ONNX_INT8, int8, note="quantised: reported, not gated"))
    if TFJS_MODEL in files:
        tfjs = validate_tfjs(args.bundle, atol=args.atol)
        what = f"{TFJS_MODEL} as decoded"
        if tfjs["quantization"]:
            print(summary(what, tfjs, note=f"{tfjs['quantization']} quantised: reported, not gated"))
        else:
            print(summary(what, tfjs, tfjs["keras_max_diff"]))
            check(tfjs, f"{args.bundle}/{TFJS_MODEL}", vocab, fix=fix)
        in_node(args, bundle)
    if ONNX not in files and TFJS_MODEL not in files:
        print("no model in this bundle to check (no model.onnx, no tfjs/model.json)")
        return 2
    if LABELS in files:
        context_head(args, bundle)
    print("ok")
    return 0


def in_node(args, bundle) -> None:
    """Where Node and the page's npm packages are installed, load the TF.js model in real @tensorflow/tfjs."""
    from pathlib import Path

    from ..contract.bundle import PROBE
    from ..export.node_check import check_in_node
    from ..export.validate import read_probe

    probe = read_probe(bundle.path(PROBE), bundle.config.max_length, bundle.vocab.num_classes)
    bound, rule = (
        (probe["tolerance"], probe["tolerance_rule"]) if args.atol is None else tolerance(0, args.atol)
    )
    context = {"reference": probe, "keras_error": probe["keras_max_diff"], "bound": bound, "rule": rule}
    check_in_node(Path(args.bundle), bundle.vocab, bundle.config, context, print, fix="re-export the bundle")


def context_head(args, bundle) -> None:
    """A bundle with a context head: its graphs, every label, against the stored float64 reference."""
    from pathlib import Path

    from ..export.context import validate_head
    from ..export.node_check import check_head_in_node

    head, results = validate_head(args.bundle, atol=args.atol)
    for name, result in results.items():
        what = f"{name}, context head (worst of {result['labels']} labels: {result['label']!r})"
        if result.get("quantization"):
            print(summary(what, result, note=f"{result['quantization']} quantised: reported, not gated"))
            continue
        print(summary(what, result, head["keras_error"]))
        where = f"{args.bundle}/{name} (context head, label {result['label']!r})"
        check(result, where, bundle.vocab, fix="re-export the bundle")
    if TFJS_MODEL in bundle.files:
        check_head_in_node(
            Path(args.bundle), bundle.vocab, bundle.config, head, print, fix="re-export the bundle"
        )
