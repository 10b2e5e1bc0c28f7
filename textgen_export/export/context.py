"""The context head in a bundle: labels.json, model.context.onnx and tfjs/context.json, each checked for every
label against the float64 reference by the text path's rule (validate.py), and parity/context_probe.json so
`validate` can check them again without TensorFlow.

For each label, the reference is the float64 forward pass (keras/oracle.py) with that label's vector on the
text path's probe windows, plus the greedy path the head walks from each greedy prefix with that label. The
tolerance comes from Keras float32's own largest error over every label, as for the text path's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..contract.bundle import CONTEXT_PROBE, LABELS
from ..contract.config import ModelConfig, read_json
from ..contract.labels import ContextLabels
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.atomic import write_text
from ..sampling.adapter import ForLabels
from .validate import check, compare, make_reference, parse_probe, probe_record, summary, tolerance

# A runtime of the head, seen per label: label vector -> an adapter with probs(windows) and outputs(windows).
PerLabel = Callable[[np.ndarray], object]


def head_reference(oracle, keras_runtime, labels: ContextLabels, vocab, config, windows, atol=None) -> dict:
    """The float64 reference of the head for every label, Keras float32's error on it, and the bound."""
    references, keras_error = {}, 0.0
    for name in labels.names:
        vector = labels.vector(name)
        reference = make_reference(ForLabels(oracle, vector), vocab, config, windows)
        keras = ForLabels(keras_runtime, vector)
        result = compare(
            reference,
            keras.outputs(reference["windows"]),
            keras.probs(reference["greedy"]["windows"]),
            1.0,
            "",
        )
        keras_error = max(keras_error, result["max_abs_diff_probs"])
        references[name] = reference
    bound, rule = tolerance(keras_error, atol)
    return {
        "labels": labels,
        "references": references,
        "keras_error": keras_error,
        "bound": bound,
        "rule": rule,
    }


def compare_head(head: dict, per_label: PerLabel) -> dict:
    """Every label's comparison, and the worst of them (the one a report shows and a gate judges)."""
    results = {}
    for name, reference in head["references"].items():
        adapter = per_label(head["labels"].vector(name))
        outputs = adapter.outputs(reference["windows"])
        greedy = adapter.probs(reference["greedy"]["windows"])
        results[name] = compare(reference, outputs, greedy, head["bound"], head["rule"])
    failed = [name for name, r in results.items() if not r["passed"]]
    worst = failed[0] if failed else max(results, key=lambda name: results[name]["max_abs_diff"])
    return {**results[worst], "label": worst, "labels": len(results), "passed": not failed}


def gate_head(what: str, head: dict, per_label: PerLabel, vocab, log, fix: str | None = None) -> dict:
    """Compare a runtime's head with the reference for every label; print the worst; fail if any is off."""
    result = compare_head(head, per_label)
    what = f"{what}, context head (worst of {result['labels']} labels: {result['label']!r})"
    log(summary(what, result, head["keras_error"]))
    check(result, what, vocab, fix)
    return result


def report_head(what: str, head: dict, per_label: PerLabel, log, note: str) -> dict:
    """As `gate_head`, informational only (quantised weights)."""
    result = compare_head(head, per_label)
    log(summary(f"{what}, context head (worst label: {result['label']!r})", result, note=note))
    return result


