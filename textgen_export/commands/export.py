"""textgen-export export: a model → a validated bundle (ONNX and/or TF.js) for other apps and the browser."""

from pathlib import Path

from ..contract.bundle import (
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    check_bundle_owned,
    check_label,
    one_line,
)
from ..export.options import ONNX_QUANTIZE, TFJS_QUANTIZE, check_options
from ..export.validate import tolerance
from ..files.lock import output_lock
from ..files.ownership import check_replaceable
from ..keras.model_dir import CONFIG_HELP, VOCAB_HELP, read_labels

NAME = "export"
HELP = "export a model to a bundle (ONNX, TF.js), each runtime validated against a float64 reference"
EXAMPLE = "textgen-export export my_model/ --out bundle/ --onnx --tfjs"
NEEDS_TENSORFLOW = True


def add_arguments(parser):
    parser.add_argument(
        "src",
        nargs="?",
        metavar="SRC",
        help="model directory written by `train`, a textgenrnn weights .hdf5, or a model trained in the page "
        "(its .zip or folder) (default: pretrained)",
    )
    src = parser.add_argument_group("textgenrnn files (the weights as SRC or --weights)")
    src.add_argument("--weights", metavar="W", help="textgenrnn weights .hdf5")
    src.add_argument("--vocab", metavar="V", help=VOCAB_HELP)
    src.add_argument("--config", metavar="C", help=CONFIG_HELP)
    parser.add_argument("--out", required=True, metavar="BUNDLE", help="bundle directory to (re)write")
    parser.add_argument(
        "--onnx", action="store_true", help="write model.onnx (default when no format is given)"
    )
    parser.add_argument("--tfjs", action="store_true", help="write tfjs/ (TF.js layers model)")
    parser.add_argument(
        "--quantize",
        choices=[*ONNX_QUANTIZE, *TFJS_QUANTIZE],
        help="also write model.int8.onnx (int8), or quantise the TF.js weights (float16, uint8)",
    )
    parser.add_argument(
        "--atol",
        type=float,
        metavar="A",
        help="your own bound on each runtime's max abs difference from the float64 reference "
        "(default: 4 x Keras float32's own difference, at least 2^-20)",
    )
    about = parser.add_argument_group("how the bundle describes itself (the page shows both)")
    about.add_argument("--name", help="the model's name (default: the name `train` gave it)")
    about.add_argument(
        "--description", help="one line saying what it generates (default: what it was trained on)"
    )


def run(args):
    onnx = args.onnx or not args.tfjs
    check_options(onnx, args.tfjs, args.quantize)
    tolerance(0.0, args.atol)
    out = Path(args.out).resolve()
    if args.name is not None:
        check_label(args.name, "--name", MAX_NAME_CHARS)
    if args.description is not None:
        check_label(args.description, "--description", MAX_DESCRIPTION_CHARS)
    with output_lock(out, "export"):
        check_out(out)  # fail before the slow model load and conversion
        from ..export.from_tfjs import load_model_source
        from ..export.writer import export_bundle

        model, vocab, config = load_model_source(args.src, args.weights, args.vocab, args.config)
        labels = read_labels(args.src, args.weights)  # a context model's head goes too
        description = args.description or default_description(args)
        export_bundle(
            model,
            vocab,
            config,
            out,
            onnx=onnx,
            tfjs=args.tfjs,
            quantize=args.quantize,
            atol=args.atol,
            name=args.name,
            description=description,
            labels=labels,
        )
    return 0


def default_description(args) -> str:
    """What the model is, from what `train` recorded: "fine-tuned from pretrained textgenrnn on docstrings.txt"."""
    if args.src is None and args.weights is None:
        return "textgenrnn's pretrained weights (trained on Reddit submissions and Facebook Page posts)"
    if args.src is None:
        return f"textgenrnn weights {Path(args.weights).name}"
    from ..export import from_tfjs
    from ..keras.model_dir import read_metadata

    if from_tfjs.is_bundle_source(args.src):  # trained in the page or by the Node trainer: it says so itself
        said = from_tfjs.description(from_tfjs.read_manifest(args.src))
        return one_line(said, MAX_DESCRIPTION_CHARS) if said and said.strip() else None
    metadata = read_metadata(args.src)
    trained_on = metadata.get("training_file")
    if not isinstance(trained_on, str):
        return f"model {Path(args.src).resolve().name}"
    source = metadata.get("trained_from")
    if source == "new model":
        return f"new model trained on {Path(trained_on).name}"
    origin = source if source == "pretrained textgenrnn" else Path(str(source)).name
    return f"fine-tuned from {origin} on {Path(trained_on).name}"


def check_out(out) -> None:
    check_replaceable(out, "bundle", check_bundle_owned)
