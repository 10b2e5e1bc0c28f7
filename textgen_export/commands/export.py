"""textgen-export export: a model → a validated bundle (ONNX and/or TF.js) for other apps and the browser."""

from pathlib import Path

from ..export.options import ONNX_QUANTIZE, TFJS_QUANTIZE, check_options
from ..files.lock import output_lock
from ..files.ownership import check_replaceable
from ..keras.model_dir import load_source
from ..spec.bundle import check_bundle_owned

NAME = "export"
HELP = "export a model to a bundle (ONNX, TF.js), validated against Keras"
EXAMPLE = "textgen-export export my_model/ --out bundle/ --onnx --tfjs"


def add_arguments(parser):
    parser.add_argument(
        "src", nargs="?", metavar="SRC", help="model directory written by `train` (default: pretrained)"
    )
    src = parser.add_argument_group("legacy textgenrnn files instead of SRC")
    src.add_argument("--weights", metavar="W", help="textgenrnn weights .hdf5")
    src.add_argument("--vocab", metavar="V", help="textgenrnn vocab .json")
    src.add_argument("--config", metavar="C", help="textgenrnn config .json")
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


def run(args):
    onnx = args.onnx or not args.tfjs
    check_options(onnx, args.tfjs, args.quantize)
    out = Path(args.out).resolve()
    with output_lock(out, "export"):
        check_out(out)  # fail before the slow model load and conversion
        from ..export.writer import export_bundle

        model, vocab, config = load_source(args.src, args.weights, args.vocab, args.config)
        export_bundle(model, vocab, config, out, onnx=onnx, tfjs=args.tfjs, quantize=args.quantize)
    return 0


def check_out(out) -> None:
    check_replaceable(out, "bundle", check_bundle_owned)