def write_head(folder: Path, head: dict) -> None:
    """labels.json and the head's probe (every label's float64 reference) into the bundle being written."""
    head["labels"].save(folder / LABELS)
    record = {
        "about": "float64 reference of the context head for every label (see probe.json)",
        "labels": {
            name: probe_record(reference, head["keras_error"], head["bound"], head["rule"])
            for name, reference in head["references"].items()
        },
    }
    write_text(folder / CONTEXT_PROBE, json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")


def read_head(bundle, atol: float | None = None) -> dict:
    """The head's stored reference as `head_reference` returns it (TF-free), for `validate`."""
    labels = ContextLabels.load(bundle.path(LABELS))
    path = bundle.path(CONTEXT_PROBE)
    data = read_json(path, "context head probe")
    stored = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(stored, dict) or sorted(stored) != sorted(labels.names):
        raise UserError(f"{path} does not hold a reference for every label of {LABELS}; re-export the bundle")
    config: ModelConfig = bundle.config
    vocab: Vocabulary = bundle.vocab
    references = {
        name: parse_probe(stored[name], path, config.max_length, vocab.num_classes) for name in labels.names
    }
    first = references[labels.names[0]]
    bound, rule = (first["tolerance"], first["tolerance_rule"]) if atol is None else tolerance(0.0, atol)
    return {
        "labels": labels,
        "references": references,
        "keras_error": first["keras_max_diff"],
        "bound": bound,
        "rule": rule,
    }


def export_head(
    model, vocab, config, folder: Path, head: dict, onnx: bool, tfjs: bool, quantize, log
) -> dict:
    """Write the head's files into the bundle being written (`model`: the model with its head) and gate each
    runtime for every label; returns the parity figures for the manifest."""
    from ..contract.bundle import ONNX_CONTEXT, TFJS_DIR
    from ..keras.export_variant import export_context_model
    from ..keras.oracle import OracleAdapter

    write_head(folder, head)
    results = {}
    if onnx:
        from ..runtime.onnx import OnnxRuntime
        from .onnx import to_onnx

        to_onnx(export_context_model(model, config, vocab.num_classes), folder / ONNX_CONTEXT)
        runtime = OnnxRuntime(folder / ONNX_CONTEXT)
        results["onnx_context"] = gate_head("ONNX Runtime", head, lambda v: ForLabels(runtime, v), vocab, log)
    if tfjs:
        from .tfjs import CONTEXT_JSON, decode_model, write_tfjs_context

        written = write_tfjs_context(model, config, folder / TFJS_DIR, quantize)
        decoded, _ = decode_model(folder / TFJS_DIR, config, CONTEXT_JSON)
        oracle = OracleAdapter(decoded, config)
        what = "TF.js shards as decoded" if quantize is None else f"TF.js {quantize} shards as decoded"
        if quantize is None:
            result = gate_head(what, head, lambda v: ForLabels(oracle, v), vocab, log)
        else:
            result = report_head(
                what, head, lambda v: ForLabels(oracle, v), log, "quantised: reported, not gated"
            )
        results["tfjs_context"] = {**written, **result}
    return results


def validate_head(folder, atol: float | None = None) -> tuple[dict, dict[str, dict]]:
    """A bundle's context head, every label, against its stored float64 reference (TF-free): ONNX Runtime on
    model.context.onnx and the float64 pass on tfjs/context.json's weights as TF.js decodes them."""
    from ..contract.bundle import ONNX_CONTEXT, TFJS_CONTEXT, TFJS_DIR, Bundle
    from ..keras.oracle import OracleAdapter
    from ..runtime.bundle import open_model
    from .tfjs import CONTEXT_JSON, decode_model

    bundle = Bundle(folder)
    head = read_head(bundle, atol)
    results: dict[str, dict] = {}
    if ONNX_CONTEXT in bundle.files:
        runtime = open_model(bundle, ONNX_CONTEXT)
        results[ONNX_CONTEXT] = compare_head(head, lambda v: ForLabels(runtime, v))
    if TFJS_CONTEXT in bundle.files:
        decoded, quantization = decode_model(
            bundle.path(TFJS_CONTEXT).parent,
            bundle.config,
            CONTEXT_JSON,
            read=lambda shard: bundle.read(f"{TFJS_DIR}/{shard}"),
        )
        oracle = OracleAdapter(decoded, bundle.config)
        results[TFJS_CONTEXT] = {
            **compare_head(head, lambda v: ForLabels(oracle, v)),
            "quantization": quantization,
        }
    return head, results
