"""textgen-export validate: re-check a bundle's ONNX model against the Keras figures stored at export."""

from ..export.validate import check, validate_bundle
from ..spec.bundle import ONNX, ONNX_INT8, Bundle

NAME = "validate"
HELP = "check a bundle: checksums, shapes, and ONNX Runtime vs the stored Keras outputs (atol 1e-5)"
EXAMPLE = "textgen-export validate bundle/"


def add_arguments(parser):
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle directory written by `export`")


def run(args):
    result = validate_bundle(args.bundle)
    print(
        f"model.onnx: max abs diff {result['max_abs_diff']:.2e} vs Keras on {result['windows']} probe windows "
        f"(atol {result['atol']:g})"
    )
    check(result, f"{args.bundle}/{ONNX}", result["atol"], fix="re-export the bundle")
    if ONNX_INT8 in Bundle(args.bundle, verify=False).files:
        int8 = validate_bundle(args.bundle, model_file=ONNX_INT8)
        print(f"{ONNX_INT8}: max abs diff {int8['max_abs_diff']:.2e} (quantised: reported, not gated)")
    print("ok")
    return 0
