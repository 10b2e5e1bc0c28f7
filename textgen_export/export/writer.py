"""export_bundle: model → bundle directory, validated against Keras before it replaces anything.

Everything is written into a temporary directory beside `out_dir` (atomic.atomic_directory) that replaces
`out_dir` only when every file is written and every parity check passed, so a failed or interrupted export
leaves the previous bundle (if any) intact and no partial bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from ..files.atomic import atomic_directory
from ..spec.bundle import CONFIG, ONNX, VOCAB, check_bundle_owned, write_manifest
from ..spec.config import ModelConfig
from ..spec.vocabulary import Vocabulary
from .graph import export_model
from .options import TFJS_QUANTIZE, check_options
from .validate import (
    ATOL,
    check,
    keras_outputs,
    max_abs_diff,
    parity,
    probe_windows,
    uniform_windows,
    write_probe,
)


def export_bundle(
    model,
    vocab: Vocabulary,
    config: ModelConfig,
    out_dir: str | Path,
    onnx: bool = True,
    tfjs: bool = False,
    quantize: str | None = None,
    log: Callable[[str], None] = print,
    atol: float = ATOL,
) -> dict:
    """Write and validate a bundle (bundle.py describes the format); returns its manifest.

    Raises UserError (and leaves `out_dir` as it was) if ONNX Runtime differs from Keras by more than `atol`.
    """
    check_options(onnx, tfjs, quantize)
    from ..runtime.keras import KerasRuntime

    keras_model = export_model(model, config, vocab.num_classes)
    windows = probe_windows(KerasRuntime(model), vocab, config)
    probs, attention = keras_outputs(keras_model, windows)
    reference = {"windows": windows, "probs": probs, "attention": attention}
    results: dict[str, dict] = {}
    with atomic_directory(out_dir, owned=check_bundle_owned) as tmp:
        config.save(tmp / CONFIG)
        vocab.save(tmp / VOCAB)
        write_probe(tmp, windows, probs, attention)
        if onnx:
            results.update(_export_onnx(keras_model, vocab, config, tmp, reference, quantize, log, atol))
        if tfjs:
            write_tfjs = _tfjs_writer()

            tfjs_quantize = quantize if quantize in TFJS_QUANTIZE else None
            tfjs_result = write_tfjs(keras_model, config, tmp / "tfjs", quantize=tfjs_quantize)
            if isinstance(tfjs_result, dict):
                results["tfjs"] = tfjs_result
        manifest = write_manifest(tmp, config, vocab.num_classes, results)
    log(f"wrote bundle {out_dir} ({', '.join(sorted(manifest['files']))})")
    return manifest


def _tfjs_writer():
    """The TF.js exporter, imported only when asked for (it is a separate module with its own dependencies)."""
    try:
        from .tfjs import write_tfjs
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.tfjs_export":
            raise
        raise UserError(
            "TF.js export is not available in this installation; export with --onnx only"
        ) from None
    return write_tfjs


def _export_onnx(keras_model, vocab, config, folder: Path, reference: dict, quantize, log, atol) -> dict:
    from ..runtime.onnx import OnnxRuntime
    from .onnx import to_onnx

    to_onnx(keras_model, folder / ONNX)
    runtime = OnnxRuntime(folder / ONNX)
    result = parity(reference, *runtime.outputs(reference["windows"]))
    uniform = uniform_windows(vocab, config)
    result["uniform_random"] = {  # informational only: see validate.sampled_windows
        "max_abs_diff_probs": max_abs_diff(keras_outputs(keras_model, uniform)[0], runtime.probs(uniform)),
        "windows": len(uniform),
        "gated": False,
    }
    log(
        f"ONNX Runtime vs Keras: max abs diff {result['max_abs_diff']:.2e} "
        f"on {result['windows']} probe windows (atol {atol:g})"
    )
    result["atol"] = atol
    check(result, "the ONNX model", atol)
    results = {"onnx": result}
    if quantize == "int8":
        from .quantize import quantize_report

        report = quantize_report(folder, vocab, config)
        log(
            f"int8 ONNX: {report['size']:,} bytes (float {report['float_size']:,}), held-out bits/token "
            f"{report['bits_per_token']:.4f} vs {report['float_bits_per_token']:.4f} "
            f"({report['delta_bits_per_token']:+.4f})"
        )
        results["onnx_int8"] = report
    return results
