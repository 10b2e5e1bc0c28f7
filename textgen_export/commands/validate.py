"""textgen-export validate: re-check a bundle's ONNX model against the Keras figures stored at export."""

NAME = "validate"
HELP = "check a bundle: checksums, shapes, and ONNX Runtime vs the stored Keras outputs (atol 1e-5)"
EXAMPLE = "textgen-export validate bundle/"


def add_arguments(parser):
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle directory written by `export`")


def run(args):
    from ..bundle import Bundle
    from ..export.quantize import INT8
    from ..export.validate import check, validate_bundle

    result = validate_bundle(args.bundle)
    print(
        f"model.onnx: max abs diff {result['max_abs_diff']:.2e} vs Keras on {result['windows']} probe windows "
        f"(atol {result['atol']:g})"
    )
    check(result, f"{args.bundle}/model.onnx", result["atol"], fix="re-export the bundle")
    if INT8 in Bundle(args.bundle, verify=False).files:
        int8 = validate_bundle(args.bundle, model_file=INT8)
        print(f"{INT8}: max abs diff {int8['max_abs_diff']:.2e} (quantised: reported, not gated)")
    print("ok")
    return 0
