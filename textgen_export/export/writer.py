"""export_bundle: model → bundle directory, validated against the float64 reference before it replaces anything.

Everything is written into a temporary directory beside `out_dir` (atomic.atomic_directory) that replaces
`out_dir` only when every file is written and every check passed, so a failed or interrupted export leaves the
previous bundle (if any) intact and no partial bundle.  What is checked, and why so: validate.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..contract.bundle import CONFIG, ONNX, ONNX_TAIL, TFJS_DIR, VOCAB, check_bundle_owned, write_manifest
from ..contract.config import ModelConfig
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.atomic import atomic_directory
from .graph import export_model
from .options import TFJS_QUANTIZE, check_options
from .validate import (
    by_padding,
    check,
    compare,
    make_reference,
    max_abs_diff,
    probe_windows,
    summary,
    tolerance,
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
    atol: float | None = None,
    name: str | None = None,
    description: str | None = None,
) -> dict:
    """Write and validate a bundle (contract/bundle.py describes the format); returns its manifest.

    Raises UserError (and leaves `out_dir` as it was) if a runtime differs from the float64 reference by more
    than the tolerance (validate.tolerance: derived from Keras's own float32 error, or `atol`), or writes
    different greedy text. `name` (default: the config's) and `description` go into the manifest for people
    (the page shows them).
    """
    check_options(onnx, tfjs, quantize)
    tolerance(0.0, atol)  # a bad --atol fails before the slow part
    from ..keras.network import text_model
    from ..keras.oracle import OracleAdapter, model_weights
    from ..runtime.keras import KerasRuntime

    keras_runtime = KerasRuntime(model)
    float_weights = model_weights(text_model(model))
    oracle = OracleAdapter(float_weights, config)
    reference = make_reference(oracle, vocab, config, probe_windows(keras_runtime, vocab, config))
    keras_model = export_model(model, config, vocab.num_classes)
    keras_outputs = (
        keras_runtime.probs(reference["windows"]),  # the source model's text path, not the export variant
        np.asarray(keras_model(reference["windows"], training=False)[1]),
    )
    keras = compare(reference, keras_outputs, keras_runtime.probs(reference["greedy"]["windows"]), 1.0, "")
    keras_error = keras["max_abs_diff_probs"]
    bound, rule = tolerance(keras_error, atol)
    log(
        f"validating against the float64 reference: {keras['windows']} probe windows, "
        f"{keras['greedy']['tokens']} greedy tokens, tolerance {bound:.1e} ({rule})"
    )
    log(summary("Keras float32", keras, note="the baseline"))
    context = {"reference": reference, "keras_error": keras_error, "bound": bound, "rule": rule}
    results: dict[str, dict] = {"keras": {"max_abs_diff_probs": keras_error, "greedy": keras["greedy"]}}
    with atomic_directory(out_dir, owned=check_bundle_owned) as tmp:
        config.save(tmp / CONFIG)
        vocab.save(tmp / VOCAB)
        write_probe(tmp, reference, keras_error, bound, rule)
        if onnx:
            results.update(_export_onnx(keras_model, vocab, config, tmp, context, quantize, log))
            if not config.rnn_bidirectional:
                results.update(_export_tail(float_weights, vocab, config, tmp, context, log))
        if tfjs:
            tfjs_quantize = quantize if quantize in TFJS_QUANTIZE else None
            results.update(
                _export_tfjs(keras_model, float_weights, vocab, config, tmp, context, tfjs_quantize, log)
            )
        manifest = write_manifest(tmp, config, vocab.num_classes, results, name, description)
        if tfjs:
            from .node_check import check_in_node

            node = check_in_node(tmp, vocab, config, context, log)
            if node is not None:
                results["tfjs_node"] = node
                manifest = write_manifest(tmp, config, vocab.num_classes, results, name, description)
    log(f"wrote bundle {out_dir} ({', '.join(sorted(manifest['files']))})")
    return manifest


def _gate(what: str, outputs, greedy_probs, vocab, context: dict, log) -> dict:
    """Compare one runtime with the reference, print its line, fail (nothing replaced) if it is not faithful."""
    result = compare(context["reference"], outputs, greedy_probs, context["bound"], context["rule"])
    log(summary(what, result, context["keras_error"]))
    check(result, what, vocab)
    return result


def _export_onnx(keras_model, vocab, config, folder: Path, context: dict, quantize, log) -> dict:
    from ..runtime.onnx import OnnxRuntime
    from .onnx import to_onnx

    to_onnx(keras_model, folder / ONNX)
    runtime = OnnxRuntime(folder / ONNX)
    reference = context["reference"]
    result = _gate(
        "ONNX Runtime",
        runtime.outputs(reference["windows"]),
        runtime.probs(reference["greedy"]["windows"]),
        vocab,
        context,
        log,
    )
    uniform = uniform_windows(vocab, config)
    result["uniform_random"] = {  # informational only: see validate.sampled_windows
        "max_abs_diff_probs": max_abs_diff(keras_model(uniform, training=False)[0], runtime.probs(uniform)),
        "reference": "keras",
        "windows": len(uniform),
        "gated": False,
    }
    results = {"onnx": result}
    if quantize == "int8":
        from .quantize import quantize_report

        report = quantize_report(folder, vocab, config)
        int8 = OnnxRuntime(folder / report["file"])
        measured = compare(
            reference,
            int8.outputs(reference["windows"]),
            int8.probs(reference["greedy"]["windows"]),
            context["bound"],
            context["rule"],
        )
        report["max_abs_diff_probs"] = measured["max_abs_diff_probs"]
        report["greedy"] = measured["greedy"]
        log(summary("ONNX Runtime int8", measured, note="quantised: reported, not gated"))
        log(_size_line("int8 ONNX", report))
        results["onnx_int8"] = report
    return results


def _export_tail(float_weights, vocab, config, folder: Path, context: dict, log) -> dict:
    """model_tail.onnx (the padding fast path) from the weights and their float64 padding tables, gated like
    every runtime: each probe window through the fast path with its own padding skipped."""
    from ..keras.padding import padding_tables
    from ..runtime.onnx import OnnxRuntime
    from .tail import write_tail

    write_tail(float_weights, config, padding_tables(float_weights, config), folder / ONNX_TAIL)
    outputs = by_padding(OnnxRuntime(folder / ONNX, tail=folder / ONNX_TAIL).outputs)
    reference = context["reference"]
    greedy_probs = outputs(reference["greedy"]["windows"])[0]
    return {
        "onnx_tail": _gate(
            "ONNX Runtime fast path", outputs(reference["windows"]), greedy_probs, vocab, context, log
        )
    }


def _size_line(what: str, report: dict) -> str:
    return (
        f"    {what}: {report['size']:,} bytes (float {report['float_size']:,}), held-out bits/token "
        f"{report['bits_per_token']:.4f} vs {report['float_bits_per_token']:.4f} "
        f"({report['delta_bits_per_token']:+.4f})"
    )


def _export_tfjs(
    keras_model, float_weights, vocab, config, folder: Path, context: dict, quantize, log
) -> dict:
    """Write tfjs/, decode what was written exactly as TF.js will, and run the float64 pass on the decoded
    weights: unquantised shards must reproduce the reference (a wrong name, order or layout cannot); quantised
    ones must decode to within half a quantisation step of every weight, and report size and bits per token."""
    from ..keras.oracle import OracleAdapter
    from .quantize import bits_per_token, heldout_pairs
    from .tfjs import decode_model, write_tfjs

    summary_ = write_tfjs(keras_model, config, folder / TFJS_DIR, quantize=quantize)
    decoded, _ = decode_model(folder / TFJS_DIR, config)
    adapter = OracleAdapter(decoded, config)
    reference = context["reference"]
    outputs = adapter.outputs(reference["windows"])
    greedy_probs = adapter.probs(reference["greedy"]["windows"])
    if quantize is None:
        result = _gate("TF.js shards as decoded", outputs, greedy_probs, vocab, context, log)
        return {"tfjs": {**summary_, **result}}
    _check_quantised(decoded, float_weights, quantize, folder / TFJS_DIR)
    result = compare(reference, outputs, greedy_probs, context["bound"], context["rule"])
    log(summary(f"TF.js {quantize} shards as decoded", result, note="quantised: reported, not gated"))
    windows, targets = heldout_pairs(vocab, config)
    float_bpt = bits_per_token(OracleAdapter(float_weights, config), windows, targets)
    quant_bpt = bits_per_token(adapter, windows, targets)
    report = {
        **summary_,
        **result,
        "size": summary_["weight_bytes"],
        "float_size": int(sum(np.asarray(a).size for arrays in float_weights.values() for a in arrays) * 4),
        "heldout_tokens": int(len(targets)),
        "float_bits_per_token": float_bpt,
        "bits_per_token": quant_bpt,
        "delta_bits_per_token": quant_bpt - float_bpt,
    }
    log(_size_line(f"TF.js {quantize} weights", report))
    return {"tfjs": report}


def _check_quantised(decoded: dict, float_weights: dict, quantize: str, folder: Path) -> None:
    """Each decoded weight is its float32 value rounded as the format says, nothing else."""
    for layer, arrays in float_weights.items():
        for k, (value, got) in enumerate(zip(arrays, decoded[layer], strict=True)):
            value, got = np.asarray(value, np.float64), np.asarray(got, np.float64)
            if quantize == "float16":
                # float16 keeps 11 significant bits: half an ulp is 2^-11 relative (plus the subnormal step).
                bound = np.abs(value) * 2.0**-11 + 2.0**-25
            else:
                step = (value.max() - value.min()) / 255.0 if value.size else 0.0
                bound = np.full(value.shape, step / 2 * (1 + 1e-5) + 1e-7)
            if value.shape != got.shape or np.any(np.abs(got - value) > bound):
                raise UserError(
                    f"the {quantize} TF.js weights in {folder} do not decode to the model's weights (layer "
                    f"{layer!r}, array {k}); the export is broken, no bundle was written"
                )
